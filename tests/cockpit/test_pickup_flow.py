"""Click-and-collect through the store cockpit: staff see the order on the to-pick list, pick
it, and hand it over against the code the customer shows."""

from __future__ import annotations

import re

import pytest

from fulfillment.pickup import pickup_code
from tests.cockpit.conftest import messages_of
from tests.conftest import wait_for_a_fresh_minute
from tests.network import level

pytestmark = pytest.mark.django_db


def pick_form(pickup, **units: int) -> dict[str, int]:
    """The pick screen's fields: every open line, with `units` overriding the open quantity."""
    return {f"line_{line.pk}": units.get(line.sku, line.open_quantity)
            for line in pickup.lines.select_related("order_line")}


def make_ready(staff, pickup) -> None:
    """Pick every open unit through the pick screen (reading its messages, so that a test
    sees only the ones that follow)."""
    response = staff.post(f"/cockpit/pickups/{pickup.pk}/pick/", pick_form(pickup), follow=True)
    assert response.status_code == 200
    pickup.refresh_from_db()
    assert pickup.status == "ready_for_pickup"


def test_store_staff_pick_an_order_and_hand_it_over_with_the_customers_code(
        network, munich_staff, place_pickup):
    # Given a webshop order to collect in Munich
    pickup = place_pickup(network.munich, {"A": 2, "B": 1})
    number = pickup.order.number

    # When Munich's staff open their to-pick list
    to_pick = munich_staff.get("/cockpit/to-pick/")
    # then the order is there with its customer and units, linking to its pick screen
    assert to_pick.status_code == 200
    html = to_pick.content.decode()
    assert number in html and "Kim" in html and "2 \N{MULTIPLICATION SIGN} A" in html
    assert f"/cockpit/pickups/{pickup.pk}/pick/" in html

    # When they confirm every unit on the pick screen
    assert munich_staff.get(f"/cockpit/pickups/{pickup.pk}/pick/").status_code == 200
    picked = munich_staff.post(f"/cockpit/pickups/{pickup.pk}/pick/", pick_form(pickup),
                               follow=True)
    # then the pickup is ready, says so, and leaves the to-pick list
    pickup.refresh_from_db()
    assert pickup.status == "ready_for_pickup"
    assert any(f"Order {number} is ready for pickup" in m for m in messages_of(picked))
    assert number not in munich_staff.get("/cockpit/to-pick/").content.decode()

    # When the customer comes and staff search the order number at the counter
    found = munich_staff.get("/cockpit/handover/", {"q": number})
    # then its handover form opens
    assert found.status_code == 302
    assert found["Location"] == f"/cockpit/pickups/{pickup.pk}/handover/"

    # When they enter the code the customer shows
    handed = munich_staff.post(found["Location"], {"code": pickup_code(pickup)}, follow=True)
    # then the order is picked up and the units have left the store's stock
    pickup.refresh_from_db()
    assert pickup.status == "picked_up"
    assert any(f"Order {number} handed over" in m for m in messages_of(handed))
    assert level("A", network.munich).on_hand == 98
    assert pickup.order.events.filter(type="fulfillment.picked_up",
                                      actor="staff:mia").exists()


def test_a_wrong_code_is_refused_with_the_attempts_left_and_counted(
        network, munich_staff, place_pickup):
    # Given a pickup ready at the counter
    pickup = place_pickup(network.munich, {"A": 1})
    make_ready(munich_staff, pickup)

    # When staff enter a wrong code
    response = munich_staff.post(f"/cockpit/pickups/{pickup.pk}/handover/", {"code": "XXXXXX"},
                                 follow=True)

    # then the handover page says so with the attempts left, and the attempt counts
    assert response.redirect_chain == [(f"/cockpit/pickups/{pickup.pk}/handover/", 302)]
    assert messages_of(response) == ["The pickup code is wrong. 4 attempts left."]
    pickup.refresh_from_db()
    assert pickup.status == "ready_for_pickup"
    assert pickup.pickup_failed_attempts == 1
    assert "1 wrong code entered so far" in response.content.decode()


def test_five_wrong_codes_lock_the_pickup_and_say_until_when(network, munich_staff,
                                                             place_pickup):
    # Given a ready pickup and five wrong codes
    pickup = place_pickup(network.munich, {"A": 1})
    make_ready(munich_staff, pickup)
    url = f"/cockpit/pickups/{pickup.pk}/handover/"
    for _ in range(5):
        last = munich_staff.post(url, {"code": "XXXXXX"}, follow=True)
    assert "No attempts left: the pickup is locked until" in messages_of(last)[0]

    # When the right code comes next
    pickup.refresh_from_db()
    locked = munich_staff.post(url, {"code": pickup_code(pickup)}, follow=True)

    # then it is refused while the lock lasts, naming the time
    message = messages_of(locked)[0]
    assert message.startswith("Too many wrong codes")
    assert re.search(r"Try again after \d", message)
    pickup.refresh_from_db()
    assert pickup.status == "ready_for_pickup"


def test_entering_fewer_units_reports_a_shortage_and_readies_the_rest(
        network, munich_staff, place_pickup):
    # Given a pickup of two A and one B
    pickup = place_pickup(network.munich, {"A": 2, "B": 1})

    # When staff find only one A on the shelf
    response = munich_staff.post(f"/cockpit/pickups/{pickup.pk}/pick/",
                                 pick_form(pickup, A=1), follow=True)

    # then the shortage is reported, the missing unit leaves this pickup, the rest is ready
    assert "1 unit was short: it is sourced elsewhere or cancelled, and the customer is told." \
        in messages_of(response)
    pickup.refresh_from_db()
    assert pickup.status == "ready_for_pickup"
    lines = {ln.sku: ln for ln in pickup.lines.select_related("order_line")}
    assert (lines["A"].open_quantity, lines["A"].cancelled) == (1, 1)
    assert lines["B"].open_quantity == 1
    assert pickup.order.events.filter(type="fulfillment.resourced").exists()


def test_the_pick_form_refuses_more_than_is_open_and_changes_nothing(
        network, munich_staff, place_pickup):
    # Given a pickup of two A
    pickup = place_pickup(network.munich, {"A": 2})

    # When staff enter three
    response = munich_staff.post(f"/cockpit/pickups/{pickup.pk}/pick/", pick_form(pickup, A=3))

    # then the form says so and the pickup is untouched
    assert response.status_code == 200
    assert "less than or equal to 2" in response.content.decode()
    pickup.refresh_from_db()
    assert pickup.status == "pending"


def test_a_pick_the_service_refuses_shows_its_message_and_returns_to_the_pick_screen(
        network, munich_staff, place_pickup):
    # Given a pickup already picked (and so ready)
    pickup = place_pickup(network.munich, {"A": 1})
    form = pick_form(pickup)
    make_ready(munich_staff, pickup)

    # When the same pick form is sent again (a second tab, a double click)
    response = munich_staff.post(f"/cockpit/pickups/{pickup.pk}/pick/", form, follow=True)

    # then the service's refusal is shown on the pick screen, and nothing changed
    assert response.redirect_chain == [(f"/cockpit/pickups/{pickup.pk}/pick/", 302)]
    assert messages_of(response) == [f"Fulfilment {pickup.pk} is Ready for pickup."]
    pickup.refresh_from_db()
    assert pickup.status == "ready_for_pickup"


@pytest.mark.parametrize("query", ["code", "lower-case code", "email", "qr"])
def test_the_counter_finds_a_ready_pickup_by_code_email_or_qr_code(
        network, munich_staff, place_pickup, query):
    # Given a ready pickup of kim@example.de
    pickup = place_pickup(network.munich, {"A": 1})
    make_ready(munich_staff, pickup)
    pickup.refresh_from_db()
    code = pickup_code(pickup)
    typed = {"code": code, "lower-case code": code.lower(), "email": "KIM@example.de",
             "qr": f"OMS-PICKUP:{pickup.order.number}:{code}"}[query]

    # When staff search for it
    response = munich_staff.post("/cockpit/handover/", {"q": typed})

    # then its handover form opens, with the code filled in when the query held it; the code
    # never appears in a URL
    assert response.status_code == 302
    handover = f"/cockpit/pickups/{pickup.pk}/handover/"
    assert response["Location"] == handover
    form = munich_staff.get(response["Location"]).content.decode()
    assert (f'value="{code}"' in form) == (query != "email")


def test_the_counter_lists_every_ready_pickup_deadline_first_without_a_query(
        network, munich_staff, place_pickup):
    # Given two ready pickups and one still to pick
    first, second = (place_pickup(network.munich, {"A": 1}) for _ in range(2))
    waiting = place_pickup(network.munich, {"A": 1})
    for pickup in (second, first):
        make_ready(munich_staff, pickup)

    # When staff open the counter screen
    html = munich_staff.get("/cockpit/handover/").content.decode()

    # then both ready ones are listed, the earliest deadline first, and not the other
    assert html.index(second.order.number) < html.index(first.order.number)
    assert waiting.order.number not in html


def test_code_lookups_at_the_counter_are_limited_per_minute(network, munich_staff,
                                                           place_pickup, settings):
    # Given a ready pickup and a limit of three code lookups a minute
    # (counts are per client or user, whose ids are new in every test: nothing to reset; the
    # cache shares Redis with the broker, so it is never flushed)
    wait_for_a_fresh_minute()
    settings.PICKUP_CODE_SEARCHES_PER_MINUTE = 3
    pickup = place_pickup(network.munich, {"A": 1})
    make_ready(munich_staff, pickup)
    pickup.refresh_from_db()

    # When staff try three wrong codes, then the right one
    for guess in ("AAAAAA", "CCCCCC", "DDDDDD"):
        munich_staff.post("/cockpit/handover/", {"q": guess})
    response = munich_staff.post("/cockpit/handover/", {"q": pickup_code(pickup)},
                                 follow=True)

    # then the fourth lookup is not made, and staff are told why
    assert response.redirect_chain == []
    assert any("Too many searches" in m for m in messages_of(response))
