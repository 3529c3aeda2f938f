"""The OpenAPI schema tells the truth (issue 17): schemathesis generates requests from
`/api/schema/` for every operation and sends them to the app in-process (WSGI), against the
real PostgreSQL with seeded data, each with a real token of a client kind the operation admits.
Every answer must be no server error, carry a status the operation documents and match the
documented body shape and content type.

Bounded so the suite stays fast (about a minute): the coverage phase (boundary values of every
constraint, unexpected methods) and fuzzing, seeded and derandomised (the same cases every run),
`MAX_EXAMPLES` generated per operation; half of the generated path parameters are swapped for the
seeded objects, so the calls also reach real orders, fulfilments, reservations and products
rather than only answering 404."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from oms.core.idempotency import HEADER, KEY_PATTERN
from oms.core.models import ClientKind
from oms.orders.models import Order
from oms.wsgi import application
from tests.conftest import ApiClientSession
from tests.factories import (
    ApiClientFactory,
    ConsentFactory,
    LocationFactory,
    ProductFactory,
    StockLevelFactory,
    StoreFactory,
    WebhookSubscriptionFactory,
    fulfil,
)
from tests.ledger.journal_factories import SaleFactory
from tests.network import order_body

MAX_EXAMPLES = 30
SEED = 17
FRESH_KEYS = itertools.count(1)

# The client kind that calls each group of paths (the first path segment after /api/v1/).
KIND_BY_RESOURCE = {
    "products": ClientKind.PIM,
    "locations": ClientKind.ERP,
    "stock": ClientKind.WMS,
    "availability": ClientKind.WEBSHOP,
    "reservations": ClientKind.WEBSHOP,
    "sourcing": ClientKind.WEBSHOP,
    "orders": ClientKind.WEBSHOP,
    "fulfillments": ClientKind.WMS,
    "payments": ClientKind.PSP,
    "webhook-subscriptions": ClientKind.STAFF,
    # Staff may call every returns operation (register, receive, cancel, read).
    "returns": ClientKind.STAFF,
    # The CRM may call every customers operation (find, read, record consents).
    "customers": ClientKind.CRM,
    # The app registers visits and answers the offers it was made (its own visit's).
    "store-visits": ClientKind.APP,
    "pickup-offers": ClientKind.APP,
    "browsing-signals": ClientKind.WEBSHOP,
    # The ledger is read by finance (and the ERP) only.
    "ledger": ClientKind.FINANCE,
    "open-items": ClientKind.FINANCE,
    "bank-transactions": ClientKind.FINANCE,
}

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {"mode": "all", "deterministic": True, "max-examples": MAX_EXAMPLES},
    "phases": {"examples": {"enabled": False}, "coverage": {"enabled": True},
               "stateful": {"enabled": False}, "fuzzing": {"enabled": True}},
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
    },
})




def resource_of(path: str) -> str:
    return path.removeprefix("/api/v1/").split("/", 1)[0]


# Loaded from the app itself, at collection (generating it needs no database). pytest collects
# one test per operation from it; `schemathesis.pytest.from_fixture` would load it per test
# instead, but its lazy loader does not run under pytest 9.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)
# The seeded objects of the running test, by resource (filled by `seeded`).
REAL_IDS: dict[str, dict[str, Any]] = {}


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    # Half the cases name a seeded object, so they get past the 404 to the real work.
    real = REAL_IDS.get(resource_of(context.operation.path))
    if not real or not path_parameters or set(real) != set(path_parameters):
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, real])


@pytest.fixture
def seeded(db: Any) -> Iterator[dict[str, str]]:
    """Products with stock at a warehouse and a store, a client of every kind the operations
    need, and through the API (so they are whole: reserved, sourced, paid) an order of the
    shop with its fulfilment and card payment, a cart reservation, a webhook subscription.
    Yields the clients' tokens by kind."""
    warehouse = LocationFactory(code="WH-KS")
    store = StoreFactory(code="ST-BER")
    for sku in ("SKU-1", "SKU-2"):
        product = ProductFactory(sku=sku)
        StockLevelFactory(product=product, location=warehouse, on_hand=1000)
        StockLevelFactory(product=product, location=store, on_hand=1000)
    clients = {kind: ApiClientFactory(kind=kind) for kind in set(KIND_BY_RESOURCE.values())}
    shop = ApiClientSession(clients[ClientKind.WEBSHOP])
    order = shop.post("/api/v1/orders", order_body([("SKU-1", 2)]))
    assert order.status_code == 201, order.content
    hold = shop.post("/api/v1/reservations", {
        "reference": "cart-1", "lines": [{"sku": "SKU-2", "quantity": 1}],
        "delivery": {"method": "ship"}})
    assert hold.status_code == 201, hold.content
    subscription = WebhookSubscriptionFactory(owner=clients[ClientKind.STAFF])
    # A return of the order, taken back at the store: its units count as fulfilled (as the
    # warehouse's shipment would count them), so that one unit can be announced.
    fulfil(Order.objects.get(number=order.json()["number"]), {"SKU-1": 2})
    ret = ApiClientSession(clients[ClientKind.STAFF]).post("/api/v1/returns", {
        "order": order.json()["number"], "location": store.code,
        "lines": [{"sku": "SKU-1", "quantity": 1, "reason": "too_small",
                   "condition": "resellable"}],
        "refund": {"method": "store_credit"}})
    assert ret.status_code == 201, ret.content
    # A parcel not yet started at the warehouse, the customer's consent, and the app seeing
    # them walk into the store: a visit with an offer.
    parcel = shop.post("/api/v1/orders", order_body([("SKU-2", 1)]))
    assert parcel.status_code == 201, parcel.content
    ConsentFactory(customer=Order.objects.get(number=parcel.json()["number"]).customer,
                   purpose="in_store_offers", granted=True)
    visit = ApiClientSession(clients[ClientKind.APP]).post("/api/v1/store-visits", {
        "location": store.code, "customer": {"email": "kim@example.de"}, "source": "nfc"})
    assert visit.status_code == 201 and visit.json()["offers"], visit.content
    for day in range(1, 6):  # a few bookings for the ledger's reads and exports
        SaleFactory(booked_on=date(2026, 1, day))
    REAL_IDS.clear()
    REAL_IDS.update({
        "products": {"sku": "SKU-1"},
        "locations": {"code": "WH-KS"},
        "reservations": {"id": hold.json()["id"]},
        "orders": {"number": order.json()["number"]},
        "fulfillments": {"id": order.json()["fulfillments"][0]["id"]},
        "webhook-subscriptions": {"id": subscription.pk},
        "returns": {"id": ret.json()["id"]},
        "store-visits": {"id": visit.json()["id"]},
        "pickup-offers": {"id": visit.json()["offers"][0]["id"]},
        "customers": {"public_id": str(
            Order.objects.get(number=order.json()["number"]).customer.public_id)},
    })
    yield {kind: c.token for kind, c in clients.items()}
    REAL_IDS.clear()


@pytest.fixture
def tokens(seeded: dict[str, str]) -> Iterator[dict[str, str]]:
    """The seeded clients' tokens, for requests that run in the test's own transaction as
    Django's test client runs them: the WSGI handler must not close the connection between
    requests (which would end the transaction), so `close_old_connections` is disconnected
    while the test runs (after seeding: the test client reconnects it after each request)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield seeded
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_schema_says(case: Any, tokens: dict[str, str]) -> None:
    # given a token of a client kind the operation admits
    kind = KIND_BY_RESOURCE[resource_of(case.operation.path)]
    token = tokens[kind]
    headers = {"Authorization": f"Bearer {token}"}
    # and a fresh Idempotency-Key where a valid one was generated: hypothesis draws the same
    # few keys again and again, and every POST after the first would only answer 422
    # `idempotency_key_reused` (the case of an invalid key, a 400, is kept as generated)
    key = (case.headers or {}).get(HEADER)
    if key is not None and KEY_PATTERN.fullmatch(key):
        headers[HEADER] = f"schemathesis-{next(FRESH_KEYS)}"
    # when schemathesis sends a generated request (valid or not) to the app
    # then the answer is no 5xx, its status is documented and its body has the documented shape
    case.call_and_validate(headers=headers)
