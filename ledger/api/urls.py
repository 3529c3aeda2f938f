"""The ledger endpoints under /api/v1/ (included by oms/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from ledger.api import views

urlpatterns: list[URLPattern] = [
    path("ledger/entries", views.LedgerEntriesView.as_view(), name="ledger-entries"),
    path("ledger/balances", views.LedgerBalancesView.as_view(), name="ledger-balances"),
    path("ledger/export", views.LedgerExportView.as_view(), name="ledger-export"),
]
