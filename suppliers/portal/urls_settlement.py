"""The supplier portal's settlement pages (included by suppliers/portal/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from suppliers.portal import settlement

urlpatterns: list[URLPattern] = [
    path("statements/", settlement.statements, name="statements"),
    path("statements/<str:month>.csv", settlement.statement_download,
         name="statement_download"),
]
