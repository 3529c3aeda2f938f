"""Back-office pages for returns: every return with its lines (scoped to the user's stores like
the rest of the cockpit), and the lists a shop configures: return reasons and each channel's
return policy. Taking goods back at the counter is the cockpit's take-back screen
(`returns.cockpit`); these pages only read returns."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from inventory.admin import StoreListFilter, StoreScopedAdmin
from oms.core.admin_base import ReadOnlyAdmin
from oms.orders.admin import ReadOnlyInline
from returns.models import Return, ReturnLine, ReturnPolicy, ReturnReason


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = ["order_line", "quantity", "received", "status", "reason", "condition",
              "disposition", "refused_reason", "refund_amount"]


@admin.register(Return)
class ReturnAdmin(StoreScopedAdmin, ReadOnlyAdmin):
    list_display = ["number", "order", "mode", "location", "status", "refund_method",
                    "refund_amount", "currency", "exchange_order", "created_at", "received_at"]
    list_filter = [("location", StoreListFilter), "status", "mode", "refund_method"]
    search_fields = ["number", "order__number", "order__customer__email", "tracking_number"]
    list_select_related = ["order", "location", "exchange_order"]
    inlines = [ReturnLineInline]


@admin.register(ReturnReason)
class ReturnReasonAdmin(admin.ModelAdmin):
    """Switch a reason off instead of deleting it: returns keep naming it."""

    list_display = ["code", "label_en", "label_de", "is_active", "position"]
    list_editable = ["is_active", "position"]

    def has_delete_permission(self, request: HttpRequest, obj: ReturnReason | None = None
                              ) -> bool:
        return False


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "window_days", "refund_shipping_on_full_return",
                    "exchange_ships_at_once"]
