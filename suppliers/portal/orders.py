"""The supplier portal's order pages: new dropship orders to acknowledge (accept, or reject with
a reason), orders to ship (one form per parcel, partial shipments, a packing slip), and what has
shipped with each parcel's tracking status.

Every view reads its fulfilment through `supplier_fulfillments(request.supplier)` (another
supplier's order is a 404), calls at most one fulfilment service, and shows a refusal of the
service (`DomainError`) on the page with nothing changed."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fulfillment.lifecycle import fulfillment_accept, fulfillment_reject, fulfillment_ship
from fulfillment.models import FulfillmentLine, FulfillmentOrder, Shipment, TrackingEvent
from fulfillment.states import FulfillmentKind, FulfillmentStatus, ShipmentStatus
from oms.core.errors import DomainError
from suppliers.models import Supplier
from suppliers.portal.access import supplier_fulfillments, supplier_required

F = FulfillmentStatus
PAGE_SIZE = 50
TO_SHIP = [F.ACCEPTED, F.PICKING, F.PARTIALLY_SHIPPED]
# As the fulfilment API accepts carriers (fulfillment/api/fulfillments.py ShipIn).
CARRIER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,49}$")
TEMPLATES = "suppliers/portal/orders/"


def _actor(request: HttpRequest) -> str:
    """Who did it in the audit trail: the portal user, as staff are "staff:<name>"."""
    return f"supplier:{request.user.get_username()}"


def _supplier(request: HttpRequest) -> Supplier:
    return request.supplier  # type: ignore[attr-defined,no-any-return]


def _dropships(supplier: Supplier) -> QuerySet[FulfillmentOrder]:
    lines = FulfillmentLine.objects.select_related("order_line__product").order_by(
        "order_line__position")
    return (supplier_fulfillments(supplier).filter(kind=FulfillmentKind.DROPSHIP)
            .select_related("order", "order__customer", "location")
            .prefetch_related(Prefetch("lines", queryset=lines)))


def _fulfillment(request: HttpRequest, pk: int) -> FulfillmentOrder:
    """The supplier's own dropship fulfilment, or 404 (never 403: another supplier's order
    does not exist here)."""
    return get_object_or_404(_dropships(_supplier(request)), pk=pk)


def _page(request: HttpRequest, rows: QuerySet[Any]) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _refusal(error: DomainError) -> str:
    details = [str(e.get("detail") or "") for e in error.errors()]
    return " ".join(d for d in details if d) or str(error)


# --- new orders --------------------------------------------------------------------------------
class RejectForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, strip=True,
                             widget=forms.TextInput(attrs={
                                 "placeholder": gettext_lazy("e.g. out of stock")}))


@supplier_required
@require_http_methods(["GET"])
def orders_new(request: HttpRequest) -> HttpResponse:
    rows = _dropships(_supplier(request)).filter(status=F.PENDING).order_by("created_at", "pk")
    return render(request, TEMPLATES + "new.html", {
        "title": _("New orders"), "portal_tab": "orders_new", "page": _page(request, rows),
        "reject_form": RejectForm()})


@supplier_required
@require_POST
def order_accept(request: HttpRequest, pk: int) -> HttpResponse:
    fo = _fulfillment(request, pk)
    try:
        fulfillment_accept(fulfillment=fo, actor=_actor(request))
    except DomainError as error:
        messages.error(request, _("Order %(number)s was not accepted: %(why)s")
                       % {"number": fo.order.number, "why": _refusal(error)})
        return redirect("supplier_portal:orders_new")
    messages.success(request, _("Order %(number)s accepted. It is now under “To ship”.")
                     % {"number": fo.order.number})
    return redirect("supplier_portal:orders_new")


@supplier_required
@require_http_methods(["GET", "POST"])
def order_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the order with the reason form; POST rejects it: its lines go to the next best
    location (or are cancelled when none has them), as for any rejected fulfilment."""
    fo = _fulfillment(request, pk)
    form = RejectForm(request.POST if request.method == "POST" else None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            fulfillment_reject(fulfillment=fo, reason=form.cleaned_data["reason"],
                               actor=_actor(request))
        except DomainError as error:
            refusal = _refusal(error)
        else:
            messages.success(request, _("Order %(number)s rejected. We will serve it "
                                        "elsewhere.") % {"number": fo.order.number})
            return redirect("supplier_portal:orders_new")
    status = 400 if request.method == "POST" else 200
    return render(request, TEMPLATES + "reject.html", {
        "title": _("Reject order %(number)s") % {"number": fo.order.number},
        "portal_tab": "orders_new", "fulfillment": fo, "form": form, "refusal": refusal},
        status=status)


# --- to ship -----------------------------------------------------------------------------------
class ShipForm(forms.Form):
    """One parcel: carrier, tracking number and how many of each open line go into it."""

    carrier = forms.CharField(label=gettext_lazy("Carrier"), max_length=50, strip=True)
    tracking_number = forms.CharField(label=gettext_lazy("Tracking number"), max_length=100,
                                      strip=True)

    def __init__(self, *args: Any, fulfillment: FulfillmentOrder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_lines = [ln for ln in fulfillment.lines.all() if ln.open_quantity > 0]
        for line in self.open_lines:
            self.fields[self.quantity_field(line)] = forms.IntegerField(
                label=line.sku, min_value=0, max_value=line.open_quantity,
                initial=line.open_quantity)

    @staticmethod
    def quantity_field(line: FulfillmentLine) -> str:
        return f"qty_{line.pk}"

    def rows(self) -> list[tuple[FulfillmentLine, forms.BoundField]]:
        return [(ln, self[self.quantity_field(ln)]) for ln in self.open_lines]

    def clean_carrier(self) -> str:
        carrier = self.cleaned_data["carrier"]
        if not CARRIER_PATTERN.match(carrier):
            raise forms.ValidationError(_("Letters, digits, spaces, dots, dashes and "
                                          "underscores only."))
        return carrier.lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and not any(data.get(self.quantity_field(ln))
                                       for ln in self.open_lines):
            raise forms.ValidationError(_("Put at least one unit into the parcel."))
        return data

    def units(self) -> dict[str, int]:
        return {ln.sku: self.cleaned_data[self.quantity_field(ln)] for ln in self.open_lines
                if self.cleaned_data[self.quantity_field(ln)]}


@supplier_required
@require_http_methods(["GET"])
def orders_to_ship(request: HttpRequest) -> HttpResponse:
    rows = _dropships(_supplier(request)).filter(status__in=TO_SHIP).order_by("created_at", "pk")
    return render(request, TEMPLATES + "to_ship.html", {
        "title": _("Orders to ship"), "portal_tab": "orders_to_ship",
        "page": _page(request, rows)})


@supplier_required
@require_http_methods(["GET", "POST"])
def order_ship(request: HttpRequest, pk: int) -> HttpResponse:
    """One parcel of the order: the units left open are offered; fewer is a partial shipment
    (the order stays under "To ship" for the next parcel)."""
    fo = _fulfillment(request, pk)
    form = ShipForm(request.POST if request.method == "POST" else None, fulfillment=fo)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            shipment = fulfillment_ship(
                fulfillment=fo, carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"], lines=form.units(),
                actor=_actor(request))
        except DomainError as error:
            refusal = _refusal(error)
        else:
            fo.refresh_from_db(fields=["status"])
            if fo.status == F.PARTIALLY_SHIPPED:
                messages.success(request, _("Parcel %(tracking)s of order %(number)s shipped. "
                                            "The rest is still to ship.")
                                 % {"tracking": shipment.tracking_number,
                                    "number": fo.order.number})
            else:
                messages.success(request, _("Order %(number)s shipped (%(tracking)s).")
                                 % {"tracking": shipment.tracking_number,
                                    "number": fo.order.number})
            return redirect("supplier_portal:orders_to_ship")
    shipments = fo.shipments.prefetch_related("lines__fulfillment_line__order_line").order_by(
        "shipped_at", "pk")
    return render(request, TEMPLATES + "ship.html", {
        "title": _("Ship order %(number)s") % {"number": fo.order.number},
        "portal_tab": "orders_to_ship", "fulfillment": fo, "form": form, "refusal": refusal,
        "shipments": shipments, "carriers": sorted(settings.CARRIER_TRACKING_URLS)},
        status=400 if request.method == "POST" else 200)


@supplier_required
@require_http_methods(["GET"])
def packing_slip(request: HttpRequest, pk: int) -> HttpResponse:
    """What goes into the box and to whom, on paper (print CSS hides the portal's frame)."""
    fo = _fulfillment(request, pk)
    return render(request, TEMPLATES + "packing_slip.html", {
        "title": _("Packing slip %(number)s") % {"number": fo.order.number},
        "portal_tab": "orders_to_ship", "fulfillment": fo,
        "address": fo.order.delivery_address or {}})


# --- shipped -----------------------------------------------------------------------------------
@supplier_required
@require_http_methods(["GET"])
def orders_shipped(request: HttpRequest) -> HttpResponse:
    """Parcels sent, newest first, each with its latest carrier event."""
    latest = TrackingEvent.objects.filter(shipment=OuterRef("pk")).order_by("-at", "-pk")
    rows = (Shipment.objects
            .filter(fulfillment__in=supplier_fulfillments(_supplier(request)).filter(
                kind=FulfillmentKind.DROPSHIP))
            .select_related("fulfillment__order", "fulfillment__location")
            .prefetch_related("lines__fulfillment_line__order_line")
            .annotate(last_event_status=Subquery(latest.values("status")[:1]),
                      last_event_at=Subquery(latest.values("at")[:1]))
            .order_by("-shipped_at", "-pk"))
    page = _page(request, rows)
    for shipment in page:
        # The parcel's status is the latest event's (the service ignores late, older events
        # and keeps a delivered parcel delivered); the event's time says how fresh it is.
        shipment.tracking_label = ShipmentStatus(shipment.status).label
        template = settings.CARRIER_TRACKING_URLS.get(shipment.carrier)
        shipment.tracking_url = template.format(
            tracking_number=shipment.tracking_number,
            language=get_language() or "de") if template else ""
    return render(request, TEMPLATES + "shipped.html", {
        "title": _("Shipped orders"), "portal_tab": "orders_shipped", "page": page})
