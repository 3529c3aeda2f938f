from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        # Event handlers register themselves on import; importing here makes the registry complete
        # in every process (web, worker, beat) before the first event is relayed.
        from payments import handlers  # noqa: F401
