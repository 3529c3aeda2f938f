"""Demo returns: a click-and-collect order collected at the Berlin store a few days ago, so that
a newcomer can take it back at the till (the walkthrough) or in the cockpit's take-back screen.
Placed, picked and handed over through the same services as the API. Runs after
`seed_demo_store`."""

from __future__ import annotations

import secrets
from decimal import Decimal

from fulfillment.models import FulfillmentOrder
from fulfillment.pickup import pickup_code, pickup_handover, pickup_pick
from fulfillment.use_cases.order_intake import OrderRequest, order_place
from inventory.models import StockLevel
from inventory.sourcing import DeliveryRequest
from oms.core.models import ApiClient
from oms.orders.models import Order
from oms.orders.services import CustomerData, OrderLineData
from payments.services import PaymentData
from returns.eligibility import returnable_units
from returns.reasons import return_reasons_seed

STORE = "ST-BER"
EXTERNAL_ID = "demo-returnable"


def seed_returnable() -> Order | None:
    """The demo's order to take back: the one placed earlier while something of it can still
    come back, else a new one (two SKUs the store has, paid by card, collected). None if the
    store has nothing to sell."""
    return_reasons_seed()
    shop = ApiClient.objects.get(name="demo-webshop")
    for order in Order.objects.filter(channel=shop.channel,
                                      external_id__startswith=EXTERNAL_ID).order_by("-pk"):
        if any(n > 0 for n in returnable_units(order).values()):
            return order
    levels = list(StockLevel.objects.filter(location__code=STORE, on_hand__gte=5,
                                            reserved=0).select_related("product")
                  .order_by("-product_id")[:2])
    if len(levels) < 2:
        return None
    lines = [OrderLineData(sku=lv.product_id, quantity=1, unit_price=_price(lv),
                           tax_rate=Decimal("19.00")) for lv in levels]
    total = sum((ln.unit_price for ln in lines), Decimal("0.00"))
    placed = order_place(client=shop, request=OrderRequest(
        customer=CustomerData(email="sophie.koch@example.de", name="Sophie Koch"),
        currency="EUR", lines=lines, delivery=DeliveryRequest(method="pickup", location=STORE),
        delivery_address={}, language="de",
        external_id=f"{EXTERNAL_ID}-{secrets.token_hex(4)}",
        payment=PaymentData(method="card", status="authorized", amount=total,
                            psp_reference=f"demo-return-{secrets.token_hex(6)}")))
    pickup = FulfillmentOrder.objects.get(order=placed.order)
    pickup = pickup_pick(fulfillment=pickup, picked={ln.sku: 1 for ln in lines}, actor="demo")
    pickup_handover(fulfillment=pickup, code=pickup_code(pickup) or "", actor="demo")
    return placed.order


def _price(level: StockLevel) -> Decimal:
    price = level.product.prices.order_by("pk").first()
    return price.amount if price is not None else Decimal("29.90")
