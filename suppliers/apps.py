from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuppliersConfig(AppConfig):
    name = "suppliers"
    label = "suppliers"
    verbose_name = _("Dropship suppliers")

    def ready(self) -> None:
        # Importing the handler modules registers their event handlers (e-mails to suppliers,
        # settlement bookings); Celery's autodiscovery finds `suppliers.tasks`.
        from suppliers import handlers, settlement_handlers  # noqa: F401
