"""What a parcel is worth to the payment: the goods at their prices less their share of the
order discount, and the shipping with the first parcel, so that partial shipments never
capture more than those goods cost the customer."""

from __future__ import annotations

from typing import Any

import pytest

from fulfillment.models import FulfillmentOrder
from oms.core.models import OutboxEvent
from tests.network import order_body

pytestmark = pytest.mark.django_db


def _shipped_amounts(number: str) -> list[str]:
    return [event.payload["amount"] for event in OutboxEvent.objects.filter(
        topic="fulfillment.shipped", payload__order=number).order_by("created_at")]


def test_two_parcels_of_a_discounted_order_capture_its_total_and_shipping_once(
        network: Any, shop: Any, wms: Any) -> None:
    # given an order of A and B at 10.00 each with a 5.00 voucher and 4.95 shipping (19.95)
    network.stock(network.kassel, "A", 5)
    network.stock(network.kassel, "B", 5)
    body = order_body([("A", 1), ("B", 1)], discount="5.00", shipping="4.95")
    body["payment"]["amount"] = "19.95"
    order = shop.post("/api/v1/orders", body).json()
    fo = FulfillmentOrder.objects.get(order__number=order["number"])

    # when Kassel ships A, then B in a second parcel
    for sku, tracking in (("A", "P1"), ("B", "P2")):
        response = wms.post(f"/api/v1/fulfillments/{fo.pk}/ship", {
            "carrier": "dhl", "tracking_number": tracking,
            "lines": [{"sku": sku, "quantity": 1}]})
        assert response.status_code == 200, response.content

    # then the first parcel is worth A less half the voucher plus shipping, the second B less
    # the other half: together exactly what the customer was asked for
    assert _shipped_amounts(order["number"]) == ["12.45", "7.50"]


def test_an_uncollected_pickup_gives_back_its_goods_net_of_the_discount(
        network: Any, shop: Any, api: Any) -> None:
    # given a pickup of 2 A at 10.00 with a 3.00 voucher, ready at Munich
    from fulfillment.pickup import pickup_expire

    network.stock(network.munich, "A", 5)
    body = order_body([("A", 2)], discount="3.00",
                      delivery={"method": "pickup", "location": "ST-MUC"})
    body["payment"]["amount"] = "17.00"
    order = shop.post("/api/v1/orders", body).json()
    fo = FulfillmentOrder.objects.get(order__number=order["number"])
    pos = api("pos", location_code="ST-MUC")
    assert pos.post(f"/api/v1/fulfillments/{fo.pk}/pick",
                    {"lines": [{"sku": "A", "picked": 2}]}).status_code == 200

    # when nobody comes before the deadline
    fo.refresh_from_db()
    assert pickup_expire(fulfillment=fo, now=fo.pickup_deadline)

    # then what goes back is what the customer paid for those goods
    [event] = OutboxEvent.objects.filter(topic="fulfillment.pickup_expired")
    assert event.payload["amount"] == "17.00"
