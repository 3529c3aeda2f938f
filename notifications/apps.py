from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    label = "notifications"
    verbose_name = _("Customer notifications")

    def ready(self) -> None:
        # Importing the handler module registers its event handlers; Celery's autodiscovery
        # finds `notifications.tasks`.
        from notifications import handlers  # noqa: F401
