"""Returns by mail: the return names the site the parcel goes to (the one that shipped it if it
takes returns, else the nearest warehouse or supplier site that does), carries a label from the
carrier, and is received by that site's own system, which alone may; the refund follows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from oms.core.attempts.models import Attempt
from oms.core.attempts.services import attempts_requeue_due
from oms.core.models import OutboxEvent
from oms.orders.models import OrderEvent
from payments.adapters import psp
from payments.models import Payment, Refund, StoreCredit
from returns.adapters import carrier
from returns.adapters.carrier import LabelResult
from returns.models import Return
from tests.factories import SupplierSiteFactory, WarehouseFactory
from tests.network import SHIPPING_ADDRESS, level
from tests.returns.conftest import receive_body
from tests.returns.support import ok, register

pytestmark = pytest.mark.django_db


def takes_returns(*locations: Any, accepts: bool = True) -> None:
    for location in locations:
        location.accepts_returns = accepts
        location.save(update_fields=["accepts_returns"])


def label_attempt(ret: dict[str, Any]) -> Attempt:
    return Attempt.objects.get(kind="return_label", target_id=ret["id"])


def sweep_later(after_commit: Any, minutes: int = 60) -> None:
    """The beat sweep of due attempts, run as if `minutes` had passed (the backoff is over)."""
    after_commit(attempts_requeue_due, now=timezone.now() + timedelta(minutes=minutes))


# --- where it goes ------------------------------------------------------------------------------
def test_a_parcel_goes_back_to_the_warehouse_that_shipped_it_when_it_takes_returns(
        network: Any, delivered: Any, shop: Any, after_commit: Any) -> None:
    # given an order shipped from Kassel, which takes returns, and Hamburg too
    takes_returns(network.kassel, network.hamburg)
    order = delivered([("A", 1)])

    # when the webshop registers a return without a location
    ret = register(shop, order, [("A", 1)])

    # then it goes by mail to Kassel
    assert (ret["mode"], ret["location"], ret["status"]) == ("mail", "WH-KS", "requested")


def test_a_parcel_goes_to_the_nearest_site_that_takes_returns_when_the_shipper_does_not(
        network: Any, delivered: Any, shop: Any) -> None:
    # given Kassel shipped but takes no returns; Hamburg (about 250 km away) and a supplier
    # site in the far north do; the stores are nearer but take no parcels
    takes_returns(network.hamburg)
    SupplierSiteFactory(code="SUP-N", accepts_returns=True)
    order = delivered([("A", 1)])

    # when a return by mail is registered
    ret = register(shop, order, [("A", 1)])

    # then it goes to Hamburg, the nearest parcel site taking returns
    assert (ret["mode"], ret["location"]) == ("mail", "WH-HH")


def test_a_customer_address_with_coordinates_picks_the_site_nearest_to_the_customer(
        network: Any, delivered: Any, shop: Any) -> None:
    # given a customer near Flensburg, next to a supplier site that takes returns
    takes_returns(network.hamburg)
    SupplierSiteFactory(code="SUP-N", accepts_returns=True, lat=54.79, lon=9.45)
    order = delivered([("A", 1)], delivery={"method": "ship", "address": {
        **SHIPPING_ADDRESS, "city": "Flensburg", "postal_code": "24937",
        "lat": 54.78, "lon": 9.43}})

    ret = register(shop, order, [("A", 1)])

    assert ret["location"] == "SUP-N"


def test_no_site_taking_parcels_back_answers_422_and_writes_nothing(
        network: Any, delivered: Any, shop: Any) -> None:
    order = delivered([("A", 1)])

    response = shop.post("/api/v1/returns", {
        "order": order["number"], "refund": {"method": "original"},
        "lines": [{"sku": "A", "quantity": 1, "reason": "too_small",
                   "condition": "resellable"}]})

    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["code"] == "no_return_location"
    assert not Return.objects.exists()


# --- the label ------------------------------------------------------------------------------
def test_the_label_comes_from_the_carrier_once_the_registration_committed(
        network: Any, delivered: Any, shop: Any, after_commit: Any) -> None:
    # given a delivered order and Kassel taking returns
    takes_returns(network.kassel)
    order = delivered([("A", 1)])

    # when the return is registered (and what it left for after its commit runs)
    ret = ok(after_commit(shop.post, "/api/v1/returns", {
        "order": order["number"], "refund": {"method": "original"},
        "lines": [{"sku": "A", "quantity": 1, "reason": "too_small",
                   "condition": "resellable"}]}), 201)

    # then the carrier was asked once, from the customer's address to Kassel
    [asked] = carrier.fake.requests
    assert asked.reference == ret["number"]
    assert asked.sender["city"] == "Berlin"
    assert asked.recipient["name"] == network.kassel.name
    # and the return carries the label and the tracking number
    now = ok(shop.get(f"/api/v1/returns/{ret['id']}"))
    assert now["label_url"] == f"https://labels.example.com/{ret['number']}.pdf"
    assert now["tracking_number"].startswith("RT") and now["carrier"] == "dhl"
    # and the customer's channel hears of it
    [event] = OutboxEvent.objects.filter(topic="return.label_created")
    assert event.payload["label_url"] == now["label_url"]
    assert OrderEvent.objects.filter(order__number=order["number"],
                                     type="return.label_created").count() == 1


def test_a_carrier_failure_is_retried_and_the_label_comes_on_the_next_try(
        network: Any, delivered: Any, shop: Any, after_commit: Any) -> None:
    # given a carrier that fails once with a 503
    takes_returns(network.kassel)
    order = delivered([("A", 1)])
    carrier.fake.fail_next.append(LabelResult.failed("HTTP 503", http_status=503))

    # when the return is registered
    ret = ok(after_commit(shop.post, "/api/v1/returns", {
        "order": order["number"], "refund": {"method": "original"},
        "lines": [{"sku": "A", "quantity": 1, "reason": "too_small",
                   "condition": "resellable"}]}), 201)

    # then there is no label yet, and the attempt waits for its next try
    assert ok(shop.get(f"/api/v1/returns/{ret['id']}"))["label_url"] is None
    attempt = label_attempt(ret)
    assert (attempt.status, attempt.tries, attempt.last_error) == ("pending", 1, "HTTP 503")

    # when the sweep runs after the backoff
    sweep_later(after_commit)

    # then the label is there, asked twice with the same reference (the carrier's key)
    assert ok(shop.get(f"/api/v1/returns/{ret['id']}"))["label_url"]
    assert [r.reference for r in carrier.fake.requests] == [ret["number"]] * 2
    assert label_attempt(ret).status == "succeeded"
    assert not OutboxEvent.objects.filter(topic="return.label_failed").exists()


def test_a_label_given_up_on_tells_the_order_and_the_subscribers(
        network: Any, delivered: Any, shop: Any, after_commit: Any, settings: Any) -> None:
    # given a carrier that keeps failing, and two tries allowed
    settings.RETURN_LABEL_MAX_ATTEMPTS = 2
    takes_returns(network.kassel)
    order = delivered([("A", 1)])
    carrier.fake.fail_next.extend([LabelResult.failed("HTTP 503", http_status=503)] * 2)

    # when the return is registered and the sweep tries again
    ret = ok(after_commit(shop.post, "/api/v1/returns", {
        "order": order["number"], "refund": {"method": "original"},
        "lines": [{"sku": "A", "quantity": 1, "reason": "too_small",
                   "condition": "resellable"}]}), 201)
    sweep_later(after_commit)

    # then the attempt is given up on, with `return.label_failed` in the audit trail and the
    # outbox; the return is still there to be received
    assert label_attempt(ret).status == "dead"
    [event] = OutboxEvent.objects.filter(topic="return.label_failed")
    assert event.payload["number"] == ret["number"]
    assert event.payload["detail"]["attempts"] == 2
    trail = shop.get(f"/api/v1/orders/{order['number']}/events").json()["results"]
    assert "return.label_failed" in [e["type"] for e in trail]
    assert ok(shop.get(f"/api/v1/returns/{ret['id']}"))["status"] == "requested"


# --- the receipt -------------------------------------------------------------------------------
def test_the_warehouse_receives_the_parcel_and_the_refund_follows(
        network: Any, delivered: Any, shop: Any, wms_kassel: Any, after_commit: Any) -> None:
    # given a return by mail to Kassel of one of two units
    takes_returns(network.kassel)
    order = delivered([("A", 2)])
    on_hand = level("A", network.kassel).on_hand
    ret = register(shop, order, [("A", 1)])
    assert Refund.objects.count() == 0

    # when Kassel's WMS receives the parcel
    received = ok(after_commit(wms_kassel.post, f"/api/v1/returns/{ret['id']}/receive",
                               receive_body([("A", 1)])))

    # then the unit is back on Kassel's shelf and the card is refunded through the PSP
    assert level("A", network.kassel).on_hand == on_hand + 1
    [call] = psp.fake.refunds.values()
    assert call.amount == 10
    assert Payment.objects.get(order__number=order["number"]).refunded_amount == 10
    # (the receipt answered before the PSP did: pending; a read afterwards shows it issued)
    assert (received["status"], received["refund"]["status"]) == ("received", "pending")
    now = ok(shop.get(f"/api/v1/returns/{ret['id']}"))
    assert (now["status"], now["refund"]["status"]) == ("closed", "issued")
    assert received["lines"][0] | {"refund_amount": None} == {
        "sku": "A", "quantity": 1, "received": 1, "status": "received", "reason": "too_small",
        "condition": "resellable", "disposition": "restock", "refused_reason": "",
        "refund_amount": None}


def test_another_warehouses_wms_cannot_see_or_receive_the_return(
        network: Any, delivered: Any, shop: Any, api: Any) -> None:
    # given a return by mail to Kassel
    takes_returns(network.kassel)
    order = delivered([("A", 1)])
    ret = register(shop, order, [("A", 1)])
    hamburg = api("wms", location_code="WH-HH")

    # when Hamburg's WMS reads or receives it
    read = hamburg.get(f"/api/v1/returns/{ret['id']}")
    receipt = hamburg.post(f"/api/v1/returns/{ret['id']}/receive", receive_body([("A", 1)]))
    listed = hamburg.get("/api/v1/returns").json()["results"]

    # then it does not exist for Hamburg, and nothing happened
    assert (read.status_code, receipt.status_code) == (404, 404)
    assert listed == []
    assert Return.objects.get().status == "requested"


def test_a_supplier_site_receives_a_parcel_sent_to_it(
        network: Any, delivered: Any, shop: Any, api: Any, after_commit: Any) -> None:
    # given only a supplier site takes parcels back
    site = SupplierSiteFactory(code="SUP-R", accepts_returns=True)
    WarehouseFactory(code="WH-NO")  # takes no returns
    order = delivered([("A", 1)])
    ret = register(shop, order, [("A", 1)], method="store_credit")
    assert ret["location"] == "SUP-R"

    # when the supplier's portal client receives it
    supplier = api("supplier", supplier_code="SUP-R")
    received = ok(after_commit(supplier.post, f"/api/v1/returns/{ret['id']}/receive",
                               receive_body([("A", 1)])))

    # then it is received there and the store credit issued
    assert received["status"] == "closed"
    assert level("A", site).on_hand == 1
    # and the supplier sees the refund but never the credit's code (it is money), which the
    # webshop gets to show the customer
    [part] = received["refund"]["refunds"]
    assert (part["route"], part["store_credit_code"]) == ("store_credit", None)
    [seen] = ok(shop.get(f"/api/v1/returns/{ret['id']}"))["refund"]["refunds"]
    assert seen["store_credit_code"] == StoreCredit.objects.get().code
    listed = ok(supplier.get("/api/v1/returns"))["results"]
    assert listed[0]["refund"]["refunds"][0]["store_credit_code"] is None
