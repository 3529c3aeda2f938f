"""The cockpit's "customers in the store now" (issue 20): the accepted pickup offers staff still
have to prepare and hand over, oldest accept first, each with its state and the screen to go
to; the offers open right now; only ever the staff's own store. And what became of the offers:
on the store dashboard for the last 30 days, and on /metrics for all time.

Every offer is made the way a customer gets one: a webshop order shipping from the Kassel
warehouse, the customer's consent, and their visit at the store (`visit_register_named`); then they
accept, decline or let it expire through the services."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fulfillment.adapters.wms import FakeWarehouseGateway
from fulfillment.dispatch import fulfillment_dispatch
from fulfillment.models import FulfillmentOrder
from fulfillment.pickup import pickup_code, pickup_handover, pickup_pick
from inventory.models import Location, StockLevel
from oms.core.attempts.services import attempt_run_for
from oms.orders.models import Customer
from tests.cockpit.conftest import logged_in
from tests.core.test_operations import metric_value, scrape
from tests.factories import ConsentFactory, StoreFactory
from tests.factories.cockpit import StoreStaffFactory
from tests.network import order_body
from visits.accept import offer_accept
from visits.figures import OfferFigures, offer_figures
from visits.models import PickupOffer
from visits.services import offer_decline, offers_expire_due, visit_register_named
from visits.stop import WMS_STOP

pytestmark = pytest.mark.django_db

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}
URL = "/cockpit/visits/"
MINUTE = timedelta(minutes=1)
TIMES = "\N{MULTIPLICATION SIGN}"  # between units and SKU in a line

MakeOffer = Callable[..., PickupOffer]


@pytest.fixture
def now() -> datetime:
    return timezone.now()


@pytest.fixture
def offer_at(network: Any, shop: Any) -> MakeOffer:
    """offer_at(store, "Ada", {"A": 1}, at=...) → the offer Ada gets when she walks into
    `store` (at `at`, default now) while her webshop order of those units waits in Kassel.
    The store has A on its shelf, never B."""

    def make(store: Location, name: str, units: dict[str, int] | None = None, *,
             at: datetime | None = None) -> PickupOffer:
        units = units or {"A": 1}
        for sku in units:
            if not StockLevel.objects.filter(product_id=sku, location=network.kassel).exists():
                network.stock(network.kassel, sku, 100)
        if not StockLevel.objects.filter(product_id="A", location=store).exists():
            network.stock(store, "A", 100)
        email = f"{re.sub(r'[^a-z]+', '.', name.lower())}@example.de"
        response = shop.post("/api/v1/orders", order_body(
            list(units.items()), customer={"email": email, "name": name}))
        assert response.status_code == 201, response.content
        customer = Customer.objects.get(email=email)
        ConsentFactory(customer=customer, purpose="in_store_offers", granted=True)
        visit = visit_register_named(location=store, email=customer.email, external_id=None,
                                     source="geofence", actor="app", now=at).visit
        [offer] = visit.offers.all()
        return offer

    return make


@pytest.fixture
def pushed(network: Any) -> FakeWarehouseGateway:
    """Kassel has a WMS endpoint: its parcels are pushed there (by a fake gateway). Only a
    parcel dispatched there has to be stopped when its offer is accepted."""
    network.kassel.wms_url = "http://wms.invalid/hook"
    network.kassel.wms_secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
    network.kassel.save()
    return FakeWarehouseGateway()


@pytest.fixture
def cologne(network: Any) -> Location:
    """A second click-and-collect store."""
    return StoreFactory(code="ST-KOE", name="Köln Schildergasse")


def accept(offer: PickupOffer, at: datetime | None = None) -> PickupOffer:
    return offer_accept(offer=offer, actor="app", now=at)


def picked_all(offer: PickupOffer) -> FulfillmentOrder:
    pickup = FulfillmentOrder.objects.get(pk=offer.pickup_id)
    pickup_pick(fulfillment=pickup, actor="staff:mia",
                picked={ln.sku: ln.quantity for ln in pickup.lines.select_related("order_line")})
    return FulfillmentOrder.objects.get(pk=pickup.pk)


def text_of(response: Any) -> str:
    """The page's text, with Django's non-breaking spaces ("30\N{NO-BREAK SPACE}minutes") as
    plain ones."""
    return html.unescape(response.content.decode()).replace("\N{NO-BREAK SPACE}", " ")


def rows_of(response: Any, table: str) -> list[str]:
    """The order numbers of the table's rows, top to bottom."""
    body = re.search(rf'<table id="{table}">(.*?)</table>', response.content.decode(), re.S)
    return re.findall(r'<tr data-offer="\d+" data-order="([^"]+)"', body[1]) if body else []


def states_of(response: Any) -> dict[str, str]:
    return {row.offer.order.number: str(row.state) for row in response.context["rows"]}


# --- the list ---------------------------------------------------------------------------------
def test_the_list_shows_accepted_offers_oldest_accept_first_with_their_state_and_links(
        network, offer_at, munich_staff, now):
    munich = network.munich
    # Given Ada accepted 30 minutes ago, Cem 20 minutes ago, Ben 10 minutes ago and staff
    # have already picked Ben's goods
    ada = accept(offer_at(munich, "Ada", at=now - 35 * MINUTE), at=now - 30 * MINUTE)
    cem = accept(offer_at(munich, "Cem", {"A": 2}, at=now - 25 * MINUTE), at=now - 20 * MINUTE)
    ben = accept(offer_at(munich, "Ben", at=now - 12 * MINUTE), at=now - 10 * MINUTE)
    ready = picked_all(ben)
    # and Dan's goods were handed over already, Eva declined, and Fay's offer is open
    dan = accept(offer_at(munich, "Dan"))
    collected = picked_all(dan)
    pickup_handover(fulfillment=collected, code=pickup_code(collected), actor="staff:mia")
    offer_decline(offer=offer_at(munich, "Eva"), actor="app")
    fay = offer_at(munich, "Fay", at=now - 2 * MINUTE)

    # When Munich's staff open "customers in the store now"
    response = munich_staff.get(URL)

    # then the accepted offers still to prepare or hand over are listed, oldest accept first
    assert response.status_code == 200
    numbers = {o.pk: o.order.number for o in (ada, cem, ben, dan, fay)}
    assert rows_of(response, "accepted-offers") == [numbers[ada.pk], numbers[cem.pk],
                                                     numbers[ben.pk]]
    # each with its customer, items, state, and the screen to go to
    assert states_of(response) == {numbers[ada.pk]: "to_pick", numbers[cem.pk]: "to_pick",
                                   numbers[ben.pk]: "ready"}
    page = text_of(response)
    assert "Cem" in page and f"2 {TIMES} A" in page and "30 minutes ago" in page
    assert "Ready: hand over" in page and "To pick" in page
    for offer in (ada, cem):
        assert f'href="/cockpit/pickups/{offer.pickup_id}/pick/"' in page
        assert f'href="/cockpit/pickups/{offer.pickup_id}/handover/"' not in page
    assert f'href="/cockpit/pickups/{ready.pk}/handover/"' in page
    # and Fay, whose offer is open, is among the customers in the store right now
    assert rows_of(response, "open-offers") == [numbers[fay.pk]]
    assert "Fay" in page and "2 minutes ago" in page


def test_an_offer_past_its_time_is_no_longer_listed_as_open(network, offer_at, munich_staff,
                                                            now):
    # Given Gus's offer made 25 minutes ago (offers last 20), not yet swept by the beat task
    gus = offer_at(network.munich, "Gus", at=now - 25 * MINUTE)
    assert PickupOffer.objects.get(pk=gus.pk).status == "offered"
    # When staff open the list
    response = munich_staff.get(URL)
    # then he is not shown as being in the store
    assert rows_of(response, "open-offers") == []
    assert "No offer is open right now." in text_of(response)


def test_a_pickup_waits_for_the_warehouse_to_stop_the_parcel_before_it_can_be_handed_over(
        network, offer_at, munich_staff, pushed):
    # Given Kassel received Ada's parcel through its push endpoint, and she accepted
    offer = offer_at(network.munich, "Ada")
    assert fulfillment_dispatch(fulfillment_id=offer.fulfillment_id, gateway=pushed) == \
        "succeeded"
    offer = accept(offer)
    assert offer.shipment_stop == "requested"
    # and staff have already picked her goods
    picked_all(offer)

    # When staff open the list
    response = munich_staff.get(URL)

    # then it says the pickup waits for the warehouse, with the pick screen, not the counter
    assert states_of(response) == {offer.order.number: "waiting"}
    page = text_of(response)
    assert "Waiting for the warehouse to stop the parcel" in page
    assert f'href="/cockpit/pickups/{offer.pickup_id}/handover/"' not in page

    # When Kassel stops the parcel
    assert attempt_run_for(kind=WMS_STOP, target_id=offer.pk, adapter=pushed) == "succeeded"

    # then the pickup is ready to hand over
    response = munich_staff.get(URL)
    assert states_of(response) == {offer.order.number: "ready"}
    assert f'href="/cockpit/pickups/{offer.pickup_id}/handover/"' in text_of(response)


def test_a_stores_staff_never_see_another_stores_offers(network, offer_at, munich_staff,
                                                       cologne):
    # Given an accepted and an open offer in Munich and in Cologne
    munich = [accept(offer_at(network.munich, "Ada")), offer_at(network.munich, "Ben")]
    koeln = [accept(offer_at(cologne, "Cem")), offer_at(cologne, "Dan")]
    cologne_staff = logged_in(StoreStaffFactory(username="kai", stores=[cologne]))

    # When each store's staff open the list
    in_munich, in_cologne = munich_staff.get(URL), cologne_staff.get(URL)

    # then each sees their own store's offers and none of the other's
    assert rows_of(in_munich, "accepted-offers") == [munich[0].order.number]
    assert rows_of(in_munich, "open-offers") == [munich[1].order.number]
    assert rows_of(in_cologne, "accepted-offers") == [koeln[0].order.number]
    assert rows_of(in_cologne, "open-offers") == [koeln[1].order.number]
    for offer in koeln:
        assert offer.order.number not in text_of(in_munich)
        assert "Cem" not in text_of(in_munich)
    # and asking for the other store's list answers 404, saying nothing of it
    refused = munich_staff.get(URL, {"store": "ST-KOE"})
    assert refused.status_code == 404
    assert koeln[0].order.number not in text_of(refused)


def test_a_user_of_several_stores_chooses_the_store(network, offer_at, cologne):
    # Given staff of both stores, and an accepted offer in each
    ada = accept(offer_at(network.munich, "Ada"))
    cem = accept(offer_at(cologne, "Cem"))
    both = logged_in(StoreStaffFactory(username="lea", stores=[network.munich, cologne]))
    # When they choose Cologne in the selector
    response = both.get(URL, {"store": "ST-KOE"})
    # then Cologne's offer is listed, Munich's is not
    assert rows_of(response, "accepted-offers") == [cem.order.number]
    assert ada.order.number not in text_of(response)
    assert 'id="id_store"' in text_of(response)


def test_staff_without_the_pickup_permission_are_refused(network):
    clerk = logged_in(StoreStaffFactory(stores=[network.munich], permissions=[]))
    assert clerk.get(URL).status_code == 403
    assert Client().get(URL).status_code == 302  # to the login


def test_the_list_takes_a_fixed_number_of_queries(network, offer_at, munich_staff,
                                                  django_assert_max_num_queries):
    # Given four accepted offers (one ready) and three open ones
    for name in ("Ada", "Ben", "Cem"):
        accept(offer_at(network.munich, name, {"A": 1, "B": 1}))
    picked_all(accept(offer_at(network.munich, "Dan")))
    for name in ("Eva", "Fay", "Gus"):
        offer_at(network.munich, name, {"A": 2})
    # When staff open the list, then a fixed number of queries reads it
    with django_assert_max_num_queries(12):
        response = munich_staff.get(URL)
    assert len(response.context["rows"]) == 4
    assert len(response.context["open_offers"]) == 3


def test_the_page_speaks_german_and_the_cockpit_links_to_it(network, offer_at, munich_staff):
    accept(offer_at(network.munich, "Ada"))
    # When staff open the list in German
    german = text_of(munich_staff.get(URL, **GERMAN))
    # then it is German, and its columns are
    assert '<html lang="de"' in german
    for header in ("Kunde", "Bestellung", "Stück", "Angenommen"):
        assert f'<th scope="col">{header}</th>' in german
    # and the cockpit's tabs and the admin's index lead to it
    assert f'href="{URL}"' in text_of(munich_staff.get("/cockpit/to-pick/"))
    assert f'href="{URL}"' in text_of(munich_staff.get("/admin/"))


# --- the figures ------------------------------------------------------------------------------
@pytest.fixture
def a_month_of_offers(network, offer_at, pushed, cologne, now):
    """Munich's offers of the last 30 days, one of each outcome: Fay's still open, Ada took
    her whole parcel, Ivy took the A of her A and B (Munich has no B), Eva declined, Gus let it
    expire, and Hal accepted but Kassel had already packed his parcel. And offers that must not
    count: Old's 40 days ago, and one in Cologne."""
    munich = network.munich
    offer_at(munich, "Fay")
    accept(offer_at(munich, "Ada"))
    accept(offer_at(munich, "Ivy", {"A": 1, "B": 1}))
    offer_decline(offer=offer_at(munich, "Eva"), actor="app")
    offer_at(munich, "Gus", at=now - 25 * MINUTE)
    offer_at(munich, "Old", at=now - timedelta(days=40))
    assert offers_expire_due(now=now) == 2
    hal = offer_at(munich, "Hal")
    fulfillment_dispatch(fulfillment_id=hal.fulfillment_id, gateway=pushed)
    accept(hal)
    pushed.stop_status = 409
    assert attempt_run_for(kind=WMS_STOP, target_id=hal.pk, adapter=pushed) == "succeeded"
    accept(offer_at(cologne, "Cem"))
    return munich


def test_the_figures_count_each_outcome_of_the_stores_offers_of_the_period(
        a_month_of_offers, now):
    # When the figures of the last 30 days are taken for Munich
    figures = offer_figures(a_month_of_offers, now=now)
    # then a withdrawn offer counts as accepted too; one parcel was not sent at all
    assert figures == OfferFigures(made=6, accepted=3, declined=1, expired=1, withdrawn=1,
                                   shipments_avoided=1)
    # and a period is counted by when the offers were made
    long_ago = offer_figures(a_month_of_offers, since=now - timedelta(days=41),
                             until=now - timedelta(days=39))
    assert long_ago == OfferFigures(made=1, expired=1)


def test_the_dashboard_shows_the_offers_figures(a_month_of_offers, munich_staff):
    # When Munich's staff open the dashboard
    response = munich_staff.get("/cockpit/dashboard/")
    page = response.content.decode()
    # then the offers' panel counts each outcome (its rows apart from the pickup figures')
    counts = dict(re.findall(r'<tr data-offer-figure="(\w+)"><th scope="row">[^<]*</th>'
                             r'<td class="number" data-count>(\d+)</td>', page))
    assert counts == {"made": "6", "accepted": "3", "declined": "1", "expired": "1",
                      "withdrawn": "1", "shipments_avoided": "1"}
    assert "Pickup offers on store visits, last 30 days" in page
    # and the dashboard's own figures are still there
    assert 'id="pickup-figures"' in page


def test_an_empty_store_shows_zero_offers(network, munich_staff):
    page = munich_staff.get("/cockpit/dashboard/").content.decode()
    assert '<tr data-offer-figure="made"><th scope="row">Offers made</th>' \
           '<td class="number" data-count>0</td>' in page


def test_metrics_show_the_offers_per_store_and_outcome(a_month_of_offers):
    # When metrics are scraped
    text = scrape()
    # then every offer ever made counts, per store and outcome (Old's too)
    munich = {outcome: metric_value(text, "oms_pickup_offers", store="ST-MUC", outcome=outcome)
              for outcome in ("made", "accepted", "declined", "expired", "withdrawn")}
    assert munich == {"made": 7, "accepted": 3, "declined": 1, "expired": 2, "withdrawn": 1}
    assert metric_value(text, "oms_pickup_shipments_avoided", store="ST-MUC") == 1
    assert metric_value(text, "oms_pickup_offers", store="ST-KOE", outcome="accepted") == 1
    assert metric_value(text, "oms_pickup_shipments_avoided", store="ST-KOE") == 1
    # and a store without offers has no series
    assert metric_value(text, "oms_pickup_offers", store="ST-BER", outcome="made") is None
