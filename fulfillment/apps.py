from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    label = "fulfillment"
    verbose_name = _("Fulfilment")

    def ready(self) -> None:
        # Importing the handler module registers its event handlers; importing
        # `pickup_tasks` registers the pickup sweeps' Celery tasks (autodiscovery finds only
        # `fulfillment.tasks`).
        from fulfillment import handlers, pickup_tasks  # noqa: F401
