"""An open item per invoice: goods of an invoice or direct-debit order leave (a parcel shipped,
a pickup handed over), the customer owes their value from that day, due after the channel's
payment terms; a credit note for returned goods reduces what is owed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from finance.handlers import invoice_goods_that_left
from finance.models import CustomerCredit, OpenItem
from oms.core.events import event_handle
from tests.core.handlers import handler_name
from tests.finance.conftest import OPEN_ITEMS, error_codes
from tests.finance.factories import PaymentTermsFactory, an_invoice_order

pytestmark = pytest.mark.django_db
D = Decimal


def test_goods_that_leave_an_invoice_order_are_owed_once_per_invoice(goods_left: Any) -> None:
    # Given an invoice order
    order = an_invoice_order("119.00")
    # When its parcel ships, and the handler runs again for the same event
    event = goods_left(order, "119.00")
    assert event_handle(event_id=event.id, handler_name=handler_name(
        invoice_goods_that_left)) is False
    with transaction.atomic():
        invoice_goods_that_left(event)
    # Then the customer owes it once, from today, due in 14 days
    [item] = OpenItem.objects.all()
    today = timezone.localdate()
    assert (item.order, item.customer, item.kind, item.amount, item.open_amount, item.status,
            item.invoiced_on, item.due_date, item.dunning_level) == (
        order, order.customer, "invoice", D("119.00"), D("119.00"), "open", today,
        today + timedelta(days=14), 0)
    assert list(item.events.values_list("type", flat=True)) == ["open_item.created"]


def test_each_parcel_is_an_invoice_of_its_own(goods_left: Any) -> None:
    # Given a direct-debit order of 100.00 shipped in two parcels
    order = an_invoice_order("100.00", method="direct_debit")
    # When both leave, and a third event claims more than the order's payment
    goods_left(order, "60.00")
    goods_left(order, "40.00")
    goods_left(order, "5.00")
    # Then there are two items, never more than the customer agreed to pay on account
    assert list(OpenItem.objects.order_by("pk").values_list("kind", "amount")) == [
        ("direct_debit", D("60.00")), ("direct_debit", D("40.00"))]


def test_a_pickup_handed_over_is_an_invoice_too(goods_left: Any) -> None:
    order = an_invoice_order("59.90")
    goods_left(order, "59.90", topic="fulfillment.picked_up")
    assert OpenItem.objects.get().amount == D("59.90")


@pytest.mark.parametrize("method", ["card", "paypal", "pay_in_store", "cash"])
def test_orders_paid_otherwise_owe_nothing_on_account(goods_left: Any, method: str) -> None:
    order = an_invoice_order("119.00", method=method)
    goods_left(order, "119.00")
    assert not OpenItem.objects.exists()


def test_the_due_date_follows_the_channels_payment_terms(goods_left: Any,
                                                         settings: Any) -> None:
    # Given 30 days for the app, none of its own for the web shop, and a default of 10
    settings.PAYMENT_TERMS_DAYS = 10
    PaymentTermsFactory(channel="app", days=30)
    app_order = an_invoice_order("10.00", channel="app")
    web_order = an_invoice_order("10.00", channel="web")
    # When both ship
    goods_left(app_order, "10.00")
    goods_left(web_order, "10.00")
    # Then each is due after its channel's terms
    today = timezone.localdate()
    assert OpenItem.objects.get(order=app_order).due_date == today + timedelta(days=30)
    assert OpenItem.objects.get(order=web_order).due_date == today + timedelta(days=10)


def test_a_credit_note_reduces_what_is_open(goods_left: Any, credit_note: Any) -> None:
    # Given an invoice of 119.00 owed
    order = an_invoice_order("119.00")
    goods_left(order, "119.00")
    # When goods worth 30.00 come back and the refund is credited to the invoice
    credit_note(order, "30.00")
    # Then 89.00 is open
    item = OpenItem.objects.get()
    assert (item.credited, item.open_amount, item.status) == (
        D("30.00"), D("89.00"), "partially_paid")
    # and a refund paid another way (cash at the till) changes nothing
    credit_note(order, "10.00", route="till")
    item.refresh_from_db()
    assert item.open_amount == D("89.00")


def test_a_credit_note_beyond_what_is_owed_is_the_customers_credit(
        goods_left: Any, credit_note: Any) -> None:
    # Given an invoice of 50.00 of which 40.00 is credited already
    order = an_invoice_order("50.00")
    goods_left(order, "50.00")
    credit_note(order, "40.00")
    # When a credit note of 30.00 follows
    credit_note(order, "30.00")
    # Then the item is settled and the customer has 20.00 to their credit
    item = OpenItem.objects.get()
    assert (item.credited, item.open_amount, item.status) == (D("50.00"), D("0.00"), "paid")
    credit = CustomerCredit.objects.get()
    assert (credit.customer, credit.amount, credit.remaining, credit.source) == (
        order.customer, D("20.00"), D("20.00"), "credit_note")


def test_a_customers_credit_pays_their_next_invoice(goods_left: Any, credit_note: Any) -> None:
    # Given a customer with 20.00 to their credit
    first = an_invoice_order("10.00")
    goods_left(first, "10.00")
    credit_note(first, "30.00")
    # When their next invoice order ships
    second = an_invoice_order("50.00", customer=first.customer)
    goods_left(second, "50.00")
    # Then the credit pays part of it
    item = OpenItem.objects.get(order=second)
    assert (item.paid, item.open_amount, item.status) == (D("20.00"), D("30.00"),
                                                          "partially_paid")
    assert CustomerCredit.objects.get().remaining == D("0.00")


def test_open_items_are_listed_as_api_md_says(goods_left: Any, finance: Any) -> None:
    order = an_invoice_order("119.00")
    goods_left(order, "119.00")
    response = finance.get(OPEN_ITEMS)
    assert response.status_code == 200, response.content
    page = response.json()
    assert set(page) == {"next", "previous", "results"}
    [row] = page["results"]
    item = OpenItem.objects.get()
    assert {k: row[k] for k in ("id", "order", "customer", "amount", "paid", "open",
                                "due_date", "status", "dunning_level")} == {
        "id": item.pk, "order": order.number, "customer": str(order.customer.public_id),
        "amount": "119.00", "paid": "0.00", "open": "119.00",
        "due_date": item.due_date.isoformat(), "status": "open", "dunning_level": 0}


def test_open_items_filter_by_status_and_customer(goods_left: Any, erp: Any,
                                                  credit_note: Any) -> None:
    # Given one customer's item settled by a credit note and another customer's item open
    settled, owed = an_invoice_order("10.00"), an_invoice_order("20.00")
    goods_left(settled, "10.00")
    goods_left(owed, "20.00")
    credit_note(settled, "10.00")

    def orders(params: dict[str, str]) -> list[str]:
        response = erp.get(OPEN_ITEMS, params)
        assert response.status_code == 200, response.content
        return [row["order"] for row in response.json()["results"]]

    assert orders({"status": "paid"}) == [settled.number]
    assert orders({"status": "open"}) == [owed.number]
    assert orders({"status": "overdue"}) == []
    assert orders({"customer": str(owed.customer.public_id)}) == [owed.number]
    assert orders({"limit": "1"}) == [owed.number]  # newest first


@pytest.mark.parametrize(("params", "attr", "code"), [
    ({"status": "late"}, "status", "invalid_choice"),
    ({"customer": "kim@example.de"}, "customer", "invalid"),
    ({"stauts": "open"}, "stauts", "unknown_parameter"),
    ({"status": ""}, "status", "blank"),
    ({"limit": "0"}, "limit", "min_value"),
])
def test_bad_query_parameters_answer_400_naming_them(finance: Any, params: dict[str, str],
                                                     attr: str, code: str) -> None:
    response = finance.get(OPEN_ITEMS, params)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [(e["attr"], e["code"]) for e in body["errors"]] == [(attr, code)]
    assert error_codes(response) == [code]
