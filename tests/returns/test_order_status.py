"""A return on its order: the lines count what came back, the order is partially returned and
then returned once every fulfilled unit is back, and `return.requested`, `return.received` and
`refund.issued` are in its audit trail and reach webhook subscribers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oms.core.models import WebhookSubscription
from tests.factories import WebhookSubscriptionFactory
from tests.returns.support import ok, register, take_back

pytestmark = pytest.mark.django_db

TOPICS = ["return.requested", "return.received", "refund.issued"]


def status_and_returned(shop: Any, order: dict[str, Any]) -> tuple[str, dict[str, int]]:
    now = ok(shop.get(f"/api/v1/orders/{order['number']}"))
    return now["status"], {ln["sku"]: ln["returned"] for ln in now["lines"]}


def test_the_order_is_partially_returned_then_returned_once_every_unit_is_back(
        network: Any, delivered: Any, pos_munich: Any, shop: Any, after_commit: Any) -> None:
    # given a delivered order of 2 A and 1 B
    order = delivered([("A", 2), ("B", 1)])
    assert status_and_returned(shop, order)[0] == "completed"

    # when one A comes back
    take_back(pos_munich, after_commit, order, [("A", 1)])
    # then the order is partially returned, the line counting it
    assert status_and_returned(shop, order) == ("partially_returned", {"A": 1, "B": 0})

    # when B comes back on another visit
    take_back(pos_munich, after_commit, order, [("B", 1)])
    # then it is still partially returned
    assert status_and_returned(shop, order) == ("partially_returned", {"A": 1, "B": 1})

    # when the last A comes back
    take_back(pos_munich, after_commit, order, [("A", 1)])
    # then the order is returned
    assert status_and_returned(shop, order) == ("returned", {"A": 2, "B": 1})


def test_a_return_only_announced_does_not_change_the_order(
        network: Any, delivered: Any, pos_munich: Any, shop: Any) -> None:
    order = delivered([("A", 1)])

    register(pos_munich, order, [("A", 1)])

    assert status_and_returned(shop, order) == ("completed", {"A": 0})


def test_return_and_refund_events_are_in_the_orders_audit_trail(
        network: Any, delivered: Any, pos_munich: Any, shop: Any, after_commit: Any) -> None:
    # given a delivered order
    order = delivered([("A", 1)])

    # when it comes back in Munich with a card refund
    ret = take_back(pos_munich, after_commit, order, [("A", 1)])

    # then the trail has the registration, the receipt and the refund, in that order
    trail = ok(shop.get(f"/api/v1/orders/{order['number']}/events"))["results"]
    types = [e["type"] for e in trail]
    assert [t for t in types if t in TOPICS] == TOPICS
    by_type = {e["type"]: e for e in trail}
    assert by_type["return.requested"]["data"]["return"] == ret["number"]
    assert by_type["return.requested"]["actor"] == pos_munich.api_client.name
    assert by_type["return.received"]["data"]["status"] == "received"
    refund = by_type["refund.issued"]["data"]
    assert (refund["reference"], refund["amount"], refund["route"]) == (
        ret["number"], "10.00", "psp")
    # and so are the lines' count and the order's new status
    assert {"order.lines_returned", "order.returned"} <= set(types)


@pytest.mark.django_db(transaction=True)
def test_return_and_refund_events_reach_webhook_subscribers(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any,
        webhook_receiver: Any) -> None:
    # given a subscriber of the return and refund topics
    WebhookSubscriptionFactory(url=webhook_receiver.url, topics=TOPICS)
    order = delivered([("A", 1)], payment={"method": "invoice", "status": "pending",
                                           "amount": "10.00"})

    # when the order comes back in Munich
    ret = take_back(pos_munich, after_commit, order, [("A", 1)], method="store_credit")

    # then the subscriber received each topic once, about this return
    bodies = [json.loads(r.body) for r in webhook_receiver.requests]
    received = sorted(b["type"] for b in bodies)
    assert received == sorted(TOPICS)
    for body in bodies:
        about = body["data"]
        assert ret["number"] in (about.get("number"), about.get("reference"))
    # and the refund's payload never carries the store credit's code
    [refund] = [b for b in bodies if b["type"] == "refund.issued"]
    assert "SC-" not in json.dumps(refund)
    assert WebhookSubscription.objects.count() == 1
