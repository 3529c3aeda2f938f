"""The supplier portal's stock pages (included by suppliers/portal/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from suppliers.portal import stock

urlpatterns: list[URLPattern] = [
    path("stock/", stock.stock, name="stock"),
    path("stock/upload/", stock.stock_upload, name="stock_upload"),
    path("stock/upload/<uuid:upload_id>/", stock.stock_upload_report,
         name="stock_upload_report"),
    path("stock/upload/<uuid:upload_id>/progress", stock.stock_upload_progress_view,
         name="stock_upload_progress"),
    path("stock/upload/<uuid:upload_id>/apply", stock.stock_upload_apply,
         name="stock_upload_apply"),
]
