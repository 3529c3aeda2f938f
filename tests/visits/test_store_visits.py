"""A customer walks into a store while their online order has not left the warehouse: the app
or the till registers the visit, and the store offers the goods it has on its shelf, only with
the customer's consent, with the reason of every decision in the order's audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from oms.orders.models import OrderEvent
from tests.conftest import error_codes
from tests.visits.conftest import CUSTOMER
from tests.visits.conftest import visit as _visit
from visits.models import PickupOffer, StoreVisit
from visits.services import offers_expire_due

pytestmark = pytest.mark.django_db

def _decisions(order: dict[str, Any]) -> list[str]:
    return [e.data["decision"] for e in OrderEvent.objects.filter(
        order__number=order["number"], type="pickup_offer.decided")]


def test_a_customer_with_consent_is_offered_their_parcel_from_the_shelf(ordered: Any,
                                                                        app: Any) -> None:
    # given an order shipping from Kassel, not started, and Munich has both items
    order = ordered()

    # when the app reports the customer entering the Munich store
    response = _visit(app)

    # then the visit offers the whole parcel for 20 minutes, and the trail says why
    assert response.status_code == 201, response.content
    [offer] = response.json()["offers"]
    assert offer["order"] == order["number"] and offer["status"] == "offered"
    assert sorted((ln["sku"], ln["quantity"]) for ln in offer["lines"]) == [("A", 1),
                                                                            ("B", 1)]
    assert response.json()["in_store"] == []
    stored = PickupOffer.objects.get(pk=offer["id"])
    assert stored.expires_at - stored.created_at == timedelta(minutes=20)
    assert _decisions(order) == ["offered"]


def test_the_same_customer_at_the_same_store_within_the_window_is_one_visit(
        ordered: Any, app: Any) -> None:
    ordered()
    first = _visit(app)
    again = _visit(app)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert StoreVisit.objects.count() == 1 and PickupOffer.objects.count() == 1


@pytest.mark.parametrize(("consent", "munich", "decision"), [
    (None, None, "no_consent"),
    (False, None, "no_consent"),
    (True, {"A": 5}, "offered"),  # partial offers are on by default: A only
    (True, {}, "not_in_stock_here"),
])
def test_an_offer_needs_consent_and_stock_on_this_shelf(ordered: Any, app: Any,
                                                        consent: bool | None,
                                                        munich: dict[str, int] | None,
                                                        decision: str) -> None:
    order = ordered(consent=consent, munich=munich)
    response = _visit(app)
    assert response.status_code == 201, response.content
    assert bool(response.json()["offers"]) == (decision == "offered")
    assert _decisions(order) == [decision]


def test_a_parcel_the_warehouse_started_picking_is_not_offered(ordered: Any, app: Any,
                                                              api: Any) -> None:
    # given Kassel started picking the parcel
    order = ordered()
    fo = FulfillmentOrder.objects.get(order__number=order["number"])
    wms = api("wms", location_code="WH-KS")
    assert wms.post(f"/api/v1/fulfillments/{fo.pk}/pick",
                    {"lines": [{"sku": "A", "picked": 1}]}).status_code == 200

    # when the customer walks into Munich, then nothing is offered, and the trail says why
    assert _visit(app).json()["offers"] == []
    assert _decisions(order) == ["already_picking"]


def test_an_unknown_customer_gets_a_visit_and_nothing_else(network: Any, app: Any) -> None:
    response = _visit(app, email="nobody@example.de")
    assert response.status_code == 201, response.content
    assert response.json()["offers"] == [] and response.json()["in_store"] == []


def test_a_till_registers_visits_only_at_its_own_store_and_sees_no_other_stores_visits(
        ordered: Any, app: Any, api: Any) -> None:
    ordered()
    visit = _visit(app).json()
    berlin_till = api("pos", location_code="ST-BER", channel="pos")
    munich_till = api("pos", location_code="ST-MUC", channel="pos")
    assert _visit(berlin_till).status_code == 404
    assert berlin_till.get(f"/api/v1/store-visits/{visit['id']}").status_code == 404
    offer = visit["offers"][0]["id"]
    assert berlin_till.get(f"/api/v1/pickup-offers/{offer}").status_code == 404
    assert berlin_till.post(f"/api/v1/pickup-offers/{offer}/decline").status_code == 404
    assert munich_till.get(f"/api/v1/pickup-offers/{offer}").status_code == 200
    assert _visit(app, location="NOWHERE").status_code == 404


def test_an_offer_is_declined_once(ordered: Any, app: Any) -> None:
    ordered()
    offer = _visit(app).json()["offers"][0]["id"]
    declined = app.post(f"/api/v1/pickup-offers/{offer}/decline")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    again = app.post(f"/api/v1/pickup-offers/{offer}/decline")
    assert again.status_code == 409
    assert error_codes(again) == ["invalid_transition"]


def test_offers_past_their_time_expire_once_however_often_the_sweep_runs(
        ordered: Any, app: Any) -> None:
    order = ordered()
    offer = _visit(app).json()["offers"][0]["id"]
    later = timezone.now() + timedelta(minutes=21)
    assert offers_expire_due(now=later) == 1
    assert offers_expire_due(now=later) == 0
    assert PickupOffer.objects.get(pk=offer).status == "expired"
    assert "pickup_offer.expired" in set(OrderEvent.objects.filter(
        order__number=order["number"]).values_list("type", flat=True))


@pytest.mark.parametrize("body", [
    {},
    {"location": "ST-MUC", "customer": {}, "source": "nfc"},
    {"location": "ST-MUC", "customer": {"email": "a@b.de", "external_id": "x"},
     "source": "nfc"},
    {"location": "ST-MUC", "customer": CUSTOMER, "source": "teleport"},
    {"location": "ST-MUC", "customer": CUSTOMER, "source": "nfc", "extra": 1},
    {"location": "ST MUC", "customer": CUSTOMER, "source": "nfc"},
])
def test_bad_visits_are_refused_and_change_nothing(network: Any, app: Any,
                                                   body: dict[str, Any]) -> None:
    response = app.post("/api/v1/store-visits", body)
    assert response.status_code == 400, response.content
    assert StoreVisit.objects.count() == 0
