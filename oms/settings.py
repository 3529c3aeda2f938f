"""Settings, configured only from environment variables.

Without ``DATABASE_URL`` and ``REDIS_URL`` the service runs in *embedded demo mode*: the
PostgreSQL server that ``make demo`` starts from a Python wheel under ``var/pgdata`` (oms/demo.py)
and Celery tasks executed in-process, so a newcomer needs nothing installed. With them it uses
the PostgreSQL and Redis they name, and a real Celery worker and beat.
"""

import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from oms import demo

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
DEMO_MODE = not DATABASE_URL

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or DEMO_MODE or os.environ.get("PYTEST_VERSION")):
        raise RuntimeError("SECRET_KEY must be set when DATABASE_URL points at a real database")
    SECRET_KEY = "insecure-demo-key-do-not-use-in-production"
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oms.core",
    "oms.catalog",
    "inventory",
    "oms.orders",
    "payments",
    "fulfillment",
    "returns",
    "visits",
    "ledger",
    "finance",
    "notifications",
    "suppliers",
    "crm_sync",
]

MIDDLEWARE = [
    "oms.core.observability.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oms.core.request_limits.RequestLimitsMiddleware",
    "oms.core.idempotency.IdempotencyMiddleware",
    "oms.core.atomic_writes.AtomicWritesMiddleware",
]

ROOT_URLCONF = "oms.urls"
WSGI_APPLICATION = "oms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project-wide overrides of the admin's templates (the cockpit's header with its
        # language switcher, the HTML error pages): searched before the apps' templates.
        "DIRS": [BASE_DIR / "oms" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Demo mode connects to the embedded server under var/pgdata: only its postmaster.pid is read
# here (oms/demo.py), the server is started by `make demo`, never by importing settings.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL or demo.database_url(),
                                              conn_max_age=60)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Parameters travel apart from the SQL text, so psycopg can keep a statement it has sent
# DATABASE_PREPARE_THRESHOLD times prepared on its connection: PostgreSQL then parses and
# plans it once instead of on every call (order intake and the hot cart hold run the same
# few dozen statements all day). "off" for a pooler that cannot hold prepared statements
# (PgBouncer in transaction mode before 1.21).
_prepare = os.environ.get("DATABASE_PREPARE_THRESHOLD", "5").strip().lower()
if _prepare != "off" and not _prepare.isdigit():
    raise RuntimeError("DATABASE_PREPARE_THRESHOLD must be a whole number of runs (0 prepares "
                       f"every statement at once) or 'off', not {_prepare!r}")
DATABASES["default"]["OPTIONS"] = {
    **DATABASES["default"].get("OPTIONS", {}),
    "server_side_binding": True,
    "prepare_threshold": None if _prepare == "off" else int(_prepare),
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "oms" / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True
# Dates as staff write them: 07.12.2026 14:03 in German (Django's own German formats spell the
# month out, too wide for the cockpit's tables); English keeps Django's "Dec. 7, 2026, 2:03 p.m.".
FORMAT_MODULE_PATH = ["oms.formats"]
# Opt into Django 6.0's default now (URLs typed without a scheme are https): the form fields stop
# warning. The transitional setting is itself deprecated, which Django says at every start; that
# one message is silenced here. Both lines go with the upgrade to Django 6.0.
FORMS_URLFIELD_ASSUME_HTTPS = True
warnings.filterwarnings("ignore", message="The FORMS_URLFIELD_ASSUME_HTTPS transitional setting",
                        category=DeprecationWarning)

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root
WHITENOISE_USE_FINDERS = True

# The API is JSON only. A body may have API_MAX_BODY_BYTES, or API_BULK_MAX_BODY_BYTES on the
# bulk feeds (10,000 products, 50,000 stock levels); larger ones answer 413 before they are read
# (oms.core.request_limits). Django's own bound stays above both for every other page.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(1024 * 1024)))
API_BULK_MAX_BODY_BYTES = int(os.environ.get("API_BULK_MAX_BODY_BYTES",
                                          str(32 * 1024 * 1024)))
# Deeper JSON is refused by the parser (400 parse_error); no payload of the API nests beyond 8.
API_MAX_JSON_DEPTH = 32
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = None

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["oms.core.auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["oms.core.permissions.IsApiClient"],
    "DEFAULT_PARSER_CLASSES": ["oms.core.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["oms.core.api.renderers.FastJSONRenderer"],
    # drf-spectacular's, adding what every operation answers (oms/core/api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "oms.core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "oms.core.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_PAGINATION_CLASS": "oms.core.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Omnichannel OMS API",
    "DESCRIPTION": "Orders, stock with reservations, fulfilment, returns and payments.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `kind` or `status`; name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "PspEventTypeEnum": "payments.states.PspEventType",
        "LocationKindEnum": "inventory.models.LocationKind",
        "ClientKindEnum": "oms.core.models.ClientKind",
        "FulfillmentKindEnum": "fulfillment.states.FulfillmentKind",
        "MediaKindEnum": ["image", "video", "document"],
    },
}

# --- Celery -----------------------------------------------------------------------------------
# Shared by every process (throttles count across gunicorn workers); in-process in demo mode.
# It shares the broker's Redis database: never call cache.clear(), which would flush the queues.
CACHES = {"default": (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
     "KEY_PREFIX": "oms"} if REDIS_URL else
    {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"})}
# (kombu warns about an in-memory broker URL without a host name.)
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL or env_bool("CELERY_TASK_ALWAYS_EAGER")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# "priority": a worker always takes from the first non-empty queue in CELERY_TASK_QUEUES, so
# handing fulfilment orders to warehouses never waits behind a backlog of event handlers.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "queue_order_strategy": "priority"}
CELERY_TASK_QUEUES = (Queue("dispatch"), Queue("celery"))
CELERY_TASK_DEFAULT_QUEUE = "celery"
# A parcel stop waits for nothing either: the customer is standing in the store.
CELERY_TASK_ROUTES = {"fulfillment.tasks.dispatch_fulfillment": {"queue": "dispatch"},
                      "visits.tasks.stop_shipment": {"queue": "dispatch"}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes every database connection before and after every task unless this
# is set: a new PostgreSQL backend per task, several ms of CPU, three times per order. With it,
# the fixup closes them only every 500 tasks (it counts the calls before and after each task),
# and `oms.celery` applies Django's own per-request rules after each task instead (CONN_MAX_AGE,
# health check after an error).
CELERY_DB_REUSE_MAX = 500
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "relay-outbox": {"task": "oms.core.tasks.relay_outbox", "schedule": 5.0},
    # Every outbound call (WMS dispatch, webhook, notification, PSP capture) that is due
    # again or whose worker died: one sweep (oms.core.attempts).
    "requeue-due-attempts": {"task": "oms.core.tasks.requeue_due_attempts", "schedule": 10.0},
    "expire-cart-holds": {"task": "inventory.tasks.expire_cart_holds", "schedule": 20.0},
    "expire-pickups": {"task": "fulfillment.tasks.expire_due_pickups", "schedule": 60.0},
    "remind-pickups": {"task": "fulfillment.tasks.remind_due_pickups", "schedule": 60.0},
    "expire-pickup-offers": {"task": "visits.tasks.expire_pickup_offers", "schedule": 60.0},
    "sweep-browsing-signals": {"task": "visits.tasks.sweep_browsing_signals",
                               "schedule": timedelta(hours=1)},
    "cancel-stale-returns": {"task": "returns.sweep_tasks.cancel_stale_returns",
                             "schedule": timedelta(minutes=15)},
    "sweep-idempotency-keys": {
        "task": "oms.core.tasks.sweep_idempotency_keys",
        "schedule": timedelta(hours=1),
    },
    # Open items falling due and dunning levels whose day has come (finance.services.dunning);
    # the steps are calendar days, so an hourly sweep is on time.
    "sweep-dunning": {"task": "finance.tasks.sweep_dunning", "schedule": timedelta(hours=1)},
}

# --- Domain settings ------------------------------------------------------------------------
# A registered return whose goods never came is cancelled (its units free, a replacement's
# reservation released): an exchange reserved from a store's shelf after a day, anything else
# after the days below (a label's usual validity).
RETURN_REQUESTED_DAYS = int(os.environ.get("RETURN_REQUESTED_DAYS", "30"))
# Store visits (visits): the same customer at the same store within the window is one visit;
# an offer to take goods now lasts the TTL; partial offers take the lines the store has when it
# cannot serve the whole parcel.
STORE_VISIT_WINDOW = timedelta(minutes=int(os.environ.get("STORE_VISIT_WINDOW_MINUTES", "30")))
PICKUP_OFFER_TTL = timedelta(minutes=int(os.environ.get("PICKUP_OFFER_TTL_MINUTES", "20")))
PICKUP_OFFER_PARTIAL = env_bool("PICKUP_OFFER_PARTIAL", default=True)
# What a customer looked at online is kept this long (then swept) and shown at a visit.
BROWSING_SIGNAL_AGE = timedelta(days=int(os.environ.get("BROWSING_SIGNAL_DAYS", "30")))

# The ledger (ledger/chart.py): SKR03 or SKR04, and account numbers per posting role as a JSON
# object, e.g. {"receivables": "10000", "cash:ST-BER": "1010"}.
LEDGER_CHART = os.environ.get("LEDGER_CHART", "SKR03")
LEDGER_ACCOUNTS = os.environ.get("LEDGER_ACCOUNTS", "{}")
# The DATEV export's header (EXTF Buchungsstapel): advisor and client numbers, the fiscal year's
# first day (MMDD) and the length of the general ledger account numbers.
DATEV_ADVISOR_NUMBER = os.environ.get("DATEV_ADVISOR_NUMBER", "1001")
DATEV_CLIENT_NUMBER = os.environ.get("DATEV_CLIENT_NUMBER", "1")
DATEV_FISCAL_YEAR_START = os.environ.get("DATEV_FISCAL_YEAR_START", "0101")
DATEV_ACCOUNT_LENGTH = int(os.environ.get("DATEV_ACCOUNT_LENGTH", "4"))
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
OUTBOX_BATCH_SIZE = 500
# How long "a relay run is queued" holds back further kicks (oms/core/relay_wakeup.py): the
# longest a lost run delays events when no beat sweep (which clears it, every 5 s) is running.
OUTBOX_RELAY_MARK_SECONDS = 30
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "8"))
WEBHOOK_BACKOFF_BASE_SECONDS = float(os.environ.get("WEBHOOK_BACKOFF_BASE_SECONDS", "30"))
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
# Outbound URLs (webhook subscriptions, WMS endpoints; oms/core/outbound.py) must reach public
# addresses. Development, the demo and the test suite (receivers on 127.0.0.1) lift the address
# checks; the http(s)-only rule always holds.
OUTBOUND_ALLOW_PRIVATE_NETWORKS = env_bool(
    "OUTBOUND_ALLOW_PRIVATE_NETWORKS",
    default=DEBUG or DEMO_MODE or bool(os.environ.get("PYTEST_VERSION")),
)
SNAPSHOT_MAX_LEVELS = 50_000
PRODUCTS_BULK_MAX = 10_000
AVAILABILITY_MAX_SKUS = 100
AVAILABILITY_DEFAULT_RADIUS_KM = 25.0
WMS_GATEWAY = os.environ.get("WMS_GATEWAY", "fulfillment.adapters.wms.HttpWarehouseGateway")
WMS_TIMEOUT_SECONDS = float(os.environ.get("WMS_TIMEOUT_SECONDS", "10"))
WMS_MAX_ATTEMPTS = int(os.environ.get("WMS_MAX_ATTEMPTS", "10"))
WMS_BACKOFF_BASE_SECONDS = float(os.environ.get("WMS_BACKOFF_BASE_SECONDS", "15"))
# A claimed dispatch that has not reported back within this lease is due again: the sweep
# re-queues it (its worker died mid-flight).
WMS_DISPATCH_LEASE_SECONDS = int(os.environ.get("WMS_DISPATCH_LEASE_SECONDS", "30"))
# Click-and-collect (README "Click-and-collect"): the pickup waits Location.pickup_hold_days.
PICKUP_REMINDER_BEFORE = timedelta(days=1)
# What the customer is told when a short pick is restocked from a warehouse.
TRANSFER_LEAD_TIME = timedelta(days=int(os.environ.get("TRANSFER_LEAD_DAYS", "2")))
PICKUP_CODE_MAX_ATTEMPTS = 5
PICKUP_CODE_LOCKOUT = timedelta(minutes=15)
# Looking a pickup up by its code tries the code against every ready pickup of the store, so
# these lookups are counted per client (or cockpit user) to keep them from guessing codes.
PICKUP_CODE_SEARCHES_PER_MINUTE = int(os.environ.get("PICKUP_CODE_SEARCHES_PER_MINUTE", "30"))
RESERVATION_DEFAULT_TTL_SECONDS = 15 * 60
RESERVATION_MAX_TTL_SECONDS = int(os.environ.get("RESERVATION_MAX_TTL_SECONDS", str(2 * 3600)))
PSP_API_URL = os.environ.get("PSP_API_URL", "")
PSP_API_KEY = os.environ.get("PSP_API_KEY", "")
# The HTTP adapter once PSP_API_URL names a PSP. Until then the demo and the docker stack
# (PSP_FAKE_UNTIL_CONFIGURED=true in docker/compose.yml) capture against the in-process fake; a
# production deployment without a PSP keeps the HTTP adapter, whose captures then fail visibly
# ("PSP_API_URL is not set") instead of pretending that money moved.
PSP_ADAPTER = os.environ.get("PSP_ADAPTER") or (
    "payments.adapters.psp.fake"
    if not PSP_API_URL and (DEMO_MODE or env_bool("PSP_FAKE_UNTIL_CONFIGURED"))
    else "payments.adapters.psp.HttpPaymentServiceProvider")
PSP_TIMEOUT_SECONDS = float(os.environ.get("PSP_TIMEOUT_SECONDS", "10"))
PSP_CAPTURE_MAX_ATTEMPTS = int(os.environ.get("PSP_CAPTURE_MAX_ATTEMPTS", "10"))
PSP_CAPTURE_BACKOFF_BASE_SECONDS = float(os.environ.get("PSP_CAPTURE_BACKOFF_BASE_SECONDS", "60"))
PSP_REFUND_MAX_ATTEMPTS = int(os.environ.get("PSP_REFUND_MAX_ATTEMPTS", "10"))
PSP_REFUND_BACKOFF_BASE_SECONDS = float(os.environ.get("PSP_REFUND_BACKOFF_BASE_SECONDS", "60"))
# Return labels for returns by mail (returns.adapters.carrier): the HTTP adapter once
# CARRIER_API_URL names the carrier's label service; the demo and the docker stack use the fake
# until then, like the PSP.
CARRIER_API_URL = os.environ.get("CARRIER_API_URL", "")
CARRIER_API_KEY = os.environ.get("CARRIER_API_KEY", "")
CARRIER_TIMEOUT_SECONDS = float(os.environ.get("CARRIER_TIMEOUT_SECONDS", "10"))
RETURN_LABEL_ADAPTER = os.environ.get("RETURN_LABEL_ADAPTER") or (
    "returns.adapters.carrier.fake"
    if not CARRIER_API_URL and (DEMO_MODE or env_bool("PSP_FAKE_UNTIL_CONFIGURED"))
    else "returns.adapters.carrier.HttpReturnLabelCarrier")
RETURN_LABEL_MAX_ATTEMPTS = int(os.environ.get("RETURN_LABEL_MAX_ATTEMPTS", "8"))
RETURN_LABEL_BACKOFF_BASE_SECONDS = float(os.environ.get("RETURN_LABEL_BACKOFF_BASE_SECONDS",
                                                         "60"))
# Customer notifications (the `notifications` app; README "Customer notifications").
NOTIFICATION_CHANNELS = [c.strip() for c in os.environ.get("NOTIFICATION_CHANNELS",
                                                           "email,push").split(",") if c.strip()]
NOTIFICATION_NOTIFIERS = {
    "email": "notifications.adapters.EmailNotifier",
    "push": "notifications.adapters.AppPushNotifier",
}
NOTIFICATION_LANGUAGES = ["de", "en"]  # the languages with templates
NOTIFICATION_FALLBACK_LANGUAGE = "en"
NOTIFICATION_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATION_MAX_ATTEMPTS", "8"))
NOTIFICATION_BACKOFF_BASE_SECONDS = float(os.environ.get("NOTIFICATION_BACKOFF_BASE_SECONDS",
                                                         "60"))
NOTIFICATION_INCIDENT_WINDOW = timedelta(minutes=5)
NOTIFICATION_SHOP_NAME = os.environ.get("NOTIFICATION_SHOP_NAME", "")
# Optional links; "{number}" and "{language}" are filled in, e.g. https://shop.example/o/{number}
NOTIFICATION_ORDER_URL = os.environ.get("NOTIFICATION_ORDER_URL", "")
NOTIFICATION_FEEDBACK_URL = os.environ.get("NOTIFICATION_FEEDBACK_URL", "")
NOTIFICATION_REPLY_TO = os.environ.get("NOTIFICATION_REPLY_TO", "")
# Tracking pages per carrier ("{tracking_number}", "{language}"); other carriers get no link.
CARRIER_TRACKING_URLS = {
    "dhl": "https://www.dhl.de/{language}/privatkunden/pakete-empfangen/verfolgen.html"
           "?piececode={tracking_number}",
    "dpd": "https://tracking.dpd.de/status/de_DE/parcel/{tracking_number}",
    "hermes": "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation"
              "#{tracking_number}",
    "ups": "https://www.ups.com/track?tracknum={tracking_number}",
    "gls": "https://gls-group.com/DE/de/paketverfolgung?match={tracking_number}",
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "webmaster@localhost")
# The demo prints one line per e-mail (oms/core/mail.py), not the whole MIME message.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "oms.core.mail.SummaryConsoleEmailBackend"
                               if DEMO_MODE else "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))

# --- Logging: one JSON object per line, carrying the request id --------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "oms.core.observability.RequestIdFilter"}},
    "formatters": {"json": {"()": "oms.core.observability.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
    },
}

# --- Finance --------------------------------------------------------------------------------
# Days from the invoice date (goods left) to the due date of an open item, for sales channels
# without payment terms of their own (cockpit: Finance → Payment terms).
PAYMENT_TERMS_DAYS = int(os.environ.get("PAYMENT_TERMS_DAYS", "14"))
# The currency of the bank account bank transactions arrive on; another is refused (422).
FINANCE_BANK_CURRENCY = os.environ.get("FINANCE_BANK_CURRENCY", "EUR")

# Suppliers
# --- Suppliers: e-mails to dropship suppliers (suppliers/notices.py) --------------------------
# The portal's public address, for links in e-mails to suppliers ("" leaves the links out).
SUPPLIER_PORTAL_URL = os.environ.get("SUPPLIER_PORTAL_URL", "")
# Staff told when a supplier lets an order wait, unless the supplier names its own
# `escalation_email`; in this language (staff are in Germany).
SUPPLIER_ESCALATION_EMAIL = os.environ.get("SUPPLIER_ESCALATION_EMAIL", "")
SUPPLIER_STAFF_LANGUAGE = os.environ.get("SUPPLIER_STAFF_LANGUAGE", "de")
# The daily digest of new orders goes out from this hour (local time) for the day before; a
# sweep that missed days catches up on this many.
SUPPLIER_DIGEST_HOUR = int(os.environ.get("SUPPLIER_DIGEST_HOUR", "7"))
SUPPLIER_DIGEST_DAYS = int(os.environ.get("SUPPLIER_DIGEST_DAYS", "3"))
# At most this many reminders (and as many escalations) per supplier and sweep; the next sweep
# takes the rest.
SUPPLIER_SWEEP_BATCH = int(os.environ.get("SUPPLIER_SWEEP_BATCH", "500"))
CELERY_BEAT_SCHEDULE.update({
    # Both sweeps are idempotent (one e-mail per fulfilment and kind, per supplier and day), so
    # they run often and catch up after an outage.
    "supplier-acknowledge-reminders": {"task": "suppliers.tasks.send_acknowledge_reminders",
                                       "schedule": timedelta(minutes=10)},
    "supplier-order-digests": {"task": "suppliers.tasks.send_order_digests",
                               "schedule": timedelta(minutes=30)},
})
