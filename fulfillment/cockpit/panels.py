"""Panels other apps add to the store dashboard. The apps above fulfilment (visits, ...) may not
be imported here (ARCHITECTURE.md rule 1), so each registers its panel when Django starts
(its `AppConfig.ready`): a template and a function computing the panel's context for a store at
a moment. The dashboard renders every registered panel below its own figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from inventory.models import Location

PanelContext = Callable[[Location, datetime], dict[str, Any]]


@dataclass(frozen=True)
class DashboardPanel:
    template: str
    context: PanelContext


# Keyed by template: `ready()` may run more than once (tests, management commands), a panel
# is still shown once.
_panels: dict[str, DashboardPanel] = {}


def dashboard_panel_register(template: str, context: PanelContext) -> None:
    """Show `template` on every store's dashboard, with `context(store, now)`."""
    _panels[template] = DashboardPanel(template=template, context=context)


def dashboard_panels() -> list[DashboardPanel]:
    return list(_panels.values())


def dashboard_panels_render(request: HttpRequest, store: Location,
                            now: datetime) -> list[SafeString]:
    """Each panel's HTML, in the order they were registered. A panel sees its own context,
    the store and the moment, and the request's (user, permissions, language); nothing of the
    dashboard's, so no panel depends on another's names."""
    return [render_to_string(panel.template, {**panel.context(store, now), "store": store,
                                              "now": now}, request)
            for panel in dashboard_panels()]
