"""The supplier portal under /supplier/ (oms/urls.py): its own pages and templates, not the
Django admin. One module of routes per area, each with its views beside it."""

from __future__ import annotations

from suppliers.portal import (
    urls_auth,
    urls_orders,
    urls_performance,
    urls_returns,
    urls_settlement,
    urls_stock,
)

app_name = "supplier_portal"

urlpatterns = [
    *urls_auth.urlpatterns,
    *urls_orders.urlpatterns,
    *urls_stock.urlpatterns,
    *urls_returns.urlpatterns,
    *urls_performance.urlpatterns,
    *urls_settlement.urlpatterns,
]
