"""The finance endpoints under /api/v1/ (included by oms/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from finance.api import views

urlpatterns: list[URLPattern] = [
    path("open-items", views.OpenItemsView.as_view(), name="open-items"),
    path("bank-transactions", views.BankTransactionsView.as_view(), name="bank-transactions"),
]
