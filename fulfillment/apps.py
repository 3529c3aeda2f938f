from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    label = "fulfillment"
    verbose_name = _("Fulfilment")

    def ready(self) -> None:
        # Importing the handler modules registers their event handlers.
        from fulfillment import handlers  # noqa: F401
        from fulfillment.notifications import handlers as notification_handlers  # noqa: F401
