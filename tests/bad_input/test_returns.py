"""Bad input to the returns commands (POST /returns, /returns/{id}/receive, /returns/{id}/cancel)
gets a clear 4xx in the one error format, naming the offending field, and changes nothing
(issue 19; the rows are counted before and after)."""

# The fixtures of tests/returns/conftest.py are imported below to be used here; their names
# come back as test arguments, which is how pytest hands fixtures over, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import pytest

from inventory.models import StockLevel, StockMovement
from oms.core.models import OutboxEvent
from oms.orders.models import Order, OrderEvent, OrderLine
from payments.models import Payment, Refund, StoreCredit
from returns.models import Return, ReturnLine
from tests.conftest import error_codes
from tests.returns.conftest import (  # noqa: F401 (fixtures, used by their names)
    _fakes,
    after_commit,
    delivered,
    pos_munich,
    receive_body,
    return_body,
    wms_kassel,
)

pytestmark = pytest.mark.django_db

LINE = {"sku": "A", "quantity": 1, "reason": "too_small", "condition": "resellable"}


def world() -> tuple[Any, ...]:
    """Every row a returns command could write or change."""
    return (
        list(Return.objects.order_by("pk").values_list("pk", "status", "refund_amount",
                                                       "updated_at")),
        list(ReturnLine.objects.order_by("pk").values_list("pk", "received", "status")),
        list(Order.objects.order_by("pk").values_list("number", "status", "updated_at")),
        list(OrderLine.objects.order_by("pk").values_list("pk", "returned")),
        list(StockLevel.objects.order_by("pk").values_list("pk", "on_hand", "reserved")),
        list(Payment.objects.order_by("pk").values_list("pk", "refunded_amount")),
        Refund.objects.count(), StoreCredit.objects.count(), StockMovement.objects.count(),
        OrderEvent.objects.count(), OutboxEvent.objects.count(),
    )


def refused(response: Any, status: int, code: str, attr: str | None = None) -> None:
    """A 4xx in the one error format, with the code (and the field) expected."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["type"] in ("validation_error", "client_error")
    assert all(set(e) >= {"code", "detail", "attr"} and e["detail"] for e in body["errors"])
    assert code in error_codes(response), body
    if attr is not None:
        assert attr in [e["attr"] for e in body["errors"]], body


@pytest.fixture
def order(network: Any, delivered: Any) -> dict[str, Any]:
    """2 A and 1 B delivered; C is a product the order does not have."""
    network.stock(network.kassel, "C", 5)
    return delivered([("A", 2), ("B", 1)])


def with_line(order: dict[str, Any], **change: Any) -> dict[str, Any]:
    return {"order": order["number"], "lines": [{**LINE, **change}],
            "refund": {"method": "original"}}


# --- POST /returns ------------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "status", "code", "attr"), [
    ({"quantity": 0}, 400, "min_value", "lines.0.quantity"),
    ({"quantity": -1}, 400, "min_value", "lines.0.quantity"),
    ({"quantity": 2**63}, 400, "max_value", "lines.0.quantity"),
    ({"quantity": "two"}, 400, "invalid", "lines.0.quantity"),
    ({"quantity": 1.5}, 400, "invalid", "lines.0.quantity"),
    ({"quantity": None}, 400, "null", "lines.0.quantity"),
    ({"sku": "NO-SUCH-SKU"}, 422, "sku_not_on_order", "lines"),
    ({"sku": "C"}, 422, "sku_not_on_order", "lines"),
    ({"sku": "A B"}, 400, "invalid", "lines.0.sku"),
    ({"sku": ["A"]}, 400, "invalid", "lines.0.sku"),
    ({"reason": "no_such_reason"}, 400, "invalid_reason", "lines.reason"),
    ({"reason": "Too Small!"}, 400, "invalid", "lines.0.reason"),
    ({"condition": "broken"}, 400, "invalid_choice", "lines.0.condition"),
    ({"condition": 1}, 400, "invalid_choice", "lines.0.condition"),
    ({"quantity": 3}, 422, "not_returnable", "lines"),
    ({"colour": "red"}, 400, "unknown_field", "lines.0.colour"),
])
def test_a_bad_return_line_is_refused_and_writes_nothing(pos_munich, order, change, status,
                                                        code, attr):
    before = world()

    response = pos_munich.post("/api/v1/returns", with_line(order, **change))

    refused(response, status, code, attr)
    assert world() == before


@pytest.mark.parametrize(("body", "status", "code", "attr"), [
    (lambda o: {**with_line(o), "lines": []}, 400, "empty", "lines"),
    (lambda o: {**with_line(o), "lines": {"sku": "A"}}, 400, "not_a_list", "lines"),
    (lambda o: {**with_line(o), "lines": [LINE, LINE]}, 400, "duplicate_sku", "lines"),
    (lambda o: {**with_line(o), "lines": [LINE, {**LINE, "quantity": 2}]}, 400,
     "duplicate_sku", "lines"),
    (lambda o: {k: v for k, v in with_line(o).items() if k != "refund"}, 400, "required",
     "refund"),
    (lambda o: {**with_line(o), "refund": {"method": "cheque"}}, 400, "invalid_choice",
     "refund.method"),
    (lambda o: {**with_line(o), "refund": "original"}, 400, "invalid", "refund"),
    (lambda o: {**with_line(o), "order": ["x"]}, 400, "invalid", "order"),
    (lambda o: {**with_line(o), "order": "NO-SUCH-ORDER"}, 404, "not_found", "order"),
    (lambda o: {**with_line(o), "location": "NOWHERE"}, 404, "not_found", "location"),
    (lambda o: {**with_line(o), "location": "ST-BER"}, 404, "not_found", "location"),
    (lambda o: {**with_line(o), "refund_method": "cash"}, 400, "unknown_field",
     "refund_method"),
    (lambda o: {**with_line(o), "refund": {"method": "cash", "amount": "99.00"}}, 400,
     "unknown_field", "refund.amount"),
    (lambda o: {**with_line(o), "exchange": [{"sku": "C", "quantity": 0}]}, 400, "min_value",
     "exchange.0.quantity"),
    (lambda o: {**with_line(o), "exchange": [{"sku": "C", "quantity": 1,
                                              "unit_price": "-1.00"}]}, 400, "min_value",
     "exchange.0.unit_price"),
    (lambda o: {**with_line(o), "exchange_payment": {"method": "cash", "status": "captured",
                                                     "amount": "5.00"}},
     400, "invalid", "exchange_payment"),
    (lambda o: {**with_line(o), "override_reason": "late\u0000"}, 400, "null_character",
     "override_reason"),
])
def test_a_bad_return_body_is_refused_and_writes_nothing(pos_munich, order, body, status, code,
                                                        attr):
    before = world()

    response = pos_munich.post("/api/v1/returns", body(order))

    refused(response, status, code, attr)
    assert world() == before


@pytest.mark.parametrize("raw", ["", "[]", "null", "42", '"returns"', "{", '{"order": 1,}'])
def test_a_return_body_that_is_no_object_is_refused(pos_munich, order, raw):
    before = world()

    response = pos_munich.post("/api/v1/returns", raw=raw)

    assert response.status_code == 400, response.content
    assert response.json()["errors"]
    assert world() == before


def test_more_than_remains_after_an_open_return_is_refused_naming_what_is_left(
        pos_munich, order):
    # given one A announced by an open return already
    assert pos_munich.post("/api/v1/returns", with_line(order)).status_code == 201
    before = world()

    # when two more are announced (only one is left)
    response = pos_munich.post("/api/v1/returns", with_line(order, quantity=2))

    refused(response, 422, "not_returnable", "lines")
    assert response.json()["errors"][0]["returnable"] == [{"sku": "A", "quantity": 1}]
    assert world() == before


def test_a_return_of_an_order_not_yet_delivered_is_refused(network, shop, pos_munich):
    from tests.network import order_body

    network.stock(network.kassel, "A", 5)
    order = shop.post("/api/v1/orders", order_body([("A", 1)])).json()
    before = world()

    response = pos_munich.post("/api/v1/returns", with_line(order))

    refused(response, 422, "not_returnable", "lines")
    assert world() == before


# --- POST /returns/{id}/receive -------------------------------------------------------------
@pytest.fixture
def announced(pos_munich: Any, order: dict[str, Any]) -> dict[str, Any]:
    """A return of 1 A and 1 B announced at the Munich till."""
    response = pos_munich.post("/api/v1/returns", return_body(order, [("A", 1), ("B", 1)]))
    assert response.status_code == 201, response.content
    return response.json()


RECEIPT = {"sku": "A", "quantity": 1, "disposition": "restock"}


@pytest.mark.parametrize(("body", "status", "code", "attr"), [
    ({"lines": [{**RECEIPT, "quantity": 0}]}, 400, "min_value", "lines.0.quantity"),
    ({"lines": [{**RECEIPT, "quantity": -2}]}, 400, "min_value", "lines.0.quantity"),
    ({"lines": [{**RECEIPT, "quantity": "1x"}]}, 400, "invalid", "lines.0.quantity"),
    ({"lines": [{**RECEIPT, "quantity": 2}]}, 422, "exceeds_announced", "lines"),
    ({"lines": [{**RECEIPT, "sku": "C"}]}, 422, "sku_not_on_return", "lines"),
    ({"lines": [{**RECEIPT, "sku": "NO-SUCH-SKU"}]}, 422, "sku_not_on_return", "lines"),
    ({"lines": [{**RECEIPT, "disposition": "bin"}]}, 400, "invalid_choice",
     "lines.0.disposition"),
    ({"lines": [RECEIPT, RECEIPT]}, 400, "duplicate_sku", "lines"),
    ({"lines": [RECEIPT], "refused": [{"sku": "A", "reason": "torn"}]}, 400, "invalid",
     "refused"),
    ({"lines": [RECEIPT], "refused": [{"sku": "B"}]}, 400, "required", "refused.0.reason"),
    ({"lines": [{**RECEIPT, "condition": "damaged"}]}, 400, "unknown_field",
     "lines.0.condition"),
    ({"lines": [RECEIPT], "refund_amount": "0.01"}, 400, "unknown_field", "refund_amount"),
    ({"lines": [RECEIPT], "refund": {"method": "bitcoin"}}, 400, "invalid_choice",
     "refund.method"),
    ({"lines": "A"}, 400, "not_a_list", "lines"),
    ({}, 400, "required", "lines"),
])
def test_a_bad_receipt_is_refused_and_writes_nothing(pos_munich, announced, body, status, code,
                                                    attr):
    before = world()

    response = pos_munich.post(f"/api/v1/returns/{announced['id']}/receive", body)

    refused(response, status, code, attr)
    assert world() == before


def test_receiving_a_return_twice_is_a_409_and_changes_nothing(pos_munich, announced):
    path = f"/api/v1/returns/{announced['id']}/receive"
    assert pos_munich.post(path, receive_body([("A", 1), ("B", 1)])).status_code == 200
    before = world()

    response = pos_munich.post(path, receive_body([("A", 1), ("B", 1)]))

    refused(response, 409, "invalid_transition", "status")
    assert world() == before


def test_receiving_an_unknown_return_is_a_404(pos_munich, order):
    before = world()

    response = pos_munich.post("/api/v1/returns/999999/receive", receive_body([("A", 1)]))

    refused(response, 404, "not_found")
    assert world() == before


# --- POST /returns/{id}/cancel ----------------------------------------------------------------
@pytest.mark.parametrize(("body", "code", "attr"), [
    ({}, "required", "reason"),
    ({"reason": ""}, "blank", "reason"),
    ({"reason": ["changed mind"]}, "invalid", "reason"),
    ({"reason": "x" * 501}, "max_length", "reason"),
    ({"reason": "changed\u202emind"}, "invalid", "reason"),
    ({"reason": "changed mind", "refund": {"method": "cash"}}, "unknown_field", "refund"),
])
def test_a_bad_cancellation_is_refused_and_writes_nothing(pos_munich, announced, body, code,
                                                         attr):
    before = world()

    response = pos_munich.post(f"/api/v1/returns/{announced['id']}/cancel", body)

    refused(response, 400, code, attr)
    assert world() == before


def test_cancelling_a_received_return_is_a_409_and_changes_nothing(pos_munich, announced):
    assert pos_munich.post(f"/api/v1/returns/{announced['id']}/receive",
                           receive_body([("A", 1), ("B", 1)])).status_code == 200
    before = world()

    response = pos_munich.post(f"/api/v1/returns/{announced['id']}/cancel",
                               {"reason": "changed mind"})

    refused(response, 409, "invalid_transition", "status")
    assert world() == before


def test_cash_chosen_at_a_warehouse_receipt_is_refused_and_nothing_is_received(
        network, order, shop, wms_kassel):
    # given a return by mail to Kassel
    network.kassel.accepts_returns = True
    network.kassel.save(update_fields=["accepts_returns"])
    ret = shop.post("/api/v1/returns", with_line(order)).json()
    before = world()

    # when Kassel's WMS receives it asking for cash back (a warehouse has no till)
    response = wms_kassel.post(f"/api/v1/returns/{ret['id']}/receive",
                               {**receive_body([("A", 1)]), "refund": {"method": "cash"}})

    # then it is refused, and the goods are not booked in
    refused(response, 422, "refund_method_unavailable", "refund.method")
    assert world() == before
