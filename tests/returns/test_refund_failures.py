"""When the money cannot go back as asked: the PSP refuses a card refund (the return waits,
received, until the refund is retried), or the original payment cannot take it (the till
chooses cash or store credit instead), or an announced return comes with nothing in the
parcel."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from inventory.models import StockMovement
from oms.core.models import OutboxEvent
from payments.adapters import psp
from payments.adapters.psp import PspResult
from payments.models import Payment, Refund
from payments.services import refund_retry
from returns.models import Return
from tests.conftest import error_codes
from tests.network import level
from tests.returns.conftest import receive_body
from tests.returns.support import ok, receive, register, take_back

pytestmark = pytest.mark.django_db


def test_a_card_refund_the_psp_refuses_fails_and_a_retry_from_the_cockpit_issues_it(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given a PSP that refuses the next refund for good
    order = delivered([("A", 1)])
    psp.fake.fail_next.append(PspResult.failed("HTTP 422 refused", http_status=422,
                                               retryable=False))

    # when the unit comes back to the card
    ret = take_back(pos_munich, after_commit, order, [("A", 1)])

    # then the refund failed, `refund.failed` is out, and the return waits, received
    [refund] = Refund.objects.filter(reference=ret["number"])
    assert refund.status == "failed" and "refused" in refund.failure
    assert OutboxEvent.objects.filter(topic="refund.failed").count() == 1
    now = ok(pos_munich.get(f"/api/v1/returns/{ret['id']}"))
    assert (now["status"], now["refund"]["status"]) == ("received", "failed")
    assert Payment.objects.get(order__number=order["number"]).refunded_amount == 0

    # when staff retry it from the cockpit and the PSP says yes
    assert after_commit(refund_retry, refund=refund) is True

    # then it is issued under a fresh key, once, and the return is closed
    refund.refresh_from_db()
    assert refund.status == "issued"
    assert refund.psp_idempotency_key and refund.psp_idempotency_key != refund.idempotency_key
    assert len(psp.fake.refunds) == 1
    assert Payment.objects.get(order__number=order["number"]).refunded_amount == 10
    assert ok(pos_munich.get(f"/api/v1/returns/{ret['id']}"))["status"] == "closed"


def test_a_refund_the_card_cannot_take_is_refused_and_the_till_chooses_cash_instead(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    # given a card payment charged back meanwhile: nothing of it can be refunded
    order = delivered([("A", 1)])
    payment = Payment.objects.get(order__number=order["number"])
    Payment.objects.filter(pk=payment.pk).update(refunded_amount=payment.captured_amount)
    ret = register(pos_munich, order, [("A", 1)])

    # when the till receives the unit to the original payment
    response = after_commit(pos_munich.post, f"/api/v1/returns/{ret['id']}/receive",
                            receive_body([("A", 1)]))

    # then it is refused naming what is possible, and nothing was received
    assert response.status_code == 409, response.content
    assert error_codes(response) == ["refund_not_possible"]
    assert response.json()["errors"][0]["possible"] == "0.00"
    assert Return.objects.get().status == "requested"
    assert not StockMovement.objects.filter(location=network.munich).exists()

    # when the till receives it again with cash instead
    received = receive(pos_munich, after_commit, ret, [("A", 1)],
                       refund={"method": "cash"})

    # then the cash goes back at the till
    assert received["refund"]["method"] == "cash"
    [refund] = Refund.objects.filter(reference=ret["number"])
    assert (refund.route, refund.amount) == ("till", Decimal("10.00"))


def test_an_empty_parcel_refuses_every_line_refunds_nothing_and_frees_the_units(
        network: Any, delivered: Any, shop: Any, wms_kassel: Any, after_commit: Any) -> None:
    # given a return by mail of two units
    network.kassel.accepts_returns = True
    network.kassel.save(update_fields=["accepts_returns"])
    order = delivered([("A", 2)])
    ret = register(shop, order, [("A", 2)])
    on_hand = level("A", network.kassel).on_hand

    # when Kassel opens the parcel and finds nothing
    received = ok(after_commit(wms_kassel.post, f"/api/v1/returns/{ret['id']}/receive",
                               {"lines": []}))

    # then every line is refused, nothing is refunded, the return is closed
    assert [(ln["status"], ln["received"], ln["refused_reason"]) for ln in received["lines"]
            ] == [("refused", 0, "not in the parcel")]
    assert (received["status"], received["refund"]["status"]) == ("closed", "none")
    assert not Refund.objects.exists()
    assert level("A", network.kassel).on_hand == on_hand
    # and the two units may be announced again
    assert register(shop, order, [("A", 2)])["status"] == "requested"


def test_lines_staff_turn_away_are_refused_with_their_reason_and_not_refunded(
        network: Any, delivered: Any, pos_munich: Any, after_commit: Any) -> None:
    order = delivered([("A", 1), ("B", 1)])
    ret = register(pos_munich, order, [("A", 1), ("B", 1)], method="cash")

    received = receive(pos_munich, after_commit, ret, [("A", 1)],
                       refused=[{"sku": "B", "reason": "worn, tags removed"}])

    assert {ln["sku"]: (ln["status"], ln["refused_reason"]) for ln in received["lines"]} == {
        "A": ("received", ""), "B": ("refused", "worn, tags removed")}
    assert received["refund"]["amount"] == "10.00"
    assert not StockMovement.objects.filter(location=network.munich, product_id="B").exists()
