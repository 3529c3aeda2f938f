"""The returns benchmark's network and the delivered orders it takes back.

A warehouse ships every order; a store takes the goods back. Orders are placed, shipped and
delivered through the real services (`order_place`, `fulfillment_ship`,
`fulfillment_tracking_event`) in the benchmark process, while the benchmark's Celery worker
relays their events and captures their card payments at the fake PSP, as production would: so
each order is in the state a real delivered order is in (lines fulfilled, a shipment delivered
inside the return window, the card payment captured), and nothing of it is faked by SQL."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.database import products_create, stock_copy

CHANNEL = "web"
WAREHOUSE = "WH-KS"
STORE = "ST-BER"
# 24 SKUs, so the store's stock rows are shared by returns (as a store's bestsellers are) but
# not all by every one: two returns of the same SKU at once queue on its stock row.
SKUS = {f"BENCH-RET-{n:03d}": Decimal(price) for n, price in enumerate(
    ["19.99", "5.49", "12.00", "39.90", "7.25", "24.50", "9.99", "59.00", "14.95", "3.99",
     "29.99", "44.00", "8.50", "17.80", "99.00", "11.11", "22.40", "6.75", "34.99", "2.49",
     "15.00", "27.30", "49.95", "13.37"], start=1)}
LINES_PER_ORDER = 3
UNITS_PER_LINE = 2
RETURNED_LINES = 2  # a return brings back one unit of two of the order's three lines
PLENTY = 1_000_000_000
# code, kind, city, lat, lon, capabilities, priority
LOCATIONS = [
    (WAREHOUSE, "warehouse", "Kassel", 51.31, 9.48, ["ships"], 10),
    (STORE, "store", "Berlin", 52.52, 13.40, ["click_and_collect", "accepts_returns"], 50),
]
SHOP_NAME, POS_NAME, WMS_ACTOR = "bench-webshop", "bench-pos-berlin", "bench-wms-kassel"
ADDRESS = {"name": "Kim Weber", "line1": "Unter den Linden 1", "postal_code": "10117",
           "city": "Berlin", "country": "DE"}


@dataclass(frozen=True)
class Network:
    pos_token: str  # a `pos` client confined to the store
    warehouse_id: int
    store_id: int


Lines = tuple[tuple[str, int, Decimal], ...]  # (sku, units, unit price) per line


@dataclass(frozen=True)
class Delivered:
    """An order that reached the customer."""

    number: str
    lines: Lines


def network_setup(config: BenchConfig, db: str, rng: random.Random) -> Network:
    """Products via ``products_upsert``, the two locations via ``location_upsert``, stock by
    COPY (plenty at the warehouse, a few units on the store's shelf), a webshop client that
    places the orders and a `pos` client confined to the store that takes them back."""
    from django.utils import timezone

    from inventory.services import LocationData, location_upsert
    from oms.core.clients import api_client_create

    products_create(list(SKUS), name="Bench returnable")
    locations = {code: location_upsert(data=LocationData(
        code=code, name=f"Bench {city}", kind=kind, address={"city": city, "country": "DE"},
        lat=lat, lon=lon, capabilities=capabilities, priority=priority))[0]
        for code, kind, city, lat, lon, capabilities, priority in LOCATIONS}
    api_client_create(name=SHOP_NAME, kind="webshop", channel=CHANNEL)
    _pos, token = api_client_create(name=POS_NAME, kind="pos", channel="pos",
                                    location_code=STORE)
    stamp = timezone.now().isoformat()
    warehouse, store = locations[WAREHOUSE], locations[STORE]
    stock_copy(config, db, [
        "".join(f"{sku}\t{warehouse.pk}\t{PLENTY}\t0\t0\t{stamp}\n" for sku in SKUS),
        "".join(f"{sku}\t{store.pk}\t{rng.randint(0, 8)}\t0\t0\t{stamp}\n" for sku in SKUS),
    ])
    return Network(pos_token=token, warehouse_id=warehouse.pk, store_id=store.pk)


@contextlib.contextmanager
def tasks_to_the_worker() -> Iterator[None]:
    """Within the block, tasks this process queues (the outbox relay after each commit, the
    card captures it triggers) go through Redis to the benchmark's worker instead of running
    here: the worker relays and captures on the other core while this process places and
    ships the next orders."""
    from oms.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = eager


def _request(rng: random.Random, tag: str, n: int) -> tuple[Any, Lines]:
    from fulfillment.use_cases.order_intake import OrderRequest
    from inventory.sourcing import DeliveryRequest
    from oms.orders.services import CustomerData, OrderLineData
    from payments.services import PaymentData

    skus = rng.sample(list(SKUS), LINES_PER_ORDER)
    lines = tuple((sku, UNITS_PER_LINE, SKUS[sku]) for sku in skus)
    total = sum((price * units for _sku, units, price in lines), Decimal("0.00"))
    request = OrderRequest(
        customer=CustomerData(email=f"returner{n % 500}@bench.example",
                              name=f"Returner {n % 500}"),
        currency="EUR",
        lines=[OrderLineData(sku=sku, quantity=units, unit_price=price,
                             tax_rate=Decimal("19.00")) for sku, units, price in lines],
        delivery=DeliveryRequest.to_address(ADDRESS), delivery_address=ADDRESS,
        payment=PaymentData(method="card", status="authorized", amount=total,
                            psp_reference=f"{tag}-psp-{n}"),
        external_id=f"{tag}-{n}")
    return request, lines


def orders_deliver(rng: random.Random, tag: str, count: int) -> list[Delivered]:
    """`count` card orders placed on the web channel, shipped from the warehouse and delivered
    (the carrier's `delivered` scan, now: well inside the 30-day window). Call inside
    :func:`tasks_to_the_worker` with the worker running, then wait for it to drain: that is
    when the payments are captured."""
    from django.utils import timezone

    from fulfillment.lifecycle import fulfillment_ship, fulfillment_tracking_event
    from fulfillment.use_cases.order_intake import order_place
    from oms.core.models import ApiClient

    shop = ApiClient.objects.get(name=SHOP_NAME)
    delivered = []
    for n in range(count):
        request, lines = _request(rng, tag, n)
        placed = order_place(client=shop, request=request)
        [created] = placed.fulfillments
        fulfillment_ship(fulfillment=created.fulfillment, carrier="dhl",
                         tracking_number=f"{tag}-{n}", lines=None, actor=WMS_ACTOR)
        fulfillment_tracking_event(fulfillment=created.fulfillment, status="delivered",
                                   at=timezone.now(), actor=WMS_ACTOR)
        delivered.append(Delivered(placed.order.number, lines))
    return delivered


def returned_lines(order: Delivered) -> list[tuple[str, int, Decimal]]:
    """What comes back of `order`: one unit of each of its first two lines."""
    return [(sku, 1, price) for sku, _units, price in order.lines[:RETURNED_LINES]]


def expected_refund(order: Delivered) -> Decimal:
    """No order discount, no shipping: each unit is worth its price."""
    return sum((price * units for _sku, units, price in returned_lines(order)),
               Decimal("0.00"))


def split(orders: Sequence[Delivered], senders: int) -> list[list[Delivered]]:
    """Each sender its own orders."""
    return [list(orders[i::senders]) for i in range(senders)]
