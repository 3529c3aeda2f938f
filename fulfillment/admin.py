"""Cockpit pages for fulfilment orders, and the full order page: lines, fulfilments, payment,
sourcing reasons and audit trail together, with cancel calling the same service as the API."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from fulfillment.cancellation import order_cancel
from fulfillment.models import FulfillmentLine, FulfillmentOrder
from oms.core.admin_base import ReadOnlyAdmin
from oms.core.errors import DomainError
from oms.orders.admin import OrderAdmin, ReadOnlyInline
from oms.orders.models import Order
from payments.models import Payment


class FulfillmentLineInline(ReadOnlyInline):
    model = FulfillmentLine
    fields = ["order_line", "quantity", "shipped", "cancelled"]


@admin.register(FulfillmentOrder)
class FulfillmentOrderAdmin(ReadOnlyAdmin):
    list_display = ["pk", "order", "location", "kind", "status", "created_at", "updated_at"]
    list_filter = ["status", "kind", "location"]
    search_fields = ["order__number"]
    list_select_related = ["order", "location"]
    inlines = [FulfillmentLineInline]


class FulfillmentInline(ReadOnlyInline):
    model = FulfillmentOrder
    fields = ["location", "kind", "status", "created_at", "updated_at"]
    show_change_link = True


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["method", "status", "amount", "currency", "psp_reference", "created_at"]


@admin.register(Order)
class OrderCockpitAdmin(OrderAdmin):
    inlines = [*OrderAdmin.inlines[:1], FulfillmentInline, PaymentInline,
               *OrderAdmin.inlines[1:]]
    readonly_fields = ["sourcing_reasons"]
    actions = ["cancel_orders"]

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return request.user.has_perm("orders.change_order")  # to run actions; fields stay read-only

    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None) -> list[str]:
        return [f.name for f in Order._meta.fields if f.name != "sourcing"] + \
            ["sourcing_reasons"]

    @admin.display(description=_("sourcing decision"))
    def sourcing_reasons(self, order: Order) -> str:
        candidates = order.sourcing.get("candidates", [])
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((c["location"], c["kind"], c.get("distance_km") or "-",
              "✔" if c["chosen"] else "", c["reason"]) for c in candidates),
        )
        return format_html(
            "<p>{}</p><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "{}</table>",
            order.sourcing.get("strategy", ""), _("location"), _("kind"), _("distance (km)"),
            _("chosen"), _("reason"), rows,
        )

    @admin.action(description=_("Cancel the selected orders (everything not yet shipped)"))
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        for order in queryset:
            try:
                order_cancel(order=order, reason=str(_("cancelled in the cockpit")),
                             actor=f"staff:{request.user.get_username()}")
            except DomainError as exc:
                self.message_user(request, f"{order.number}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, _("Order %(number)s cancelled.")
                                  % {"number": order.number}, messages.SUCCESS)
