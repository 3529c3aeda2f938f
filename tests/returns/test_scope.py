"""Who may see and act on a return (API.md: a `pos` client its store, a `supplier` its sites,
selling clients their channel; anything else answers 404 and changes nothing). The scope matrix
(tests/test_scope_matrix.py) checks every endpoint for every kind; these read as the story."""

from __future__ import annotations

from typing import Any

import pytest

from returns.models import Return
from tests.returns.conftest import receive_body, return_body
from tests.returns.support import ok, register

pytestmark = pytest.mark.django_db


def test_a_till_takes_back_an_order_of_any_channel_but_only_at_its_own_store(
        network: Any, delivered: Any, pos_munich: Any) -> None:
    # given a webshop order, and the Munich till (channel pos)
    order = delivered([("A", 1)])

    # when the till names Berlin as the store taking it back
    elsewhere = pos_munich.post("/api/v1/returns", return_body(order, [("A", 1)],
                                                               location="ST-BER"))

    # then Berlin does not exist for it; at its own store it takes the order back
    assert elsewhere.status_code == 404, elsewhere.content
    assert not Return.objects.exists()
    assert register(pos_munich, order, [("A", 1)])["location"] == "ST-MUC"


def test_another_stores_till_neither_sees_receives_nor_cancels_a_return(
        network: Any, delivered: Any, pos_munich: Any, pos_berlin: Any) -> None:
    order = delivered([("A", 1)])
    ret = register(pos_munich, order, [("A", 1)])
    path = f"/api/v1/returns/{ret['id']}"

    answers = [pos_berlin.get(path).status_code,
               pos_berlin.post(f"{path}/receive", receive_body([("A", 1)])).status_code,
               pos_berlin.post(f"{path}/cancel", {"reason": "not ours"}).status_code]

    assert answers == [404, 404, 404]
    assert ok(pos_berlin.get("/api/v1/returns"))["results"] == []
    assert Return.objects.get().status == "requested"


def test_a_webshop_of_another_channel_cannot_return_or_see_the_orders_of_this_one(
        network: Any, delivered: Any, shop: Any, api: Any) -> None:
    order = delivered([("A", 1)])
    ret = register(shop, order, [("A", 1)], location="ST-MUC")
    other = api("webshop", channel="other")

    assert other.post("/api/v1/returns", return_body(order, [("A", 1)],
                                                     location="ST-MUC")).status_code == 404
    assert other.get(f"/api/v1/returns/{ret['id']}").status_code == 404
    assert ok(other.get("/api/v1/returns", {"order": order["number"]}))["results"] == []
    assert Return.objects.count() == 1


def test_a_supplier_does_not_see_a_return_going_to_another_site(
        network: Any, delivered: Any, shop: Any, api: Any) -> None:
    network.kassel.accepts_returns = True
    network.kassel.save(update_fields=["accepts_returns"])
    order = delivered([("A", 1)])
    ret = register(shop, order, [("A", 1)])
    supplier = api("supplier", supplier_code="SUP-X")

    assert supplier.get(f"/api/v1/returns/{ret['id']}").status_code == 404
    assert supplier.post(f"/api/v1/returns/{ret['id']}/receive",
                         receive_body([("A", 1)])).status_code == 404
