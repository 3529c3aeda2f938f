from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "visits"
    label = "visits"
    verbose_name = _("Store visits")

    def ready(self) -> None:
        # `visits.stop`: registers the attempt kind ``wms_stop`` in every process (web,
        # worker, beat). The rest: the offers' figures on the store dashboard and on /metrics;
        # fulfilment and the core may not import this app (ARCHITECTURE.md rule 1), so it
        # hands them its own.
        from fulfillment.cockpit.panels import dashboard_panel_register
        from oms.core.operations import metrics_collector_register
        from visits import stop  # noqa: F401
        from visits.cockpit.dashboard import PANEL_TEMPLATE, offers_panel
        from visits.metrics import PICKUP_OFFER_COLLECTOR

        dashboard_panel_register(PANEL_TEMPLATE, offers_panel)
        metrics_collector_register(PICKUP_OFFER_COLLECTOR)
