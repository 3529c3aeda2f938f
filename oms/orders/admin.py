from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from oms.core.admin_base import ReadOnlyAdmin
from oms.orders.models import Customer, OrderEvent, OrderLine


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["position", "product", "quantity", "unit_price", "tax_rate", "allocated",
              "fulfilled", "cancelled", "returned"]


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["at", "type", "actor", "data"]
    verbose_name_plural = "audit trail"


class OrderAdmin(ReadOnlyAdmin):
    """The order page of the cockpit. `fulfillment.admin` registers it, extended with
    fulfilments, payments and the cancel action, which live in higher layers."""

    list_display = ["number", "channel", "status", "customer", "total", "currency",
                    "delivery_method", "created_at"]
    list_filter = ["status", "channel", "delivery_method"]
    search_fields = ["number", "external_id", "customer__email"]
    date_hierarchy = "created_at"
    list_select_related = ["customer"]
    inlines = [OrderLineInline, OrderEventInline]
    exclude = ["sourcing"]


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["email", "name", "phone", "external_id", "created_at"]
    search_fields = ["email", "name", "external_id"]
