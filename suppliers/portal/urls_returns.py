"""The supplier portal's returns pages (included by suppliers/portal/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from suppliers.portal import returns

urlpatterns: list[URLPattern] = [
    path("returns/", returns.returns_list, name="returns"),
    path("returns/<int:pk>/", returns.return_detail, name="return_detail"),
]
