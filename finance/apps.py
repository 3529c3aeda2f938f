from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "finance"
    label = "finance"
    verbose_name = _("Finance")

    def ready(self) -> None:
        # Event handlers register themselves on import: complete in every process (web,
        # worker, beat) before the first event is relayed.
        from finance import handlers  # noqa: F401
