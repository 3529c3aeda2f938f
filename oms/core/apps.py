from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "oms.core"
    label = "core"
    verbose_name = _("Core: API clients, events and webhooks")

    def ready(self) -> None:
        # Event handlers register themselves on import; importing here makes the registry complete
        # in every process (web, worker, beat) before the first event is relayed.
        from oms.core.api import schema  # noqa: F401  (OpenAPI extensions)
        from oms.core.webhooks import handlers  # noqa: F401
