"""Cockpit pages for fulfilment orders, and the full order page: lines, fulfilments, payment,
sourcing reasons and audit trail together, with cancel calling the same service as the API.

Store staff see only their stores' fulfilment orders, and the orders behind them
(`inventory.admin.StoreScopedAdmin`); the store screens live in `fulfillment.cockpit`, the
notifications sent about the orders in `notifications.admin`."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from fulfillment.dispatch import dispatch_retry
from fulfillment.lifecycle import fulfillment_accept, fulfillment_reject, fulfillment_ship
from fulfillment.models import FulfillmentLine, FulfillmentOrder, Shipment
from fulfillment.states import TO_PICK, FulfillmentKind, FulfillmentStatus
from fulfillment.use_cases.order_cancellation import order_cancel
from inventory.admin import StoreListFilter, StoreScopedAdmin
from inventory.models import Location
from oms.core.admin_base import ReadOnlyAdmin
from oms.core.errors import DomainError
from oms.orders.admin import OrderAdmin, ReadOnlyInline
from oms.orders.models import Order
from payments.models import Payment

# The admin is the cockpit staff work in: its own name in the header, the tab title and on the
# index (AdminSite's documented attributes), and an index linking the store screens (to pick,
# hand over, dashboard). The error pages (oms/templates/errors/) show the same header.
admin.site.site_header = _("OMS Cockpit")
admin.site.site_title = _("OMS Cockpit")
admin.site.index_title = _("Store cockpit")
admin.site.index_template = "cockpit/admin_index.html"
# The store screens' tabs and the index lead everywhere staff go; without the sidebar a change
# list keeps the whole width of a 1280 px store laptop. No "View site": the cockpit is the site.
admin.site.enable_nav_sidebar = False
admin.site.site_url = None


def _served_by(stores: QuerySet[Location], order: str = "pk") -> Exists:
    """Rows whose order (`order` names it) has a fulfilment order at one of `stores`; EXISTS,
    so no row appears twice."""
    return Exists(FulfillmentOrder.objects.filter(order=OuterRef(order), location__in=stores))


class FulfillmentLineInline(ReadOnlyInline):
    model = FulfillmentLine
    fields = ["order_line", "quantity", "picked", "shipped", "cancelled"]


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = ["carrier", "tracking_number", "status", "shipped_at", "delivered_at"]


# The code's ingredients are no business of the cockpit: the counter checks the code the
# customer shows.
PICKUP_SECRETS = ["pickup_code_salt", "pickup_code_hash"]


@admin.register(FulfillmentOrder)
class FulfillmentOrderAdmin(StoreScopedAdmin, ReadOnlyAdmin):
    """Per location (filter on the right) with state, dispatch and history. The actions call
    the same services as the WMS endpoints; store pickups link to their store screen."""

    # What staff act on; "updated" is on the page itself (a 1280 px screen has no room for it).
    list_display = ["id", "order", "location", "kind", "status", "dispatch_mode", "created_at",
                    "store_screen"]
    list_filter = [("location", StoreListFilter), "status", "kind", "dispatch_mode"]
    search_fields = ["order__number"]
    list_select_related = ["order", "location"]
    inlines = [FulfillmentLineInline, ShipmentInline]
    readonly_fields = ["history"]
    exclude = PICKUP_SECRETS
    actions = ["accept", "reject", "mark_shipped", "retry_dispatch"]

    def has_change_permission(self, request: HttpRequest,
                              obj: FulfillmentOrder | None = None) -> bool:
        return request.user.has_perm("fulfillment.change_fulfillmentorder")

    def get_readonly_fields(self, request: HttpRequest,
                            obj: FulfillmentOrder | None = None) -> list[str]:
        return [f.name for f in FulfillmentOrder._meta.fields
                if f.name not in PICKUP_SECRETS] + ["history"]

    @admin.display(description=_("store screen"))
    def store_screen(self, fo: FulfillmentOrder) -> str:
        if fo.kind != FulfillmentKind.PICKUP:
            return ""
        if fo.status in TO_PICK:
            return format_html('<a href="{}">{}</a>', reverse("cockpit:pick", args=[fo.pk]),
                               _("Pick"))
        if fo.status == FulfillmentStatus.READY_FOR_PICKUP:
            return format_html('<a href="{}">{}</a>',
                               reverse("cockpit:handover", args=[fo.pk]), _("Hand over"))
        return ""

    @admin.display(description=_("history"))
    def history(self, fo: FulfillmentOrder) -> str:
        events = [e for e in fo.order.events.all() if e.data.get("id") == fo.pk
                  or e.data.get("fulfillment") == fo.pk]
        return format_html("<table>{}</table>", format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((formats.localize(timezone.localtime(e.at)), e.type, e.actor) for e in events)))

    def _run(self, request: HttpRequest, queryset: QuerySet[FulfillmentOrder],
             step: Callable[[FulfillmentOrder, str], object], done: str) -> None:
        actor = f"staff:{request.user.get_username()}"
        for fo in queryset:
            try:
                step(fo, actor)
            except DomainError as exc:
                self.message_user(request, f"#{fo.pk}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, f"#{fo.pk}: {done}", messages.SUCCESS)

    @admin.action(description=_("Accept the selected fulfilment orders"))
    def accept(self, request: HttpRequest, queryset: QuerySet[FulfillmentOrder]) -> None:
        self._run(request, queryset, lambda fo, actor: fulfillment_accept(
            fulfillment=fo, actor=actor), str(_("accepted")))

    @admin.action(description=_("Reject the selected fulfilment orders (re-source them)"))
    def reject(self, request: HttpRequest, queryset: QuerySet[FulfillmentOrder]) -> None:
        self._run(request, queryset, lambda fo, actor: fulfillment_reject(
            fulfillment=fo, reason=str(_("rejected in the cockpit")), actor=actor),
            str(_("rejected")))

    @admin.action(description=_("Mark the selected fulfilment orders shipped (handed over "
                                "without carrier tracking)"))
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[FulfillmentOrder]) -> None:
        self._run(request, queryset, lambda fo, actor: fulfillment_ship(
            fulfillment=fo, carrier="manual",
            tracking_number=f"cockpit-{fo.pk}-{timezone.now():%Y%m%d%H%M%S}",
            lines=None, actor=actor), str(_("shipped")))

    @admin.action(description=_("Send the selected fulfilment orders to their WMS again"))
    def retry_dispatch(self, request: HttpRequest,
                       queryset: QuerySet[FulfillmentOrder]) -> None:
        self._run(request, queryset, lambda fo, actor: dispatch_retry(fulfillment=fo),
                  str(_("queued")))


class FulfillmentInline(ReadOnlyInline):
    model = FulfillmentOrder
    fields = ["location", "kind", "status", "created_at", "updated_at"]
    show_change_link = True


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["method", "status", "amount", "captured_amount", "refunded_amount", "currency",
              "psp_reference", "created_at"]


@admin.register(Order)
class OrderCockpitAdmin(StoreScopedAdmin, OrderAdmin):
    inlines = [*OrderAdmin.inlines[:1], FulfillmentInline, PaymentInline,
               *OrderAdmin.inlines[1:]]
    readonly_fields = ["sourcing_reasons"]
    actions = ["cancel_orders"]

    def scope(self, queryset: QuerySet[Order], stores: QuerySet[Location]) -> QuerySet[Order]:
        return queryset.filter(_served_by(stores))

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
