from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    label = "fulfillment"
    verbose_name = _("Fulfilment")

    def ready(self) -> None:
        from fulfillment.notifications import handlers  # noqa: F401  (registers event handlers)
