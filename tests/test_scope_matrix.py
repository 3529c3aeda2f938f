"""Every endpoint under /api/v1/ keeps every scoped client in its scope (issue 17, API.md: "an
object outside its scope answers 404, never 403 with data, never the object").

The matrix below has one entry per URL pattern and method, read from the URL configuration, and
says for each scoped client kind what happens when it names an object of another scope:

- a `pos` confined to store ST-A, asking for an object of store ST-B (same channel);
- a `supplier` confined to site SUP-A, asking for an object of site SUP-B;
- a `webshop` of channel `web`, asking for an object of channel `other`;
- a `wms` confined to warehouse WH-A, asking for an object of warehouse WH-B;
- a `staff` client, asking for an object another staff client owns (webhook subscriptions).

HIDDEN: a single object answers 404, a list answers without it; and nothing changed. Then the
same request from a client of the other scope (the insider) does reach the object, so the 404
comes from the scope and not from a wrong path or body. NOT_ADMITTED: the kind may not call the
endpoint at all (403, nothing about the object, nothing changed). Exempt(reason): not confined,
on purpose. An endpoint missing from the matrix fails `test_every_endpoint_is_in_the_matrix`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from finance.models import BankTransaction, OpenItem
from fulfillment.models import FulfillmentLine, FulfillmentOrder
from inventory.models import Location, Reservation, StockLevel, StockMovement
from ledger.models import JournalEntry
from oms.core.models import OutboxEvent, WebhookSubscription
from oms.orders.models import Consent, Customer, Order, OrderEvent, OrderLine
from payments.models import Refund
from returns.models import Return
from tests.factories import (
    StockLevelFactory,
    StoreFactory,
    SupplierSiteFactory,
    WarehouseFactory,
    WebhookSubscriptionFactory,
)
from tests.returns.factories import a_return
from visits.models import PickupOffer, StoreVisit

pytestmark = pytest.mark.django_db

SKU = "SCOPE-1"
# "till" is a pos client of one channel confined to no store: only its channel confines it.
KINDS = ("pos", "till", "supplier", "webshop", "wms", "staff")


# --- what each kind expects ---------------------------------------------------------------------
class Hidden:
    def __repr__(self) -> str:
        return "HIDDEN"


class NotAdmitted:
    def __repr__(self) -> str:
        return "NOT_ADMITTED"


@dataclass(frozen=True)
class Exempt:
    reason: str


HIDDEN, NOT_ADMITTED = Hidden(), NotAdmitted()
Expectation = Hidden | NotAdmitted | Exempt

BACK_OFFICE = Exempt("staff is the unconfined back office; its only owned objects are webhook "
                     "subscriptions")


# --- the other scope's world ------------------------------------------------------------------
@dataclass
class Foreign:
    """Objects of scope B, and clients of scope A (outsider) and B (insider)."""

    outsider: Any
    insider: Any
    location: Location
    order: dict[str, Any]
    fulfillment: FulfillmentOrder
    transfer: FulfillmentOrder
    hold: dict[str, Any]
    subscription: WebhookSubscription
    ret: Return
    visit: StoreVisit
    offer: PickupOffer


def _order_body(delivery: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "customer": {"email": "kim@example.de", "name": "Kim"},
        "currency": "EUR",
        "lines": [{"sku": SKU, "quantity": 1, "unit_price": "10.00", "tax_rate": "19.00"}],
        "delivery": delivery,
        "payment": {"method": "cash", "status": "pending", "amount": "10.00"},
        **extra,
    }


SHIP = {"method": "ship", "address": {"name": "Kim", "line1": "Unter den Linden 1",
                                     "postal_code": "10117", "city": "Berlin", "country": "DE"}}


def _clients(api: Any, kind: str) -> tuple[Any, Any, Location, Any, dict[str, Any]]:
    """(outsider, insider, the foreign location, who places the foreign order, its delivery)."""
    if kind == "pos":
        StoreFactory(code="ST-A")
        store = StoreFactory(code="ST-B")
        insider = api("pos", channel="web", location_code="ST-B")
        return (api("pos", channel="web", location_code="ST-A"), insider, store, insider,
                {"method": "pickup", "location": "ST-B"})
    if kind == "supplier":
        SupplierSiteFactory(code="SUP-A")
        site = SupplierSiteFactory(code="SUP-B")
        return (api("supplier", supplier_code="SUP-A"), api("supplier", supplier_code="SUP-B"),
                site, api("webshop", channel="web"), SHIP)
    if kind == "wms":
        WarehouseFactory(code="WH-A")
        warehouse = WarehouseFactory(code="WH-B")
        return (api("wms", location_code="WH-A"), api("wms", location_code="WH-B"), warehouse,
                api("webshop", channel="web"), SHIP)
    if kind == "webshop":
        warehouse = WarehouseFactory(code="WH-X")
        insider = api("webshop", channel="other")
        return api("webshop", channel="web"), insider, warehouse, insider, SHIP
    if kind == "till":
        warehouse = WarehouseFactory(code="WH-X")
        insider = api("pos", channel="other")
        return api("pos", channel="web"), insider, warehouse, insider, SHIP
    warehouse = WarehouseFactory(code="WH-X")
    return api("staff"), api("staff"), warehouse, api("webshop", channel="web"), SHIP


def a_foreign_world(api: Any, kind: str) -> Foreign:
    """An order served at the foreign location (placed through the API, so it has its
    reservations), its fulfilment order, a transfer to the location, a cart hold in the
    foreign scope, and a webhook subscription of the insider (staff) or another staff client."""
    outsider, insider, location, seller, delivery = _clients(api, kind)
    StockLevelFactory(product__sku=SKU, location=location, on_hand=50)
    placed = seller.post("/api/v1/orders", _order_body(delivery))
    assert placed.status_code == 201, placed.content
    order = placed.json()
    fulfillment = FulfillmentOrder.objects.get(order__number=order["number"])
    assert fulfillment.location == location
    held = seller.post("/api/v1/reservations", {
        "reference": "cart-b", "lines": [{"sku": SKU, "quantity": 1}], "delivery": delivery})
    assert held.status_code == 201, held.content
    now = timezone.now()
    transfer = FulfillmentOrder.objects.create(
        order=fulfillment.order, location=WarehouseFactory(code="WH-T"), destination=location,
        kind="transfer", created_at=now, updated_at=now)
    FulfillmentLine.objects.create(fulfillment=transfer, quantity=1,
                                   order_line=OrderLine.objects.get(order=fulfillment.order))
    owner = insider.api_client if kind == "staff" else None
    subscription = WebhookSubscriptionFactory(**({"owner": owner} if owner else {}))
    # A return of the foreign order taken back at the foreign location, registered by the
    # insider (a till sees the returns it registered as well as those of its store).
    ret = a_return(order=fulfillment.order, location=location,
                   placed_by=insider.api_client.name)
    # A visit of the order's customer registered by the insider, with an offer of the foreign
    # parcel (the app or till that registered a visit answers its offers).
    visit = StoreVisit.objects.create(
        location=location, customer=fulfillment.order.customer, source="pos",
        registered_by=insider.api_client.name, started_at=now, last_seen_at=now)
    offer = PickupOffer.objects.create(visit=visit, order=fulfillment.order,
                                       fulfillment=fulfillment, created_at=now,
                                       expires_at=now + timedelta(minutes=20))
    return Foreign(outsider, insider, location, order, fulfillment, transfer, held.json(),
                   subscription, ret, visit, offer)


def world_state() -> tuple[Any, ...]:
    """Everything an endpoint under test could write: compared before and after a refusal."""
    return (
        list(Order.objects.order_by("pk").values_list("number", "status", "updated_at")),
        list(OrderLine.objects.order_by("pk").values_list("allocated", "cancelled")),
        list(FulfillmentOrder.objects.order_by("pk").values_list(
            "status", "updated_at", "pickup_failed_attempts")),
        list(Reservation.objects.order_by("pk").values_list("pk", "state", "expires_at")),
        list(StockLevel.objects.order_by("pk").values_list("on_hand", "reserved")),
        list(Location.objects.order_by("pk").values_list("code", "name", "priority")),
        list(WebhookSubscription.objects.order_by("pk").values_list("pk", "is_active")),
        StockMovement.objects.count(), OrderEvent.objects.count(), OutboxEvent.objects.count(),
        list(Return.objects.order_by("pk").values_list("pk", "status", "updated_at")),
        Refund.objects.count(), Consent.objects.count(),
        StoreVisit.objects.count(),
        list(PickupOffer.objects.order_by("pk").values_list("pk", "status", "shipment_stop")),
        list(OpenItem.objects.order_by("pk").values_list("pk", "status", "paid")),
        BankTransaction.objects.count(), JournalEntry.objects.count(),
    )


# --- requests ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    method: str
    path: Callable[[Foreign], str]
    body: Callable[[Foreign], Any] | None = None
    # For lists: whether the foreign object is among the results.
    listed: Callable[[Foreign, dict[str, Any]], bool] | None = None

    def send(self, client: Any, world: Foreign) -> Any:
        path = self.path(world)
        if self.method == "get":
            return client.get(path)
        if self.method == "delete":
            return client.delete(path)
        return getattr(client, self.method)(path, self.body(world) if self.body else None)


def _numbers(world: Foreign, page: dict[str, Any]) -> bool:
    return world.order["number"] in [o["number"] for o in page["results"]]


def _fulfillment_ids(world: Foreign, page: dict[str, Any]) -> bool:
    return world.fulfillment.pk in [f["id"] for f in page["results"]]


def _location_codes(world: Foreign, page: dict[str, Any]) -> bool:
    return world.location.code in [loc["code"] for loc in page["results"]]


def _return_ids(world: Foreign, page: dict[str, Any]) -> bool:
    return world.ret.pk in [r["id"] for r in page["results"]]


def _subscription_ids(world: Foreign, page: dict[str, Any]) -> bool:
    return world.subscription.pk in [s["id"] for s in page["results"]]


def _order(suffix: str = "") -> Callable[[Foreign], str]:
    return lambda w: f"/api/v1/orders/{w.order['number']}{suffix}"


def _fo(suffix: str = "") -> Callable[[Foreign], str]:
    return lambda w: f"/api/v1/fulfillments/{w.fulfillment.pk}{suffix}"


def _hold(suffix: str = "") -> Callable[[Foreign], str]:
    return lambda w: f"/api/v1/reservations/{w.hold['id']}{suffix}"


def _ret(suffix: str = "") -> Callable[[Foreign], str]:
    return lambda w: f"/api/v1/returns/{w.ret.pk}{suffix}"


def _return_body(w: Foreign) -> dict[str, Any]:
    """A return of the foreign order, taken back at the foreign location."""
    return {"order": w.order["number"], "location": w.location.code,
            "lines": [{"sku": SKU, "quantity": 1, "reason": "too_small",
                       "condition": "resellable"}],
            "refund": {"method": "store_credit"}}


def _customer(suffix: str = "") -> Callable[[Foreign], str]:
    """The customer of the foreign order, by the public id the API shows."""
    return lambda w: (f"/api/v1/customers/"
                      f"{Customer.objects.get(email='kim@example.de').public_id}{suffix}")


def _static(path: str) -> Callable[[Foreign], str]:
    return lambda w: path


SELLERS = ("pos", "till", "webshop")
SELLERS_ONLY = {"supplier": NOT_ADMITTED, "wms": NOT_ADMITTED, "staff": BACK_OFFICE}
SELLERS_HIDDEN = {**dict.fromkeys(SELLERS, HIDDEN), **SELLERS_ONLY}
LOCATION_SYSTEMS = {"pos": HIDDEN, "till": HIDDEN, "supplier": HIDDEN, "wms": HIDDEN,
                    "webshop": NOT_ADMITTED, "staff": BACK_OFFICE}
STAFF_ONLY = {"pos": NOT_ADMITTED, "till": NOT_ADMITTED, "supplier": NOT_ADMITTED,
              "webshop": NOT_ADMITTED, "wms": NOT_ADMITTED}
UNCONFINED_STOCK = Exempt("a till confined to no store writes stock like the unconfined ERP; "
                          "confine it to its store (create_api_client --location) to limit it")
CATALOGUE = Exempt("the catalogue is shared by design: every client reads the same products")
NETWORK = Exempt("the store and warehouse network is public: a webshop's store finder lists "
                 "every store")
PUBLIC_STOCK = Exempt("availability is the public stock picture a channel shows its customers "
                      "(which store has the size); it names no order, customer or hold")
NO_OBJECT = Exempt("a dry run over public stock: it names no stored object")
NEW_HOLD = Exempt("creates a new hold of the client's own; a pickup may be held at any store, "
                  "as the webshop does")
OWN_SUBSCRIPTION = Exempt("creates a subscription the client owns")
FEED = Exempt("the PSP's event feed: no scoped kind may call it")
# Returns (API.md): registered by tills and selling channels, received by the location's own
# system (a till, a warehouse's WMS, a supplier's portal), read by all of them.
RETURN_READERS = {"pos": HIDDEN, "till": HIDDEN, "supplier": HIDDEN, "webshop": HIDDEN,
                  "wms": HIDDEN, "staff": BACK_OFFICE}
RETURN_REGISTRARS = {"pos": HIDDEN, "till": HIDDEN, "webshop": HIDDEN,
                     "supplier": NOT_ADMITTED, "wms": NOT_ADMITTED, "staff": BACK_OFFICE}
RETURN_RECEIVERS = {"pos": HIDDEN, "till": HIDDEN, "supplier": HIDDEN, "wms": HIDDEN,
                    "webshop": NOT_ADMITTED, "staff": BACK_OFFICE}

# Customers (API.md): one profile per person across every channel, so a customer whose orders
# came through another channel or store is the same person at this till. A selling client finds
# them by exact e-mail or external id (never by browsing: a list without one answers 400) and
# reads or changes consents by the random public id it got from that search. Suppliers and
# warehouses never see customers.
SHARED_CUSTOMERS = Exempt("customers are shared across channels by design: a selling client "
                          "finds anyone by exact e-mail or external id, never by browsing")
CUSTOMER_READERS = {**dict.fromkeys(SELLERS, SHARED_CUSTOMERS), "supplier": NOT_ADMITTED,
                    "wms": NOT_ADMITTED, "staff": BACK_OFFICE}

# Store visits (API.md): the app or till that registered a visit reads and answers its offers;
# a till of another store gets 404. A till confined to no store registers visits at any store,
# like the app does; warehouses, suppliers and webshops have no part in them.
VISIT_REGISTRARS = {"pos": HIDDEN, "till": Exempt(
    "a till confined to no store registers visits at any store, like the app; confine it to "
    "its store to limit it"), "webshop": NOT_ADMITTED, "supplier": NOT_ADMITTED,
    "wms": NOT_ADMITTED, "staff": NOT_ADMITTED}
VISIT_READERS = {"pos": HIDDEN, "till": HIDDEN, "webshop": NOT_ADMITTED,
                 "supplier": NOT_ADMITTED, "wms": NOT_ADMITTED, "staff": BACK_OFFICE}
VISIT_ANSWERERS = {**VISIT_READERS, "staff": NOT_ADMITTED}

# Finance (API.md): the ledger and the receivables are finance's and the ERP's, no one else's.
FINANCE_ONLY = dict.fromkeys(KINDS, NOT_ADMITTED)

# (method, route as in oms/urls.py) → (request, expectation per kind)
MATRIX: dict[tuple[str, str], tuple[Call, dict[str, Expectation]]] = {
    ("get", "products/<path:sku>"): (
        Call("get", _static(f"/api/v1/products/{SKU}")),
        dict.fromkeys(KINDS, CATALOGUE)),
    ("put", "products/<path:sku>"): (
        Call("put", _static(f"/api/v1/products/{SKU}"), lambda w: {"name": "Renamed"}),
        {**STAFF_ONLY, "staff": CATALOGUE}),
    ("post", "products/bulk"): (
        Call("post", _static("/api/v1/products/bulk"),
             lambda w: {"products": [{"sku": SKU, "name": "Renamed"}]}),
        {**STAFF_ONLY, "staff": CATALOGUE}),
    ("get", "locations"): (
        Call("get", _static("/api/v1/locations"), listed=_location_codes),
        {"pos": HIDDEN, "till": NETWORK, "supplier": HIDDEN, "wms": HIDDEN, "webshop": NETWORK,
         "staff": BACK_OFFICE}),
    ("get", "locations/<str:code>"): (
        Call("get", lambda w: f"/api/v1/locations/{w.location.code}"),
        {"pos": HIDDEN, "till": NETWORK, "supplier": HIDDEN, "wms": HIDDEN, "webshop": NETWORK,
         "staff": BACK_OFFICE}),
    ("put", "locations/<str:code>"): (
        Call("put", lambda w: f"/api/v1/locations/{w.location.code}",
             lambda w: {"name": "Taken over", "kind": w.location.kind, "lat": 50.0,
                        "lon": 10.0, "address": {}, "capabilities": []}),
        {**STAFF_ONLY, "staff": BACK_OFFICE}),
    ("post", "stock/snapshots"): (
        Call("post", _static("/api/v1/stock/snapshots"),
             lambda w: {"location": w.location.code, "as_of": "2025-03-01T09:00:00+01:00",
                        "levels": [{"sku": SKU, "on_hand": 0}]}),
        {"pos": HIDDEN, "till": UNCONFINED_STOCK, "supplier": HIDDEN, "wms": HIDDEN,
         "webshop": NOT_ADMITTED,
         "staff": BACK_OFFICE}),
    ("post", "stock/movements"): (
        Call("post", _static("/api/v1/stock/movements"),
             lambda w: {"location": w.location.code, "sku": SKU, "quantity": -1,
                        "kind": "adjustment", "reference": "scope"}),
        {"pos": HIDDEN, "till": UNCONFINED_STOCK, "supplier": HIDDEN, "wms": HIDDEN,
         "webshop": NOT_ADMITTED,
         "staff": BACK_OFFICE}),
    ("get", "availability"): (
        Call("get", _static(f"/api/v1/availability?skus={SKU}")),
        dict.fromkeys(KINDS, PUBLIC_STOCK)),
    ("post", "reservations"): (
        Call("post", _static("/api/v1/reservations")),
        {**dict.fromkeys(SELLERS, NEW_HOLD), **SELLERS_ONLY}),
    ("get", "reservations/<uuid:pk>"): (
        Call("get", _hold()), SELLERS_HIDDEN),
    ("delete", "reservations/<uuid:pk>"): (
        Call("delete", _hold()), SELLERS_HIDDEN),
    ("post", "reservations/<uuid:pk>/extend"): (
        Call("post", _hold("/extend"), lambda w: {"ttl_seconds": 600}),
        SELLERS_HIDDEN),
    ("post", "sourcing/preview"): (
        Call("post", _static("/api/v1/sourcing/preview")),
        {**dict.fromkeys(SELLERS, NO_OBJECT), **SELLERS_ONLY}),
    # Placing an order names one stored object: the cart hold it consumes.
    ("post", "orders"): (
        Call("post", _static("/api/v1/orders"),
             lambda w: _order_body(
                 {"method": "pickup", "location": w.location.code}
                 if w.location.kind == "store" else SHIP, reservation_id=w.hold["id"])),
        SELLERS_HIDDEN),
    ("get", "orders"): (
        Call("get", _static("/api/v1/orders"), listed=_numbers),
        SELLERS_HIDDEN),
    ("get", "orders/<str:number>"): (
        Call("get", _order()), SELLERS_HIDDEN),
    ("get", "orders/<str:number>/events"): (
        Call("get", _order("/events")), SELLERS_HIDDEN),
    ("post", "orders/<str:number>/cancel"): (
        Call("post", _order("/cancel"), lambda w: {"reason": "not mine"}),
        SELLERS_HIDDEN),
    ("get", "fulfillments"): (
        Call("get", _static("/api/v1/fulfillments"), listed=_fulfillment_ids), LOCATION_SYSTEMS),
    ("get", "fulfillments/<int:pk>"): (Call("get", _fo()), LOCATION_SYSTEMS),
    ("post", "fulfillments/<int:pk>/accept"): (Call("post", _fo("/accept")), LOCATION_SYSTEMS),
    ("post", "fulfillments/<int:pk>/reject"): (
        Call("post", _fo("/reject"), lambda w: {"reason": "not mine"}), LOCATION_SYSTEMS),
    ("post", "fulfillments/<int:pk>/pick"): (
        Call("post", _fo("/pick"), lambda w: {"lines": [{"sku": SKU, "picked": 1}]}),
        LOCATION_SYSTEMS),
    ("post", "fulfillments/<int:pk>/ship"): (
        Call("post", _fo("/ship"), lambda w: {"carrier": "dhl", "tracking_number": "T-1"}),
        LOCATION_SYSTEMS),
    ("post", "fulfillments/<int:pk>/handover"): (
        Call("post", _fo("/handover"), lambda w: {"pickup_code": "ABC123"}), LOCATION_SYSTEMS),
    ("post", "fulfillments/<int:pk>/receive"): (
        Call("post", lambda w: f"/api/v1/fulfillments/{w.transfer.pk}/receive"),
        LOCATION_SYSTEMS),
    ("post", "fulfillments/<int:pk>/tracking-events"): (
        Call("post", _fo("/tracking-events"),
             lambda w: {"status": "in_transit", "at": "2030-01-01T00:00:00+00:00"}),
        LOCATION_SYSTEMS),
    # Registering names the order and the store taking it back: a till confined to a store
    # takes back orders of every channel, but only at its own store (another store: 404).
    ("post", "returns"): (
        Call("post", _static("/api/v1/returns"), _return_body), RETURN_REGISTRARS),
    ("get", "returns"): (
        Call("get", _static("/api/v1/returns"), listed=_return_ids), RETURN_READERS),
    ("get", "returns/<int:pk>"): (Call("get", _ret()), RETURN_READERS),
    ("post", "returns/<int:pk>/receive"): (
        Call("post", _ret("/receive"), lambda w: {"lines": [
            {"sku": SKU, "quantity": 1, "disposition": "restock"}]}),
        RETURN_RECEIVERS),
    ("post", "returns/<int:pk>/cancel"): (
        Call("post", _ret("/cancel"), lambda w: {"reason": "not mine"}), RETURN_REGISTRARS),
    ("get", "customers"): (
        Call("get", _static("/api/v1/customers?email=kim@example.de")), CUSTOMER_READERS),
    ("get", "customers/<uuid:public_id>"): (Call("get", _customer()), CUSTOMER_READERS),
    ("put", "customers/<uuid:public_id>/consents"): (
        Call("put", _customer("/consents"), lambda w: {"consents": [
            {"purpose": "push", "granted": True, "source": "scope",
             "at": "2026-03-01T10:00:00+00:00"}]}),
        CUSTOMER_READERS),
    ("post", "store-visits"): (
        Call("post", _static("/api/v1/store-visits"),
             lambda w: {"location": w.location.code, "customer": {"email": "kim@example.de"},
                        "source": "pos"}),
        VISIT_REGISTRARS),
    ("get", "store-visits/<int:pk>"): (
        Call("get", lambda w: f"/api/v1/store-visits/{w.visit.pk}"), VISIT_READERS),
    ("get", "pickup-offers/<int:pk>"): (
        Call("get", lambda w: f"/api/v1/pickup-offers/{w.offer.pk}"), VISIT_READERS),
    ("post", "pickup-offers/<int:pk>/accept"): (
        Call("post", lambda w: f"/api/v1/pickup-offers/{w.offer.pk}/accept"),
        VISIT_ANSWERERS),
    ("post", "pickup-offers/<int:pk>/decline"): (
        Call("post", lambda w: f"/api/v1/pickup-offers/{w.offer.pk}/decline"),
        VISIT_ANSWERERS),
    ("post", "browsing-signals"): (
        Call("post", _static("/api/v1/browsing-signals"),
             lambda w: {"customer": {"email": "kim@example.de"}, "kind": "cart",
                        "skus": [SKU]}),
        {"pos": NOT_ADMITTED, "till": NOT_ADMITTED, "webshop": SHARED_CUSTOMERS,
         "supplier": NOT_ADMITTED, "wms": NOT_ADMITTED, "staff": NOT_ADMITTED}),
    ("get", "ledger/entries"): (Call("get", _static("/api/v1/ledger/entries")), FINANCE_ONLY),
    ("get", "ledger/balances"): (Call("get", _static("/api/v1/ledger/balances")), FINANCE_ONLY),
    ("get", "ledger/export"): (
        Call("get", _static("/api/v1/ledger/export?from=2026-01-01&to=2026-12-31&format=csv")),
        FINANCE_ONLY),
    ("get", "open-items"): (Call("get", _static("/api/v1/open-items")), FINANCE_ONLY),
    ("post", "bank-transactions"): (
        Call("post", _static("/api/v1/bank-transactions"),
             lambda w: {"reference": "SCOPE-1", "amount": "10.00", "currency": "EUR",
                        "booked_at": "2026-03-02", "purpose": w.order["number"]}),
        FINANCE_ONLY),
    ("post", "payments/events"): (
        Call("post", _static("/api/v1/payments/events"),
             lambda w: {"psp_reference": "x", "type": "captured", "amount": "10.00",
                        "currency": "EUR", "at": "2030-01-01T00:00:00+00:00"}),
        {**STAFF_ONLY, "staff": FEED}),
    ("get", "webhook-subscriptions"): (
        Call("get", _static("/api/v1/webhook-subscriptions"), listed=_subscription_ids),
        {**STAFF_ONLY, "staff": HIDDEN}),
    ("post", "webhook-subscriptions"): (
        Call("post", _static("/api/v1/webhook-subscriptions"),
             lambda w: {"url": "http://127.0.0.1:9/hook", "topics": ["*"]}),
        {**STAFF_ONLY, "staff": OWN_SUBSCRIPTION}),
    ("delete", "webhook-subscriptions/<int:pk>"): (
        Call("delete", lambda w: f"/api/v1/webhook-subscriptions/{w.subscription.pk}"),
        {**STAFF_ONLY, "staff": HIDDEN}),
}


# --- the URL configuration ---------------------------------------------------------------
def api_endpoints() -> set[tuple[str, str]]:
    """(method, route) of every view under /api/v1/, as the URL configuration declares them."""
    found: set[tuple[str, str]] = set()
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) == "api/v1/":
            for pattern in entry.url_patterns:
                assert isinstance(pattern, URLPattern), f"nested include under api/v1/: {pattern}"
                view = pattern.callback.view_class
                found |= {(method, str(pattern.pattern))
                          for method in ("get", "post", "put", "patch", "delete")
                          if hasattr(view, method)}
    return found


def test_every_endpoint_is_in_the_matrix():
    endpoints = api_endpoints()
    missing = sorted(f"{m.upper()} /api/v1/{r}" for m, r in endpoints - set(MATRIX))
    stale = sorted(f"{m.upper()} /api/v1/{r}" for m, r in set(MATRIX) - endpoints)
    assert not missing, f"endpoints missing from the scope matrix: {missing}"
    assert not stale, f"scope matrix entries without an endpoint: {stale}"


@pytest.mark.parametrize(("key", "kind"), [(k, kind) for k in MATRIX for kind in KINDS],
                         ids=[f"{m.upper()} {r} as {kind}" for m, r in MATRIX for kind in KINDS])
def test_every_scoped_kind_is_decided_for_every_endpoint(key, kind):
    assert kind in MATRIX[key][1], f"{key}: no scope decision for {kind}"


CASES = [(key, kind, expected) for key, (_, kinds) in MATRIX.items()
         for kind, expected in kinds.items() if not isinstance(expected, Exempt)]


@pytest.mark.parametrize(("key", "kind", "expected"), CASES,
                         ids=[f"{m.upper()} {r} as {kind} {exp!r}" for (m, r), kind, exp
                              in CASES])
def test_an_object_of_another_scope_does_not_exist_for_a_scoped_client(
        api, key, kind, expected):
    # given an object of another store, supplier site, warehouse, channel or owner
    call = MATRIX[key][0]
    world = a_foreign_world(api, kind)
    before = world_state()

    # when a client of this kind, in its own scope, names it
    response = call.send(world.outsider, world)

    # then it does not exist for the client (or the kind may not call the endpoint at all)
    if expected is NOT_ADMITTED:
        assert response.status_code == 403, response.content
    elif call.listed is not None:
        assert response.status_code == 200, response.content
        assert not call.listed(world, response.json())
    else:
        assert response.status_code == 404, response.content
        assert response.json()["errors"][0]["code"] == "not_found"
    # and nothing changed
    assert world_state() == before

    # and a client of the object's own scope does reach it: the 404 is the scope's
    if expected is HIDDEN:
        own = call.send(world.insider, world)
        if call.listed is not None:
            assert own.status_code == 200 and call.listed(world, own.json()), own.content
        else:
            assert own.status_code != 404, own.content


def test_an_exemption_says_why():
    for key, (_, kinds) in MATRIX.items():
        for kind, expected in kinds.items():
            if isinstance(expected, Exempt):
                assert len(expected.reason) > 20, f"{key} {kind}: say why it is exempt"

