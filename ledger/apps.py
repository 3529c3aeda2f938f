from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "ledger"
    label = "ledger"
    verbose_name = _("Ledger")

    def ready(self) -> None:
        # The posting rules are event handlers, registered on import: importing them here
        # makes the registry complete in every process (web, worker, beat) before the first
        # event is relayed.
        from ledger import handlers  # noqa: F401
