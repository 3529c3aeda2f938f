"""Accepting an offer with real threads and connections against PostgreSQL: eight accepts at
once, an accept racing the warehouse's pick, and an accept retried with its Idempotency-Key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from fulfillment.models import FulfillmentOrder
from inventory.models import StockLevel
from oms.core.models import OutboxEvent
from tests.visits.conftest import visit
from visits.models import PickupOffer

pytestmark = pytest.mark.django_db(transaction=True)
REPLAYED = "Idempotent-Replayed"


def http(session: Any) -> Client:
    """A fresh test client per thread, carrying the session's token."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {session.api_client.token}")


def accept(client: Client, offer: int, **headers: str) -> Any:
    return client.post(f"/api/v1/pickup-offers/{offer}/accept", data=json.dumps({}),
                       content_type="application/json",
                       **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})


def reserved(network: Any) -> dict[tuple[str, str], int]:
    return {(lv.product_id, lv.location.code): lv.reserved
            for lv in StockLevel.objects.select_related("location").filter(
                location__in=[network.kassel, network.munich])}


def test_eight_accepts_at_once_move_the_goods_exactly_once(
        ordered: Any, app: Any, api: Any, network: Any, run_concurrently: Any) -> None:
    # given Kim's parcel offered at Munich, and the app plus seven Munich tills
    order = ordered()
    [offer] = visit(app).json()["offers"]
    senders = [app] + [api("pos", location_code="ST-MUC", channel="pos") for _ in range(7)]

    # when all eight accept at the same moment
    results = run_concurrently(8, lambda i: accept(http(senders[i]), offer["id"]))

    # then exactly one succeeds, the others hear 409
    assert sorted(r.status_code for r in results) == [200] + [409] * 7, \
        [r.content for r in results]
    # one pickup, one cancelled parcel, and each unit reserved once, at Munich
    fulfillments = FulfillmentOrder.objects.filter(order__number=order["number"])
    assert sorted(fulfillments.values_list("kind", "status")) == [("pickup", "picking"),
                                                                 ("ship", "cancelled")]
    assert reserved(network) == {("A", "WH-KS"): 0, ("B", "WH-KS"): 0,
                                 ("A", "ST-MUC"): 1, ("B", "ST-MUC"): 1}
    assert OutboxEvent.objects.filter(topic="pickup_offer.accepted").count() == 1
    assert PickupOffer.objects.get(pk=offer["id"]).status == "accepted"


def test_an_accept_racing_the_warehouse_pick_leaves_one_of_them_standing(
        ordered: Any, app: Any, api: Any, network: Any, run_concurrently: Any) -> None:
    # given the offer, and Kassel about to pick the parcel
    order = ordered()
    [offer] = visit(app).json()["offers"]
    parcel = FulfillmentOrder.objects.get(order__number=order["number"])
    wms = api("wms", location_code="WH-KS")
    pick = {"lines": [{"sku": "A", "picked": 1}, {"sku": "B", "picked": 1}]}

    def act(i: int) -> Any:
        if i == 0:
            return accept(http(app), offer["id"])
        return http(wms).post(f"/api/v1/fulfillments/{parcel.pk}/pick", data=json.dumps(pick),
                              content_type="application/json")

    # when the accept and the pick arrive at the same moment
    accepted, picked = run_concurrently(2, act)

    # then one of them wins, and the reservations match the winner
    assert sorted([accepted.status_code, picked.status_code]) == [200, 409], \
        (accepted.content, picked.content)
    if accepted.status_code == 200:
        assert reserved(network)[("A", "ST-MUC")] == 1
        assert reserved(network)[("A", "WH-KS")] == 0
    else:
        assert json.loads(accepted.content)["errors"][0]["code"] == "already_left"
        assert reserved(network)[("A", "ST-MUC")] == 0
        assert reserved(network)[("A", "WH-KS")] == 1


def test_an_accept_retried_with_its_idempotency_key_is_answered_again_not_redone(
        ordered: Any, app: Any, network: Any) -> None:
    ordered()
    [offer] = visit(app).json()["offers"]
    first = accept(http(app), offer["id"], **{"Idempotency-Key": "acc-1"})
    again = accept(http(app), offer["id"], **{"Idempotency-Key": "acc-1"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers[REPLAYED] == "true"
    assert again.json() == first.json()
    assert reserved(network)[("A", "ST-MUC")] == 1
    assert OutboxEvent.objects.filter(topic="pickup_offer.accepted").count() == 1
