"""New fulfilment orders are pushed to their location's system, at least once, signed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.adapters.wms import FakeWarehouseGateway
from fulfillment.dispatch import WMS_DISPATCH, fulfillment_dispatch
from fulfillment.handlers import send_fulfillments_held_for_payment
from fulfillment.models import FulfillmentOrder
from inventory.models import StockLevel
from notifications.handlers import notify_order_confirmed
from oms.core.attempts.selectors import attempt_of
from oms.core.attempts.services import attempts_requeue_due
from oms.core.models import Attempt, OutboxEvent, ProcessedEvent
from oms.core.webhooks.signing import verify
from tests.core.handlers import handler_name
from tests.fulfillment.conftest import fulfillment_of


def dispatch_of(fo: FulfillmentOrder) -> Attempt:
    attempt = attempt_of(kind=WMS_DISPATCH, target_id=fo.pk)
    assert attempt is not None
    return attempt


def dispatches_requeue_due(**kwargs) -> int:
    return attempts_requeue_due(kinds=[WMS_DISPATCH.name], **kwargs)


@pytest.fixture
def pushed_order(network, place, webhook_receiver, django_capture_on_commit_callbacks):
    """An order whose Kassel warehouse has a push endpoint (the receiver)."""
    network.kassel.wms_url = webhook_receiver.url
    network.kassel.wms_secret = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
    network.kassel.save()
    network.stock(network.kassel, "A", 5)

    def run(**receiver_script):
        webhook_receiver.script = receiver_script.get("script", [])
        with django_capture_on_commit_callbacks(execute=True):
            order = place([("A", 2)])
        return fulfillment_of(order, "WH-KS")

    return run


def test_a_new_fulfilment_is_pushed_to_its_warehouse_signed_like_a_webhook(
        pushed_order, webhook_receiver, network):
    # When an order is placed for a warehouse with a push endpoint
    fo = pushed_order()
    # Then its WMS received it once, signed with the location's secret, and it counts as sent
    assert dispatch_of(fo).status == "succeeded"
    assert len(webhook_receiver.requests) == 1
    request = webhook_receiver.requests[0]
    headers = request.headers
    assert headers["webhook-id"] == f"fo_{fo.pk}"
    assert verify(network.kassel.wms_secret, headers["webhook-id"],
                  int(headers["webhook-timestamp"]), request.body, headers["webhook-signature"])
    body = json.loads(request.body)
    assert body["order"] == fo.order.number
    assert body["lines"] == [{"sku": "A", "quantity": 2}]


def test_a_wms_failing_twice_gets_the_dispatch_on_the_third_attempt(pushed_order,
                                                                   webhook_receiver):
    # Given a WMS that answers 500 and 503 before it recovers
    fo = pushed_order(script=[(500, 0), (503, 0)])
    assert (dispatch_of(fo).status, dispatch_of(fo).tries) == ("pending", 1)
    assert dispatch_of(fo).next_attempt_at > timezone.now()
    # When the dispatch is due again, twice
    assert fulfillment_dispatch(fulfillment_id=fo.pk) == "pending"
    assert fulfillment_dispatch(fulfillment_id=fo.pk) == "succeeded"
    # Then it was sent three times with one message id, and recorded once as sent
    assert [r.headers["webhook-id"] for r in webhook_receiver.requests] == [f"fo_{fo.pk}"] * 3
    sent = dispatch_of(fo)
    assert (sent.status, sent.tries, sent.last_error) == ("succeeded", 3, "")
    assert [t.status_code for t in sent.log.all()] == [500, 503, 200]


def test_a_dispatch_task_delivered_twice_sends_once(network, place, settings):
    from fulfillment.adapters.wms import fake_gateway
    from fulfillment.tasks import dispatch_fulfillment

    network.kassel.wms_url = "http://wms.invalid/hook"
    network.kassel.save()
    network.stock(network.kassel, "A", 5)
    settings.WMS_GATEWAY = "fake"
    gateway = fake_gateway()
    gateway.sent.clear()
    fo = fulfillment_of(place([("A", 1)]), "WH-KS")  # on_commit never fires in this test
    run = {"attempt_id": dispatch_of(fo).pk, "tries": 0}
    first = dispatch_fulfillment.delay(**run).get()
    second = dispatch_fulfillment.delay(**run).get()
    assert (first, second) == ("succeeded", "skipped")
    assert len(gateway.sent) == 1


def test_a_dispatch_gives_up_after_the_last_attempt(network, place, settings):
    settings.WMS_MAX_ATTEMPTS = 2
    gateway = FakeWarehouseGateway(default_status=502)
    network.kassel.wms_url = "http://wms.invalid/hook"
    network.kassel.save()
    network.stock(network.kassel, "A", 5)
    fo = fulfillment_of(place([("A", 1)]), "WH-KS")
    assert fulfillment_dispatch(fulfillment_id=fo.pk, gateway=gateway) == "pending"
    assert fulfillment_dispatch(fulfillment_id=fo.pk, gateway=gateway) == "dead"
    assert dispatch_of(fo).last_error == "HTTP 502"
    assert OutboxEvent.objects.filter(topic="fulfillment.dispatch_failed").count() == 1


def test_the_sweep_queues_only_dispatches_whose_time_has_come(network, place):
    network.kassel.wms_url = "http://wms.invalid/hook"
    network.kassel.save()
    network.stock(network.kassel, "A", 5)
    fo = fulfillment_of(place([("A", 1)]), "WH-KS")
    # Right after creation the first attempt is queued and leased: nothing is due yet
    assert dispatches_requeue_due() == 0
    # After the lease passes without an outcome (a worker died), it is due
    later = timezone.now() + timedelta(minutes=5)
    Attempt.objects.filter(pk=dispatch_of(fo).pk).update(next_attempt_at=timezone.now())
    assert dispatches_requeue_due(now=later) == 1
    assert dispatches_requeue_due(now=later) == 0  # leased again by the sweep


def test_a_location_without_a_push_endpoint_polls(network, place):
    network.stock(network.kassel, "A", 5)
    fo = fulfillment_of(place([("A", 1)]), "WH-KS")
    assert fo.dispatch_mode == "polled"
    assert attempt_of(kind=WMS_DISPATCH, target_id=fo.pk) is None


def test_an_order_on_hold_is_sent_to_the_warehouse_only_once_its_payment_is_secured(
        network, place, api, django_capture_on_commit_callbacks, settings):
    from fulfillment.adapters.wms import fake_gateway

    settings.WMS_GATEWAY = "fake"
    gateway = fake_gateway()
    gateway.sent.clear()
    network.kassel.wms_url = "http://wms.invalid/hook"
    network.kassel.save()
    network.stock(network.kassel, "A", 5)
    # Given an order whose card payment is still pending
    with django_capture_on_commit_callbacks(execute=True):
        order = place([("A", 1)], payment={"method": "card", "status": "pending",
                                           "amount": "10.00", "psp_reference": "psp_held"})
    fo = fulfillment_of(order, "WH-KS")
    assert (fo.dispatch_mode, gateway.sent) == ("held", [])
    # When the PSP reports the authorization
    with django_capture_on_commit_callbacks(execute=True):
        response = api("psp").post("/api/v1/payments/events", {
            "psp_reference": "psp_held", "type": "authorized", "amount": "10.00",
            "currency": "EUR", "at": "2026-11-22T12:00:00+01:00"})
    assert response.status_code == 200, response.content
    # Then the fulfilment order goes out
    fo.refresh_from_db()
    assert (fo.dispatch_mode, dispatch_of(fo).status) == ("pushed", "succeeded")
    assert [d.message_id for d in gateway.sent] == [f"fo_{fo.pk}"]
    gateway.sent.clear()


@pytest.mark.django_db(transaction=True)
def test_the_relay_does_not_look_for_held_fulfilments_of_an_order_paid_at_intake(
        network, place):
    network.stock(network.kassel, "A", 5)
    # When an order paid at intake is placed (its relay runs in-process after the commit)
    order = place([("A", 1)])
    # Then its confirmation, straight from placed, was published
    confirmed = OutboxEvent.objects.get(topic="order.confirmed", aggregate_id=order["number"])
    assert confirmed.payload["detail"]["from"] == "placed"
    assert confirmed.published_at is not None
    # and the customer's confirmation was handled, while the release of held fulfilments was
    # not even run for it
    handled = set(ProcessedEvent.objects.filter(event=confirmed).values_list("handler",
                                                                              flat=True))
    assert handler_name(notify_order_confirmed) in handled
    assert handler_name(send_fulfillments_held_for_payment) not in handled


def test_a_fulfilment_cancelled_before_its_dispatch_is_not_sent(network, place, shop):
    gateway = FakeWarehouseGateway()
    network.kassel.wms_url = "http://wms.invalid/hook"
    network.kassel.save()
    network.stock(network.kassel, "A", 5)
    order = place([("A", 1)])
    shop.post(f"/api/v1/orders/{order['number']}/cancel", {"reason": "changed my mind"})
    fo = fulfillment_of(order, "WH-KS")
    assert fulfillment_dispatch(fulfillment_id=fo.pk, gateway=gateway) == "cancelled"
    assert gateway.sent == []
    assert dispatch_of(fo).status == "cancelled"


def test_dispatches_have_their_own_queue_that_workers_serve_first(settings):
    from oms.celery import app

    route = app.amqp.router.route({}, "fulfillment.tasks.dispatch_fulfillment")
    assert route["queue"].name == "dispatch"
    assert [q.name for q in settings.CELERY_TASK_QUEUES] == ["dispatch", "celery"]
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["queue_order_strategy"] == "priority"


def test_the_fulfilment_list_reads_every_dispatch_with_the_list(pushed_order, api):
    # Given one fulfilment pushed to its warehouse, read in a list by the warehouse's system
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pushed_order()
    StockLevel.objects.filter(product_id="A", location__code="WH-KS").update(on_hand=20)
    wms = api("wms", location_code="WH-KS")
    with CaptureQueriesContext(connection) as one:
        first = wms.get("/api/v1/fulfillments")
    # When two more are pushed
    pushed_order()
    pushed_order()
    with CaptureQueriesContext(connection) as three:
        listed = wms.get("/api/v1/fulfillments")

    # Then the list shows each one's dispatch, and reading three costs what reading one did
    assert [f["dispatch"]["status"] for f in listed.json()["results"]] == ["succeeded"] * 3
    assert first.json()["results"][0]["dispatch"]["attempts"] == 1
    assert len(three.captured_queries) == len(one.captured_queries)
