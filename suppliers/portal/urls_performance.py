"""The supplier portal's performance pages (included by suppliers/portal/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from suppliers.portal import performance

urlpatterns: list[URLPattern] = [
    path("performance/", performance.performance, name="performance"),
]
