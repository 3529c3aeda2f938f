"""Shared-kernel data: API clients, idempotency keys, the outbox, webhook subscriptions."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class ClientKind(models.TextChoices):
    WEBSHOP = "webshop", _("Webshop")
    POS = "pos", _("Point of sale")
    APP = "app", _("App")
    MARKETPLACE = "marketplace", _("Marketplace")
    WMS = "wms", _("Warehouse management system")
    ERP = "erp", _("ERP")
    PIM = "pim", _("PIM")
    PSP = "psp", _("Payment service provider")
    SUPPLIER = "supplier", _("Dropship supplier")
    FINANCE = "finance", _("Finance")
    STAFF = "staff", _("Staff / back office")
    # Read every customer profile (API.md, Customers); the CRM also records consents.
    CRM = "crm", _("CRM")
    BI = "bi", _("Business intelligence")


SELLING_KINDS = frozenset(
    {ClientKind.WEBSHOP, ClientKind.POS, ClientKind.APP, ClientKind.MARKETPLACE}
)


class ApiClient(models.Model):
    """A machine client of the API. Its token is stored only as a SHA-256 hash."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ClientKind.choices)
    channel = models.CharField(_("sales channel"), max_length=50, blank=True, default="")
    # Scope is kept as location codes, not a foreign key: locations live in `inventory`, a layer
    # above this one, and the inventory app resolves and enforces the scope.
    location_code = models.CharField(_("confined to location"), max_length=50, blank=True,
                                     default="")
    supplier_code = models.CharField(_("confined to supplier"), max_length=50, blank=True,
                                     default="")
    token_prefix = models.CharField(_("token prefix"), max_length=16, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in ClientKind]),
                name="api_client_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    # DRF treats `request.user` as the authenticated principal; these make a client behave as one.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def scope_code(self) -> str:
        return self.location_code or self.supplier_code


class IdempotencyKey(models.Model):
    """The stored outcome of a POST made with an ``Idempotency-Key`` (API.md, rule 7)."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    response_content_type = models.CharField(max_length=100)
    # The few headers a replay repeats (`Retry-After`, `Location`); see oms.core.idempotency.
    # A database default too: processes of the previous release, still running during a deploy,
    # insert keys without this column.
    response_headers = models.JSONField(
        default=dict, db_default=models.Value({}, output_field=models.JSONField()), blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_key_per_client"),
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.response_status}"


class OutboxEvent(models.Model):
    """A domain event, written in the same transaction as the change it describes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    topic = models.CharField(max_length=100)
    aggregate_type = models.CharField(max_length=50)
    aggregate_id = models.CharField(max_length=100)
    payload = models.JSONField()
    created_at = models.DateTimeField(db_index=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        # Every event of every write maintains these, cart holds and orders included: only
        # what is read. The relay reads the unpublished ones oldest first; events of some
        # topics around a time are read by the delay notice (and the cockpit's topic filter).
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_unpublished",
                condition=models.Q(published_at__isnull=True),
            ),
            models.Index(fields=["topic", "created_at"], name="outbox_by_topic"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.aggregate_type}:{self.aggregate_id}"


class ProcessedEvent(models.Model):
    """Marks that a handler has processed an event, so a redelivered event is a no-op."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE)
    handler = models.CharField(max_length=150)
    processed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "handler"], name="processed_once_per_handler"),
        ]

    def __str__(self) -> str:
        return f"{self.handler} ✓ {self.event_id}"


class WebhookSubscription(models.Model):
    url = models.URLField(_("URL"), max_length=500)
    topics = models.JSONField(_("topics"), help_text=_('Event topics, or ["*"] for all.'))
    secret = models.CharField(max_length=100, editable=False)
    owner = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="subscriptions")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.url

    def wants(self, topic: str) -> bool:
        return "*" in self.topics or topic in self.topics


class WebhookDelivery(models.Model):
    """One event to one subscription, sent through the attempt mechanism (kind ``webhook``,
    `oms.core.attempts`): its status, tries and next attempt are there."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="one_delivery_per_event_and_subscription"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.topic} → {self.subscription.url}"


class HandlerFailure(models.Model):
    """An event handler that kept failing after all its retries: the dead letter of the event
    bus, shown in the cockpit with a retry action, so no side effect is silently lost."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="failures")
    handler = models.CharField(_("handler"), max_length=150)
    error = models.TextField(_("error"))
    failed_at = models.DateTimeField(_("failed at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("failed event handler")
        verbose_name_plural = _("failed event handlers")
        constraints = [
            models.UniqueConstraint(fields=["event", "handler"], name="one_failure_per_handler"),
        ]

    def __str__(self) -> str:
        return f"{self.handler} ✗ {self.event_id}"


# The attempt mechanism's tables belong to this app (oms/core/attempts/).
from oms.core.attempts.models import Attempt, AttemptTry  # noqa: E402,F401
