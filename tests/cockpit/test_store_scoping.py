"""Store staff see and change only their own stores' pickups, fulfilment orders and stock:
another store's rows are absent from every list and answer 404 on every page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from fulfillment.states import FulfillmentStatus
from tests.cockpit.conftest import logged_in
from tests.factories import StockLevelFactory
from tests.factories.cockpit import StoreStaffFactory, SuperuserFactory, a_pickup

pytestmark = pytest.mark.django_db

READY = FulfillmentStatus.READY_FOR_PICKUP


@pytest.fixture
def pickups(network):
    """One pickup to pick and one ready pickup in each store."""
    return {
        "munich": a_pickup(network.munich, email="mona@example.de"),
        "munich_ready": a_pickup(network.munich, status=READY, email="mona@example.de",
                                 ready_at=timezone.now()),
        "berlin": a_pickup(network.berlin, email="bert@example.de"),
        "berlin_ready": a_pickup(network.berlin, status=READY, email="bert@example.de",
                                 ready_at=timezone.now()),
    }


def test_each_stores_lists_show_only_its_own_pickups(network, pickups, munich_staff,
                                                     berlin_staff):
    # When Munich's staff open the to-pick list and the counter screen
    to_pick = munich_staff.get("/cockpit/to-pick/").content.decode()
    counter = munich_staff.get("/cockpit/handover/").content.decode()
    # then only Munich's pickups are there
    assert pickups["munich"].order.number in to_pick
    assert pickups["berlin"].order.number not in to_pick
    assert pickups["munich_ready"].order.number in counter
    assert pickups["berlin_ready"].order.number not in counter
    # and searching for Berlin's customer finds nothing
    assert "No pickup waiting at the counter matches" in munich_staff.get(
        "/cockpit/handover/", {"q": "bert@example.de"}).content.decode()
    # and the same holds the other way round
    assert pickups["berlin"].order.number in berlin_staff.get(
        "/cockpit/to-pick/").content.decode()


def test_another_stores_pickup_answers_404_on_every_screen_and_stays_untouched(
        network, pickups, munich_staff):
    berlin, berlin_ready = pickups["berlin"], pickups["berlin_ready"]
    # When Munich's staff open or post to Berlin's pickups, or ask for Berlin's screens
    answers = [
        munich_staff.get(f"/cockpit/pickups/{berlin.pk}/pick/").status_code,
        munich_staff.post(f"/cockpit/pickups/{berlin.pk}/pick/", {}).status_code,
        munich_staff.get(f"/cockpit/pickups/{berlin_ready.pk}/handover/").status_code,
        munich_staff.post(f"/cockpit/pickups/{berlin_ready.pk}/handover/",
                          {"code": "XXXXXX"}).status_code,
        munich_staff.get("/cockpit/to-pick/", {"store": "ST-BER"}).status_code,
        munich_staff.get("/cockpit/dashboard/", {"store": "ST-BER"}).status_code,
    ]
    # then every answer is 404, and Berlin's pickups are as they were
    assert answers == [404] * 6
    berlin_ready.refresh_from_db()
    assert berlin_ready.pickup_failed_attempts == 0
    berlin.refresh_from_db()
    assert berlin.status == "pending"


def test_the_admin_lists_and_pages_only_the_staffs_own_stores(network, pickups,
                                                              munich_staff):
    # Given stock in both stores
    munich_stock = StockLevelFactory(location=network.munich, product__sku="MUC-SKU")
    berlin_stock = StockLevelFactory(location=network.berlin, product__sku="BER-SKU")
    berlin = pickups["berlin"]

    # When Munich's staff open the admin lists
    fulfilments = munich_staff.get("/admin/fulfillment/fulfillmentorder/")
    stock = munich_staff.get("/admin/inventory/stocklevel/")
    orders = munich_staff.get("/admin/orders/order/")

    # then Berlin's rows are absent, and the location filter offers Munich only
    assert list(fulfilments.context["cl"].result_list) == sorted(
        [pickups["munich"], pickups["munich_ready"]], key=lambda fo: -fo.pk)
    assert list(stock.context["cl"].result_list) == [munich_stock]
    assert berlin.order.number not in orders.content.decode()
    assert "ST-BER" not in fulfilments.content.decode()
    # and Berlin's pages answer 404, not the admin's usual redirect
    assert [munich_staff.get(url).status_code for url in (
        f"/admin/fulfillment/fulfillmentorder/{berlin.pk}/change/",
        f"/admin/inventory/stocklevel/{berlin_stock.pk}/change/",
        f"/admin/orders/order/{berlin.order.pk}/change/",
    )] == [404, 404, 404]
    # while Munich's open
    assert munich_staff.get(
        f"/admin/fulfillment/fulfillmentorder/{pickups['munich'].pk}/change/").status_code == 200


def test_admin_actions_reach_only_the_staffs_own_stores(network, pickups, munich_staff):
    # When Munich's staff select Berlin's pickup for an action (a forged form)
    munich_staff.post("/admin/fulfillment/fulfillmentorder/", {
        "action": "accept", "_selected_action": [pickups["berlin"].pk]})
    # then it is untouched
    pickups["berlin"].refresh_from_db()
    assert pickups["berlin"].status == "pending"


def test_superusers_see_every_store_and_choose_one(network, pickups):
    # Given a superuser
    admin = logged_in(SuperuserFactory())
    # When they open the to-pick list of Berlin
    page = admin.get("/cockpit/to-pick/", {"store": "ST-BER"}).content.decode()
    # then Berlin's pickups are listed and every store is offered
    assert pickups["berlin"].order.number in page
    assert 'value="ST-MUC"' in page and 'value="ST-BER"' in page
    assert admin.get(f"/cockpit/pickups/{pickups['munich'].pk}/pick/").status_code == 200
    assert admin.get(f"/admin/fulfillment/fulfillmentorder/{pickups['berlin'].pk}/change/"
                     ).status_code == 200


def test_staff_of_several_stores_get_a_store_selector(network, pickups):
    # Given staff working in both stores
    both = logged_in(StoreStaffFactory(stores=[network.munich, network.berlin]))
    # When they open the to-pick list, then Berlin (first by code) is shown with a selector
    page = both.get("/cockpit/to-pick/").content.decode()
    assert 'name="store"' in page
    assert pickups["berlin"].order.number in page
    # and choosing Munich shows Munich's
    assert pickups["munich"].order.number in both.get(
        "/cockpit/to-pick/", {"store": "ST-MUC"}).content.decode()


def test_staff_of_no_store_see_no_pickup(network, pickups):
    nobody = logged_in(StoreStaffFactory())
    page = nobody.get("/cockpit/to-pick/").content.decode()
    assert "You are not assigned to any store" in page
    assert nobody.get(f"/cockpit/pickups/{pickups['munich'].pk}/pick/").status_code == 404


def test_people_who_are_not_staff_are_sent_to_the_admin_login(network, pickups):
    customer = StoreStaffFactory(is_staff=False, stores=[network.munich])
    for browser in (Client(), logged_in(customer)):
        response = browser.get("/cockpit/to-pick/")
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_staff_without_the_fulfilment_permissions_are_refused(network, pickups):
    clerk = logged_in(StoreStaffFactory(stores=[network.munich], permissions=[]))
    assert clerk.get("/cockpit/to-pick/").status_code == 403


def test_staff_who_may_only_view_see_the_pick_screen_but_cannot_pick(network, pickups):
    # Given staff with the view permission only
    viewer = logged_in(StoreStaffFactory(
        stores=[network.munich], permissions=[("fulfillment", "view_fulfillmentorder")]))
    munich = pickups["munich"]
    # When they open the pick screen, then there is no form; posting one is refused
    page = viewer.get(f"/cockpit/pickups/{munich.pk}/pick/")
    assert page.status_code == 200
    assert "Confirm pick" not in page.content.decode()
    line = munich.lines.get()
    assert viewer.post(f"/cockpit/pickups/{munich.pk}/pick/",
                       {f"line_{line.pk}": 1}).status_code == 403
    munich.refresh_from_db()
    assert munich.status == "pending"


def test_the_admin_page_of_a_pickup_shows_neither_code_salt_nor_hash(network, munich_staff):
    # Given a ready pickup with its code's salt and hash
    pickup = a_pickup(network.munich, status=READY, ready_at=timezone.now())
    pickup.pickup_code_salt, pickup.pickup_code_hash = "s" * 32, "h" * 64
    pickup.save(update_fields=["pickup_code_salt", "pickup_code_hash"])
    # When its admin page is opened, then neither appears, while its deadline does
    page = munich_staff.get(f"/admin/fulfillment/fulfillmentorder/{pickup.pk}/change/")
    html = page.content.decode()
    assert "s" * 32 not in html and "h" * 64 not in html
    assert "Pickup deadline" in html
