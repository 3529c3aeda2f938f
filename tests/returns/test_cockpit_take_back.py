"""The cockpit's take-back screen: store staff find the order the customer brings back (by
number, e-mail or the QR code of the pickup confirmation), take goods back in one visit
(registered and received through the return services), print the receipt, and see their
store's returns, never another store's."""

from __future__ import annotations

import html
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import dateformat, timezone

from inventory.models import MovementKind, StockMovement
from oms.orders.models import Order, OrderLine
from payments.models import Refund, StoreCredit
from returns.models import Return, ReturnPolicy
from tests.cockpit.conftest import logged_in
from tests.factories.cockpit import STORE_STAFF_PERMISSIONS, StoreStaffFactory, SuperuserFactory
from tests.network import level
from tests.returns.conftest import return_body

pytestmark = pytest.mark.django_db

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}
# Store staff who take goods back: the pickup screens' permissions and the returns'.
RETURNS_STAFF_PERMISSIONS = [*STORE_STAFF_PERMISSIONS, ("returns", "view_return"),
                             ("returns", "add_return"), ("returns", "change_return")]


def returns_staff(username: str, *stores: Any) -> Client:
    return logged_in(StoreStaffFactory(username=username, stores=list(stores),
                                       permissions=RETURNS_STAFF_PERMISSIONS))


@pytest.fixture
def munich_counter(network: Any) -> Client:
    return returns_staff("mia", network.munich)


@pytest.fixture
def berlin_counter(network: Any) -> Client:
    return returns_staff("ben", network.berlin)


def text_of(response: Any) -> str:
    return html.unescape(response.content.decode())


def take_back_form(number: str, units: dict[str, tuple[Any, ...]], *, store: str = "ST-MUC",
                   method: str = "store_credit", override: str | None = None) -> dict[str, Any]:
    """The take-back screen's fields for order `number`: units {sku: (quantity, reason,
    condition)}; every other line stays at 0."""
    body: dict[str, Any] = {"store": store, "refund_method": method}
    for line in OrderLine.objects.filter(order__number=number):
        quantity, reason, condition = units.get(line.product_id, (0, "", "resellable"))
        body |= {f"quantity_{line.pk}": quantity, f"reason_{line.pk}": reason,
                 f"condition_{line.pk}": condition}
    if override is not None:
        body["override_reason"] = override
    return body


def in_30_days(date_format: str) -> str:
    """The end of a return window that opened now (the default policy: 30 days)."""
    return dateformat.format(timezone.localtime() + timedelta(days=30), date_format)


def take_back_url(number: str) -> str:
    return f"/cockpit/returns/take-back/orders/{Order.objects.get(number=number).pk}/"


def nothing_changed(number: str) -> None:
    assert not Return.objects.filter(order__number=number).exists()
    assert not Refund.objects.filter(order__number=number).exists()
    assert not StockMovement.objects.filter(kind=MovementKind.RETURN).exists()


# --- find the order ---------------------------------------------------------------------------
def test_staff_find_an_order_by_its_number_with_what_can_come_back_and_the_window(
        network: Any, delivered: Any, munich_counter: Client) -> None:
    # Given an online order shipped from Kassel and delivered today
    order = delivered([("A", 2), ("B", 1)])

    # When Munich's staff search its number at the counter
    found = munich_counter.post("/cockpit/returns/take-back/", {"q": order["number"]})

    # then the order is there with every line and what can still come back
    assert found.status_code == 200
    page = text_of(found)
    assert f'data-order="{order["number"]}"' in page
    assert 'data-sku="A" data-returnable="2"' in page
    assert 'data-sku="B" data-returnable="1"' in page
    # and its return window, open until 30 days after delivery, and a way to take it back
    assert 'data-window="open"' in page
    assert f"open until {in_30_days('m/d/Y')}" in page
    assert take_back_url(order["number"]) in page


def test_staff_find_a_customers_orders_by_email_of_any_channel(
        network: Any, delivered: Any, collected: Any, munich_counter: Client) -> None:
    # Given a webshop order and a click-and-collect order of Kim, and an order of someone else
    shipped = delivered([("A", 1)])
    picked_up = collected([("B", 1)])
    other = delivered([("A", 1)], customer={"email": "ola@example.de", "name": "Ola"})

    # When staff search Kim's e-mail address, typed in capitals
    page = text_of(munich_counter.post("/cockpit/returns/take-back/",
                                       {"q": " KIM@example.de "}))

    # then both of Kim's orders are found, the other customer's is not
    assert f'data-order="{shipped["number"]}"' in page
    assert f'data-order="{picked_up["number"]}"' in page
    assert f'data-order="{other["number"]}"' not in page


def test_staff_find_an_order_by_scanning_the_qr_code_of_its_pickup_confirmation(
        network: Any, collected: Any, munich_counter: Client) -> None:
    # Given a click-and-collect order the customer collected in Munich
    order = collected([("A", 2)])

    # When staff scan the QR code of the pickup confirmation (order number and pickup code)
    page = text_of(munich_counter.post("/cockpit/returns/take-back/",
                                       {"q": f"OMS-PICKUP:{order['number']}:ACDEFG"}))

    # then the order is found, both units returnable, the window open from the handover on
    assert f'data-order="{order["number"]}"' in page
    assert 'data-sku="A" data-returnable="2"' in page
    assert 'data-window="open"' in page


def test_a_search_that_matches_nothing_says_so(network: Any, munich_counter: Client) -> None:
    # When staff search an order number nobody has
    page = text_of(munich_counter.post("/cockpit/returns/take-back/", {"q": "NOPE-1"}))
    # then the screen says no order matches
    assert "No order matches “NOPE-1”." in page


# --- take back ------------------------------------------------------------------------------
def test_staff_take_two_lines_back_as_store_credit_restocked_on_their_shelf(
        network: Any, delivered: Any, munich_counter: Client, after_commit: Any) -> None:
    # Given an online order of two A and one B (10.00 each), delivered from Kassel
    order = delivered([("A", 2), ("B", 1)])
    number = order["number"]
    network.stock(network.munich, "A", 0)
    network.stock(network.munich, "B", 0)

    # When the customer brings one A and the B to Munich and takes store credit
    response = after_commit(munich_counter.post, take_back_url(number), take_back_form(
        number, {"A": (1, "too_small", "resellable"), "B": (1, "changed_mind", "resellable")}))

    # then the return is registered, received and refunded in this one visit
    ret = Return.objects.get(order__number=number)
    assert response.status_code == 302
    assert response["Location"] == f"/cockpit/returns/{ret.pk}/"
    assert ret.mode == "in_store" and ret.location == network.munich
    assert ret.status == "closed" and ret.refund_amount == Decimal("20.00")
    assert ret.placed_by == ret.received_by == "staff:mia"
    # and both units are on Munich's shelf, available at once
    assert level("A", network.munich).on_hand == 1
    assert level("B", network.munich).on_hand == 1
    # and the receipt shows the return, its lines, the refund and the store credit's code
    credit = StoreCredit.objects.get()
    assert credit.balance == Decimal("20.00")
    receipt = text_of(munich_counter.get(response["Location"]))
    assert f"Return receipt {ret.number}" in receipt
    assert f'data-code="{credit.code}"' in receipt
    assert "20.00 EUR" in receipt and "Store credit" in receipt and "Closed" in receipt
    assert "paid out" in receipt and "window.print()" in receipt
    assert 'data-sku="A"' in receipt and 'data-sku="B"' in receipt


def test_damaged_goods_are_written_off_and_refunded_in_cash(
        network: Any, delivered: Any, munich_counter: Client) -> None:
    # Given a delivered order of two A, and none of them on Munich's shelf
    order = delivered([("A", 2)])
    network.stock(network.munich, "A", 0)

    # When the customer brings one A back broken and takes cash
    munich_counter.post(take_back_url(order["number"]), take_back_form(
        order["number"], {"A": (1, "damaged", "damaged")}, method="cash"))

    # then the unit is booked in and written off: Munich's stock does not count it
    ret = Return.objects.get(order__number=order["number"])
    [line] = ret.lines.all()
    assert line.disposition == "write_off" and line.received == 1
    assert level("A", network.munich).on_hand == 0
    kinds = sorted(StockMovement.objects.filter(location=network.munich, product_id="A")
                   .values_list("kind", "quantity"))
    assert kinds == [(MovementKind.DAMAGE, -1), (MovementKind.RETURN, 1)]
    # and 10.00 are paid out at Munich's till
    [refund] = Refund.objects.filter(reference=ret.number)
    assert refund.route == "till" and refund.amount == Decimal("10.00")
    assert refund.location_code == "ST-MUC"
    receipt = text_of(munich_counter.get(f"/cockpit/returns/{ret.pk}/"))
    assert "Written off" in receipt and "Cash at the till" in receipt


def test_after_the_window_staff_take_goods_back_only_with_a_reason(
        network: Any, delivered: Any, munich_counter: Client) -> None:
    # Given a shop whose return window closes the moment goods arrive, and a delivered order
    ReturnPolicy.objects.update_or_create(channel="", defaults={"window_days": 0})
    order = delivered([("A", 1)])
    number = order["number"]

    # When staff open the order
    form_page = text_of(munich_counter.get(take_back_url(number)))
    # then the window shows as closed, with a field for the reason to take it back anyway
    assert 'data-window="closed"' in form_page and 'name="override_reason"' in form_page

    # When they take it back without a reason
    refused = munich_counter.post(take_back_url(number), take_back_form(
        number, {"A": (1, "too_small", "resellable")}))
    # then the service's refusal is on the form and nothing changed
    assert refused.status_code == 200
    assert "The return window of order" in text_of(refused)
    nothing_changed(number)

    # When they give the reason
    accepted = munich_counter.post(take_back_url(number), take_back_form(
        number, {"A": (1, "too_small", "resellable")}, override="Kulanz: Stammkundin"))
    # then the goods are taken back, the reason kept on the return and in the order's history
    assert accepted.status_code == 302
    ret = Return.objects.get(order__number=number)
    assert ret.override_reason == "Kulanz: Stammkundin" and ret.status == "closed"
    assert ret.order.events.filter(type="return.window_overridden", actor="staff:mia").exists()
    assert "Kulanz: Stammkundin" in text_of(munich_counter.get(accepted["Location"]))


@pytest.mark.parametrize(("units", "field", "message"), [
    ({"A": (3, "too_small", "resellable")}, "quantity", "less than or equal to 2"),
    ({"A": (-1, "too_small", "resellable")}, "quantity", "greater than or equal to 0"),
    ({"A": (1, "not_a_reason", "resellable")}, "reason", "Select a valid choice"),
    ({"A": (1, "", "resellable")}, "reason", "Choose why it comes back."),
    ({"A": (1, "too_small", "as_new")}, "condition", "Select a valid choice"),
    ({}, None, "Enter the units the customer brings back."),
], ids=["above-returnable", "negative", "unknown-reason", "no-reason", "unknown-condition",
        "nothing"])
def test_bad_input_is_refused_on_the_form_and_changes_nothing(
        network: Any, delivered: Any, munich_counter: Client, units: dict[str, Any],
        field: str | None, message: str) -> None:
    # Given a delivered order of two A
    order = delivered([("A", 2)])
    number = order["number"]
    network.stock(network.munich, "A", 0)

    # When staff submit the take-back form with bad input
    response = munich_counter.post(take_back_url(number), take_back_form(number, units))

    # then the form comes back with the error at the field, and nothing changed
    assert response.status_code == 200
    form = response.context["form"]
    line = OrderLine.objects.get(order__number=number)
    errors = form.errors[f"{field}_{line.pk}" if field else "__all__"]
    assert any(message in error for error in errors), errors
    nothing_changed(number)
    assert level("A", network.munich).on_hand == 0


def test_what_already_came_back_cannot_be_taken_back_twice(
        network: Any, delivered: Any, munich_counter: Client) -> None:
    # Given an order of one A, taken back once already
    order = delivered([("A", 1)])
    number = order["number"]
    munich_counter.post(take_back_url(number), take_back_form(
        number, {"A": (1, "too_small", "resellable")}))

    # When staff search it again
    page = text_of(munich_counter.post("/cockpit/returns/take-back/", {"q": number}))
    # then nothing of it can come back
    assert 'data-sku="A" data-returnable="0"' in page and "Nothing to take back" in page
    # and a form posted from a stale screen is refused by the service, nothing changed
    line = OrderLine.objects.get(order__number=number)
    stale = munich_counter.post(take_back_url(number), {
        "store": "ST-MUC", "refund_method": "cash", f"quantity_{line.pk}": 1,
        f"reason_{line.pk}": "too_small", f"condition_{line.pk}": "resellable"})
    assert stale.status_code == 200
    assert Return.objects.filter(order__number=number).count() == 1


def test_a_till_refusal_is_shown_on_the_form(network: Any, delivered: Any,
                                            munich_counter: Client) -> None:
    # Given Munich stops taking returns, and a delivered order
    network.munich.accepts_returns = False
    network.munich.save()
    order = delivered([("A", 1)])

    # When staff take it back there
    response = munich_counter.post(take_back_url(order["number"]), take_back_form(
        order["number"], {"A": (1, "too_small", "resellable")}))

    # then the service's refusal is on the form, and nothing changed
    assert response.status_code == 200
    assert "does not take returns" in text_of(response)
    nothing_changed(order["number"])


# --- the store's returns, scope ------------------------------------------------------------
def test_the_list_shows_only_the_own_stores_returns_and_receives_announced_ones(
        network: Any, delivered: Any, munich_counter: Client, berlin_counter: Client,
        pos_munich: Any, after_commit: Any) -> None:
    # Given a return taken back in Berlin, one in Munich, and one the Munich till announced
    # but the customer has not handed over yet
    berlin_order, munich_order, announced_order = (delivered([("A", 1)]) for _ in range(3))
    berlin_counter.post(take_back_url(berlin_order["number"]), take_back_form(
        berlin_order["number"], {"A": (1, "too_small", "resellable")}, store="ST-BER"))
    munich_counter.post(take_back_url(munich_order["number"]), take_back_form(
        munich_order["number"], {"A": (1, "too_small", "resellable")}))
    registered = pos_munich.post("/api/v1/returns", return_body(announced_order, [("A", 1)],
                                                                method="cash"))
    assert registered.status_code == 201, registered.content
    announced = Return.objects.get(pk=registered.json()["id"])

    # When Munich's staff open their store's returns
    page = text_of(munich_counter.get("/cockpit/returns/"))
    # then Munich's two are listed, Berlin's is not
    assert f'data-return="{munich_order["number"]}-R1"' in page
    assert f'data-return="{announced.number}" data-status="requested"' in page
    assert berlin_order["number"] not in page
    # and the announced one offers to receive it
    receive_url = f"/cockpit/returns/{announced.pk}/receive/"
    assert receive_url in page
    # and filtered by status, only the announced one is left
    requested = text_of(munich_counter.get("/cockpit/returns/", {"status": "requested"}))
    assert announced.number in requested and f"{munich_order['number']}-R1" not in requested

    # When the customer hands the goods over and staff receive them
    network.stock(network.munich, "A", 0)
    receive_form = munich_counter.get(receive_url).context["form"]
    [line] = receive_form.announced
    received = after_commit(munich_counter.post, receive_url, {
        f"received_{line.pk}": 1, f"disposition_{line.pk}": "restock", "refund_method": "cash"})
    # then the return is received and refunded at the till, the unit on Munich's shelf
    assert received.status_code == 302
    announced.refresh_from_db()
    assert announced.status == "closed" and announced.received_by == "staff:mia"
    assert level("A", network.munich).on_hand == 1


def test_another_stores_return_answers_404_and_stays_untouched(
        network: Any, delivered: Any, munich_counter: Client, pos_berlin: Any) -> None:
    # Given a return announced at the Berlin till
    order = delivered([("A", 1)])
    registered = pos_berlin.post("/api/v1/returns", return_body(order, [("A", 1)],
                                                                method="cash"))
    ret = Return.objects.get(pk=registered.json()["id"])
    line = ret.lines.get()

    # When Munich's staff open it, receive it, or take goods back at Berlin
    answers = [
        munich_counter.get(f"/cockpit/returns/{ret.pk}/").status_code,
        munich_counter.get(f"/cockpit/returns/{ret.pk}/receive/").status_code,
        munich_counter.post(f"/cockpit/returns/{ret.pk}/receive/", {
            f"received_{line.pk}": 1, f"disposition_{line.pk}": "restock",
            "refund_method": "cash"}).status_code,
        munich_counter.get("/cockpit/returns/", {"store": "ST-BER"}).status_code,
        munich_counter.post(take_back_url(order["number"]), take_back_form(
            order["number"], {"A": (1, "too_small", "resellable")},
            store="ST-BER")).status_code,
    ]
    # then every answer is 404, and the return is as it was
    assert answers == [404] * 5
    ret.refresh_from_db()
    assert ret.status == "requested"
    assert Return.objects.count() == 1


def test_a_superuser_sees_every_stores_returns(network: Any, delivered: Any,
                                               pos_berlin: Any) -> None:
    # Given a return announced at the Berlin till, and a superuser who works in no store
    order = delivered([("A", 1)])
    ret_id = pos_berlin.post("/api/v1/returns", return_body(order, [("A", 1)])).json()["id"]
    admin = logged_in(SuperuserFactory())
    # When they open it and Berlin's list
    detail = admin.get(f"/cockpit/returns/{ret_id}/")
    listed = text_of(admin.get("/cockpit/returns/", {"store": "ST-BER"}))
    # then both show it
    assert detail.status_code == 200 and f"{order['number']}-R1" in listed


def test_staff_without_the_returns_permissions_get_no_tab_and_a_403(network: Any) -> None:
    # Given store staff with the pickup screens' permissions only
    munich_staff = logged_in(StoreStaffFactory(stores=[network.munich]))
    # When they open the to-pick list and the take-back screen
    to_pick = text_of(munich_staff.get("/cockpit/to-pick/"))
    take_back = munich_staff.get("/cockpit/returns/take-back/")
    # then there is no take-back tab, and the screen refuses them
    assert "/cockpit/returns/" not in to_pick
    assert take_back.status_code == 403


def test_the_screens_speak_german(network: Any, delivered: Any,
                                  munich_counter: Client) -> None:
    # Given a delivered order
    order = delivered([("A", 1)])
    # When staff open the search, the form and the list in German
    tabs = text_of(munich_counter.get("/cockpit/to-pick/", **GERMAN))
    search = text_of(munich_counter.post("/cockpit/returns/take-back/", {"q": order["number"]},
                                         **GERMAN))
    form = text_of(munich_counter.get(take_back_url(order["number"]), **GERMAN))
    listed = text_of(munich_counter.get("/cockpit/returns/", **GERMAN))
    # then they read German
    assert "Zurücknehmen" in tabs and "Retouren" in tabs
    assert "Kann zurück" in search and f"offen bis {in_30_days('d.m.Y')}" in search
    assert "Erstattung" in form and "Zu klein" in form and "Wiederverkaufbar" in form
    assert "Noch keine Retoure in dieser Filiale." in listed
