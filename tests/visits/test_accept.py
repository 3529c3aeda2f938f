"""The customer accepts the offer: the goods move from the parcel to a pickup at the store,
the warehouse is told to stop the parcel, and when it answers that it is too late, everything
goes back as it was, without a unit lost or counted twice."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from fulfillment.adapters.wms import FakeWarehouseGateway
from fulfillment.dispatch import fulfillment_dispatch
from fulfillment.models import FulfillmentOrder
from fulfillment.pickup_codes import derive_code
from inventory.models import StockLevel, StockMovement
from oms.core.attempts.selectors import attempt_of
from oms.core.attempts.services import attempt_retry, attempt_run_for, attempts_requeue_due
from oms.core.models import OutboxEvent
from oms.orders.models import Order, OrderEvent
from payments.models import Refund
from tests.conftest import error_codes
from tests.visits.conftest import visit
from visits.models import PickupOffer, PickupOfferPolicy
from visits.services import offers_expire_due
from visits.stop import WMS_STOP

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered(ordered: Any, app: Any) -> Any:
    """offered(**ordered_kwargs) → (order JSON, offer id): Kim's parcel offered at Munich."""

    def run(**kwargs: Any) -> tuple[dict[str, Any], int]:
        order = ordered(**kwargs)
        [offer] = visit(app).json()["offers"]
        return order, offer["id"]

    return run


@pytest.fixture
def pushed(network: Any, settings: Any) -> FakeWarehouseGateway:
    """Kassel has a WMS endpoint: its parcels are pushed there (by a fake gateway)."""
    network.kassel.wms_url = "http://wms.invalid/hook"
    network.kassel.wms_secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
    network.kassel.save()
    return FakeWarehouseGateway()


def parcel_of(order: dict[str, Any]) -> FulfillmentOrder:
    return FulfillmentOrder.objects.get(order__number=order["number"], location__code="WH-KS")


def accept(client: Any, offer: int) -> Any:
    return client.post(f"/api/v1/pickup-offers/{offer}/accept")


def stock(network: Any) -> dict[tuple[str, str], tuple[int, int]]:
    """(sku, location) → (on hand, reserved) for A and B at Kassel and Munich."""
    return {(lv.product_id, lv.location.code): (lv.on_hand, lv.reserved)
            for lv in StockLevel.objects.select_related("location").filter(
                product_id__in=["A", "B"], location__in=[network.kassel, network.munich])}


def snapshot(order: dict[str, Any]) -> dict[str, Any]:
    """Every row an accept may write, to compare before and after a refusal."""
    return {
        "fulfillments": sorted(FulfillmentOrder.objects.filter(order__number=order["number"])
                               .values_list("pk", "status", "kind")),
        "levels": sorted(StockLevel.objects.values_list("pk", "on_hand", "reserved")),
        "offers": sorted(PickupOffer.objects.values_list("pk", "status", "shipment_stop")),
        "events": OutboxEvent.objects.count(),
        "trail": OrderEvent.objects.count(),
    }


def test_accepting_moves_the_goods_to_a_pickup_at_the_store_and_cancels_the_parcel(
        offered: Any, app: Any, network: Any) -> None:
    # given Kim's parcel offered at Munich; Kassel has no push endpoint (it polls)
    order, offer = offered()
    assert stock(network)[("A", "WH-KS")] == (10, 1)

    # when she accepts
    response = accept(app, offer)

    # then the offer is accepted and nothing needed stopping: Kassel never had it
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["shipment_stop"]) == ("accepted", "not_needed")
    # the parcel is cancelled and a pickup at Munich is being prepared
    assert parcel_of(order).status == "cancelled"
    pickup = FulfillmentOrder.objects.get(pk=body["pickup"])
    assert (pickup.location.code, pickup.kind, pickup.status, pickup.waits_for_stop) == (
        "ST-MUC", "pickup", "picking", False)
    assert sorted((ln.sku, ln.quantity) for ln in pickup.lines.all()) == [("A", 1), ("B", 1)]
    # the reservation moved from Kassel to Munich, no unit on hand moved
    assert stock(network) == {("A", "WH-KS"): (10, 0), ("B", "WH-KS"): (10, 0),
                              ("A", "ST-MUC"): (5, 1), ("B", "ST-MUC"): (5, 1)}
    stored = PickupOffer.objects.get(pk=offer)
    assert stored.shipment_avoided is True
    assert OutboxEvent.objects.filter(topic="pickup_offer.accepted").count() == 1
    assert Order.objects.get(number=order["number"]).status == "in_fulfillment"


def test_staff_prepare_the_accepted_pickup_and_the_customer_collects_it_with_the_code(
        offered: Any, app: Any, network: Any, api: Any) -> None:
    # given an accepted offer with shipping charged on the order
    order, offer = offered(shipping="4.95")
    pickup_id = accept(app, offer).json()["pickup"]
    # then the shipping is waived: no parcel is sent at all
    placed = Order.objects.get(number=order["number"])
    assert (placed.shipping_total, placed.total) == (Decimal("0.00"), Decimal("20.00"))
    assert OutboxEvent.objects.filter(topic="order.shipping_waived").count() == 1

    # when Munich staff pick both items and the customer shows the code at the counter
    till = api("pos", location_code="ST-MUC", channel="pos")
    picked = till.post(f"/api/v1/fulfillments/{pickup_id}/pick",
                       {"lines": [{"sku": "A", "picked": 1}, {"sku": "B", "picked": 1}]})
    assert picked.status_code == 200, picked.content
    pickup = FulfillmentOrder.objects.get(pk=pickup_id)
    assert pickup.status == "ready_for_pickup"
    code = derive_code(pickup.pk, pickup.pickup_code_salt)
    handed = till.post(f"/api/v1/fulfillments/{pickup_id}/handover", {"pickup_code": code})

    # then the goods leave Munich's shelf, the order is complete, and only the goods are
    # captured
    assert handed.status_code == 200, handed.content
    assert stock(network)[("A", "ST-MUC")] == (4, 0)
    assert Order.objects.get(number=order["number"]).status == "completed"
    [event] = OutboxEvent.objects.filter(topic="fulfillment.picked_up")
    assert event.payload["amount"] == "20.00"


def test_a_parcel_the_warehouse_has_is_stopped_there_before_the_pickup_is_ready(
        offered: Any, app: Any, network: Any, api: Any, pushed: FakeWarehouseGateway) -> None:
    # given Kassel received the parcel through its push endpoint
    order, offer = offered()
    assert fulfillment_dispatch(fulfillment_id=parcel_of(order).pk, gateway=pushed) == \
        "succeeded"

    # when Kim accepts
    body = accept(app, offer).json()

    # then the stop is requested, and until Kassel answers both places hold the units
    assert body["shipment_stop"] == "requested"
    assert stock(network)[("A", "WH-KS")] == (10, 1)
    assert stock(network)[("A", "ST-MUC")] == (5, 1)
    # staff can pick, but the pickup is not ready while the warehouse may still ship it
    till = api("pos", location_code="ST-MUC", channel="pos")
    till.post(f"/api/v1/fulfillments/{body['pickup']}/pick",
              {"lines": [{"sku": "A", "picked": 1}, {"sku": "B", "picked": 1}]})
    assert FulfillmentOrder.objects.get(pk=body["pickup"]).status == "picking"

    # when the stop reaches Kassel, which stops the parcel
    assert attempt_run_for(kind=WMS_STOP, target_id=offer, adapter=pushed) == "succeeded"

    # then Kassel got a signed stop for the parcel's units, the warehouse's units are free
    # again, and the pickup is ready at once (everything was picked)
    [stop] = pushed.stops
    assert stop.message_id == f"stop_{offer}"
    assert stop.payload["type"] == "fulfillment.stop"
    assert stop.payload["id"] == parcel_of(order).pk
    assert stop.payload["status"] == "cancelled" and stop.payload["lines"] == []
    assert sorted((s["sku"], s["quantity"]) for s in stop.payload["stop"]) == [("A", 1),
                                                                              ("B", 1)]
    assert stock(network)[("A", "WH-KS")] == (10, 0)
    assert stock(network)[("A", "ST-MUC")] == (5, 1)
    assert FulfillmentOrder.objects.get(pk=body["pickup"]).status == "ready_for_pickup"
    assert PickupOffer.objects.get(pk=offer).shipment_stop == "stopped"


def test_when_the_warehouse_is_too_late_the_accept_is_undone_and_stock_is_exact(
        offered: Any, app: Any, network: Any, api: Any, pushed: FakeWarehouseGateway) -> None:
    # given Kassel has the parcel and Kim accepted the offer
    order, offer = offered()
    fulfillment_dispatch(fulfillment_id=parcel_of(order).pk, gateway=pushed)
    before = stock(network)
    body = accept(app, offer).json()

    # when Kassel answers that it already picked the parcel
    pushed.stop_status = 409
    assert attempt_run_for(kind=WMS_STOP, target_id=offer, adapter=pushed) == "succeeded"

    # then the offer is withdrawn, the pickup cancelled, the parcel the warehouse's again
    stored = PickupOffer.objects.get(pk=offer)
    assert (stored.status, stored.shipment_stop, stored.shipment_avoided) == (
        "withdrawn", "too_late", False)
    assert FulfillmentOrder.objects.get(pk=body["pickup"]).status == "cancelled"
    parcel = parcel_of(order)
    assert parcel.status == "accepted"
    assert sorted((ln.sku, ln.open_quantity) for ln in parcel.lines.all()) == [("A", 1),
                                                                              ("B", 1)]
    # and not a unit was lost or doubled: stock is as before the accept
    assert stock(network) == before
    assert not StockMovement.objects.exists()
    # the customer is told
    [withdrawn] = OutboxEvent.objects.filter(topic="pickup_offer.withdrawn")
    assert withdrawn.payload["reason"] == "shipment_already_left"

    # and Kassel ships the parcel as if nothing happened
    wms = api("wms", location_code="WH-KS")
    shipped = wms.post(f"/api/v1/fulfillments/{parcel.pk}/ship",
                       {"carrier": "dhl", "tracking_number": "JD0001"})
    assert shipped.status_code == 200, shipped.content
    assert stock(network)[("A", "WH-KS")] == (9, 0)
    assert Order.objects.get(number=order["number"]).status == "shipped"


def test_a_parcel_that_left_before_the_accept_answers_409_and_nothing_changes(
        offered: Any, app: Any, api: Any) -> None:
    # given Kim's offer, and Kassel ships the parcel meanwhile
    order, offer = offered()
    wms = api("wms", location_code="WH-KS")
    assert wms.post(f"/api/v1/fulfillments/{parcel_of(order).pk}/ship",
                    {"carrier": "dhl", "tracking_number": "JD0002"}).status_code == 200
    before = snapshot(order)

    # when she accepts, then 409 and nothing changed
    response = accept(app, offer)
    assert response.status_code == 409
    assert error_codes(response) == ["already_left"]
    assert snapshot(order) == before


def test_an_offer_is_accepted_once(offered: Any, app: Any) -> None:
    order, offer = offered()
    assert accept(app, offer).status_code == 200
    before = snapshot(order)
    again = accept(app, offer)
    declined = app.post(f"/api/v1/pickup-offers/{offer}/decline")
    assert (again.status_code, declined.status_code) == (409, 409)
    assert error_codes(again) == ["invalid_transition"]
    assert snapshot(order) == before


def test_an_offer_past_its_time_cannot_be_accepted_even_before_the_sweep(
        offered: Any, app: Any) -> None:
    order, offer = offered()
    PickupOffer.objects.filter(pk=offer).update(expires_at=timezone.now() - timedelta(seconds=1))
    before = snapshot(order)
    response = accept(app, offer)
    assert response.status_code == 409 and error_codes(response) == ["invalid_transition"]
    assert snapshot(order) == before


def test_the_expiry_sweep_leaves_an_accepted_offer_alone(offered: Any, app: Any) -> None:
    _order, offer = offered()
    accept(app, offer)
    assert offers_expire_due(now=timezone.now() + timedelta(hours=1)) == 0
    assert PickupOffer.objects.get(pk=offer).status == "accepted"


def test_goods_gone_from_the_shelf_since_the_offer_answer_409_and_nothing_changes(
        offered: Any, app: Any, network: Any) -> None:
    # given the offer, and someone bought Munich's last B meanwhile
    order, offer = offered(munich={"A": 5, "B": 1})
    StockLevel.objects.filter(product_id="B", location=network.munich).update(reserved=1)
    before = snapshot(order)
    response = accept(app, offer)
    assert response.status_code == 409, response.content
    assert error_codes(response) == ["insufficient_stock"]
    assert snapshot(order) == before


def test_a_partial_offer_shrinks_the_parcel_and_keeps_the_shipping(
        offered: Any, app: Any, network: Any, pushed: FakeWarehouseGateway) -> None:
    # given Munich has only A; Kassel has the parcel
    order, offer = offered(munich={"A": 5}, shipping="4.95")
    fulfillment_dispatch(fulfillment_id=parcel_of(order).pk, gateway=pushed)

    # when Kim takes A with her and Kassel stops it
    accept(app, offer)
    attempt_run_for(kind=WMS_STOP, target_id=offer, adapter=pushed)

    # then the parcel still ships B, the stop named A and what is left, and shipping stays
    parcel = parcel_of(order)
    assert parcel.status == "pending"
    assert sorted((ln.sku, ln.open_quantity) for ln in parcel.lines.all()) == [("A", 0),
                                                                              ("B", 1)]
    assert pushed.stops[0].payload["lines"] == [{"sku": "B", "quantity": 1}]
    assert PickupOffer.objects.get(pk=offer).shipment_avoided is False
    assert Order.objects.get(number=order["number"]).shipping_total == Decimal("4.95")
    assert stock(network)[("A", "WH-KS")] == (10, 0)
    assert stock(network)[("B", "WH-KS")] == (10, 1)


def test_a_prepaid_order_gets_its_shipping_back_when_no_parcel_is_sent(
        offered: Any, app: Any, settings: Any) -> None:
    order, offer = offered(shipping="4.95", paid="captured")
    accept(app, offer)
    [refund] = Refund.objects.filter(order__number=order["number"])
    assert (refund.amount, refund.route, refund.reference) == (
        Decimal("4.95"), "psp", f"pickup offer {offer}")


def test_a_channel_that_keeps_the_shipping_keeps_it(offered: Any, app: Any) -> None:
    PickupOfferPolicy.objects.create(channel="web", refund_shipping=False)
    order, offer = offered(shipping="4.95")
    accept(app, offer)
    assert Order.objects.get(number=order["number"]).shipping_total == Decimal("4.95")
    assert not OutboxEvent.objects.filter(topic="order.shipping_waived").exists()


def test_a_warehouse_that_does_not_answer_is_retried_then_staff_are_told(
        offered: Any, app: Any, network: Any, pushed: FakeWarehouseGateway,
        settings: Any) -> None:
    # given Kassel has the parcel, Kim accepted, and Kassel's endpoint fails
    settings.WMS_MAX_ATTEMPTS = 2
    order, offer = offered()
    fulfillment_dispatch(fulfillment_id=parcel_of(order).pk, gateway=pushed)
    pickup = accept(app, offer).json()["pickup"]
    pushed.stop_statuses = [503, 502]

    # when both tries fail
    assert attempt_run_for(kind=WMS_STOP, target_id=offer, adapter=pushed) == "pending"
    assert attempt_run_for(kind=WMS_STOP, target_id=offer, adapter=pushed) == "dead"

    # then staff are told, the pickup keeps waiting and both reservations stand
    assert PickupOffer.objects.get(pk=offer).shipment_stop == "failed"
    assert OutboxEvent.objects.filter(topic="pickup_offer.stop_failed").count() == 1
    assert FulfillmentOrder.objects.get(pk=pickup).waits_for_stop is True
    assert stock(network)[("A", "WH-KS")] == (10, 1)
    assert stock(network)[("A", "ST-MUC")] == (5, 1)

    # when staff retry from the admin and Kassel stops it now
    attempt = attempt_of(kind=WMS_STOP, target_id=offer)
    assert attempt is not None and attempt_retry(attempt=attempt)
    assert attempt_run_for(kind=WMS_STOP, target_id=offer, adapter=pushed) == "succeeded"

    # then it is stopped like any other
    assert PickupOffer.objects.get(pk=offer).shipment_stop == "stopped"
    assert stock(network)[("A", "WH-KS")] == (10, 0)


def test_a_refusal_other_than_too_late_is_given_up_at_once(
        offered: Any, app: Any, pushed: FakeWarehouseGateway) -> None:
    order, offer = offered()
    fulfillment_dispatch(fulfillment_id=parcel_of(order).pk, gateway=pushed)
    accept(app, offer)
    pushed.stop_status = 400
    assert attempt_run_for(kind=WMS_STOP, target_id=offer, adapter=pushed) == "dead"
    assert PickupOffer.objects.get(pk=offer).shipment_stop == "failed"


def test_a_stop_task_delivered_twice_stops_once(
        offered: Any, app: Any, pushed: FakeWarehouseGateway, settings: Any) -> None:
    from fulfillment.adapters.wms import fake_gateway
    from visits.tasks import stop_shipment

    order, offer = offered()
    fulfillment_dispatch(fulfillment_id=parcel_of(order).pk, gateway=pushed)
    accept(app, offer)
    settings.WMS_GATEWAY = "fake"
    gateway = fake_gateway()
    gateway.stops.clear()
    attempt = attempt_of(kind=WMS_STOP, target_id=offer)
    assert attempt is not None
    run = {"attempt_id": attempt.pk, "tries": 0}
    assert (stop_shipment.delay(**run).get(), stop_shipment.delay(**run).get()) == (
        "succeeded", "skipped")
    assert len(gateway.stops) == 1
    assert OutboxEvent.objects.filter(topic="pickup_offer.shipment_stopped").count() == 1


def test_a_stop_lost_between_commit_and_queue_is_sent_by_the_sweep(
        offered: Any, app: Any, pushed: FakeWarehouseGateway) -> None:
    # given the accept committed but its task never reached the broker (on_commit callbacks
    # do not run in this test: a crash right after the commit)
    order, offer = offered()
    fulfillment_dispatch(fulfillment_id=parcel_of(order).pk, gateway=pushed)
    accept(app, offer)
    attempt = attempt_of(kind=WMS_STOP, target_id=offer)
    assert attempt is not None and (attempt.status, attempt.tries) == ("pending", 0)

    # when the beat sweep runs after the lease, then the stop is queued again and goes out
    later = timezone.now() + timedelta(minutes=5)
    assert attempts_requeue_due(now=later, kinds=[WMS_STOP.name]) == 1
    assert attempt_run_for(kind=WMS_STOP, target_id=offer, adapter=pushed) == "succeeded"
    assert PickupOffer.objects.get(pk=offer).shipment_stop == "stopped"


def test_a_dispatch_not_sent_yet_needs_no_stop_and_goes_out_shrunk(
        offered: Any, app: Any, pushed: FakeWarehouseGateway) -> None:
    # given the parcel's dispatch to Kassel is still waiting to be sent, Munich has only A
    order, offer = offered(munich={"A": 5})
    body = accept(app, offer).json()
    assert body["shipment_stop"] == "not_needed"

    # when the dispatch goes out, then Kassel gets only what is left
    assert fulfillment_dispatch(fulfillment_id=parcel_of(order).pk, gateway=pushed) == \
        "succeeded"
    [sent] = pushed.sent
    assert sent.payload["lines"] == [{"sku": "B", "quantity": 1}]
    assert pushed.stops == []


@pytest.mark.parametrize(("kind", "fields", "status"), [
    ("pos", {"location_code": "ST-BER", "channel": "pos"}, 404),  # a till of another store
    ("app", {"channel": "app2"}, 404),  # another app that did not register the visit
    ("webshop", {"channel": "web"}, 403),
    ("wms", {"location_code": "WH-KS"}, 403),
])
def test_only_the_registering_app_or_a_till_of_the_store_can_accept(
        offered: Any, api: Any, kind: str, fields: dict[str, str], status: int) -> None:
    order, offer = offered()
    before = snapshot(order)
    assert accept(api(kind, **fields), offer).status_code == status
    assert snapshot(order) == before


def test_a_till_of_the_store_accepts_for_the_customer_at_its_counter(
        offered: Any, api: Any) -> None:
    _order, offer = offered()
    till = api("pos", location_code="ST-MUC", channel="pos")
    assert accept(till, offer).status_code == 200


def test_an_unknown_offer_answers_404(network: Any, app: Any) -> None:
    response = accept(app, 999999)
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]



def test_the_http_warehouse_gateway_sends_a_signed_stop_and_reads_too_late(
        offered: Any, app: Any, network: Any, webhook_receiver: Any) -> None:
    from fulfillment.adapters.wms import HttpWarehouseGateway
    from oms.core.webhooks.signing import verify

    # given Kassel's WMS is a real HTTP endpoint that took the parcel
    network.kassel.wms_url = webhook_receiver.url
    network.kassel.wms_secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
    network.kassel.save()
    order, offer = offered()
    gateway = HttpWarehouseGateway()
    assert fulfillment_dispatch(fulfillment_id=parcel_of(order).pk, gateway=gateway) == \
        "succeeded"
    accept(app, offer)

    # when the stop goes out and the WMS answers 409 (already picked)
    webhook_receiver.status = 409
    assert attempt_run_for(kind=WMS_STOP, target_id=offer, adapter=gateway) == "succeeded"

    # then it received a signed stop of type fulfillment.stop, and the accept was undone
    dispatch, stop = webhook_receiver.requests
    assert json.loads(dispatch.body)["type"] == "fulfillment.dispatch"
    assert stop.headers["webhook-id"] == f"stop_{offer}"
    assert verify(network.kassel.wms_secret, stop.headers["webhook-id"],
                  int(stop.headers["webhook-timestamp"]), stop.body,
                  stop.headers["webhook-signature"])
    assert json.loads(stop.body)["type"] == "fulfillment.stop"
    assert PickupOffer.objects.get(pk=offer).status == "withdrawn"


def test_a_warehouse_that_does_not_know_the_parcel_counts_as_stopped(
        offered: Any, app: Any, network: Any, pushed: FakeWarehouseGateway) -> None:
    # given the dispatch to Kassel died (Kassel never took the parcel) and Kim accepted
    order, offer = offered()
    pushed.default_status = 400
    fulfillment_dispatch(fulfillment_id=parcel_of(order).pk, gateway=pushed)
    body = accept(app, offer).json()
    assert body["shipment_stop"] == "requested"

    # when the stop is answered 404 (no such parcel)
    pushed.stop_status = 404
    assert attempt_run_for(kind=WMS_STOP, target_id=offer, adapter=pushed) == "succeeded"

    # then the parcel counts as stopped: the warehouse's hold goes, the pickup no longer waits
    assert PickupOffer.objects.get(pk=offer).shipment_stop == "stopped"
    assert stock(network)[("A", "WH-KS")] == (10, 0)
    assert FulfillmentOrder.objects.get(pk=body["pickup"]).waits_for_stop is False


def test_a_parcel_a_polling_warehouse_acknowledged_is_not_taken(
        offered: Any, app: Any, api: Any) -> None:
    # given Kim's offer, and Kassel (which polls) acknowledged the parcel meanwhile
    order, offer = offered()
    wms = api("wms", location_code="WH-KS")
    assert wms.post(f"/api/v1/fulfillments/{parcel_of(order).pk}/accept").status_code == 200
    before = snapshot(order)

    # when she accepts, then 409: the warehouse may be picking it and cannot be told to stop
    response = accept(app, offer)
    assert response.status_code == 409 and error_codes(response) == ["already_left"]
    assert snapshot(order) == before
