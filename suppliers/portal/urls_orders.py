"""The supplier portal's orders pages (included by suppliers/portal/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from suppliers.portal import orders

urlpatterns: list[URLPattern] = [
    path("orders/new/", orders.orders_new, name="orders_new"),
    path("orders/to-ship/", orders.orders_to_ship, name="orders_to_ship"),
    path("orders/shipped/", orders.orders_shipped, name="orders_shipped"),
    path("orders/<int:pk>/accept/", orders.order_accept, name="order_accept"),
    path("orders/<int:pk>/reject/", orders.order_reject, name="order_reject"),
    path("orders/<int:pk>/ship/", orders.order_ship, name="order_ship"),
    path("orders/<int:pk>/packing-slip/", orders.packing_slip, name="packing_slip"),
]
