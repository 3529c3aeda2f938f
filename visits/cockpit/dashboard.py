"""The pickup offers' panel on the store dashboard (registered with
fulfillment.cockpit.panels in `VisitsConfig.ready`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inventory.models import Location
from visits.figures import FIGURE_DAYS, offer_figures

PANEL_TEMPLATE = "visits/cockpit/_dashboard_panel.html"


def offers_panel(store: Location, now: datetime) -> dict[str, Any]:
    return {"offer_figures": offer_figures(store, now=now), "offer_days": FIGURE_DAYS}
