"""Sourcing v1: which locations serve an order, and why."""

from __future__ import annotations

import pytest

from inventory.models import StockLevel
from inventory.sourcing import DeliveryRequest, LineRequest, sourcing_decide
from oms.core.errors import NotFound, Unprocessable

SHIP = DeliveryRequest(method="ship")


def served_by(decision) -> list[tuple[str, str, int]]:
    return sorted((a.sku, a.location, a.quantity) for a in decision.allocations)


def test_one_location_serving_the_whole_order_beats_a_better_ranked_one_serving_part(network):
    # Given Kassel (priority 10) has only A, and Hamburg (priority 20) has A and B
    network.stock(network.kassel, "A", 5)
    network.stock(network.hamburg, "A", 5)
    network.stock(network.hamburg, "B", 5)
    # When an order for A and B is sourced for shipping
    decision = sourcing_decide(lines=[LineRequest("A", 1), LineRequest("B", 1)], delivery=SHIP)
    # Then Hamburg serves everything in one parcel
    assert served_by(decision) == [("A", "WH-HH", 1), ("B", "WH-HH", 1)]
    assert decision.strategy == "single_location"


def test_location_priority_decides_between_locations_that_can_each_serve_everything(network):
    network.stock(network.kassel, "A", 5)
    network.stock(network.hamburg, "A", 5)
    decision = sourcing_decide(lines=[LineRequest("A", 2)], delivery=SHIP)
    assert served_by(decision) == [("A", "WH-KS", 2)]


def test_distance_to_the_customer_decides_between_locations_of_equal_priority(network):
    # Given both warehouses have the same priority
    network.hamburg.priority = network.kassel.priority
    network.hamburg.save()
    network.stock(network.kassel, "A", 5)
    network.stock(network.hamburg, "A", 5)
    # When the customer lives in Kiel, far north of Kassel and close to Hamburg
    kiel = DeliveryRequest(method="ship", lat=54.32, lon=10.13)
    decision = sourcing_decide(lines=[LineRequest("A", 1)], delivery=kiel)
    # Then Hamburg ships
    assert served_by(decision) == [("A", "WH-HH", 1)]


def test_stores_shipping_from_store_come_after_warehouses(network):
    network.stock(network.berlin, "A", 5)
    network.stock(network.hamburg, "A", 5)
    decision = sourcing_decide(lines=[LineRequest("A", 1)], delivery=SHIP)
    assert served_by(decision) == [("A", "WH-HH", 1)]


def test_a_store_without_ship_from_store_never_ships(network):
    network.stock(network.munich, "A", 5)
    decision = sourcing_decide(lines=[LineRequest("A", 1)], delivery=SHIP)
    assert decision.shortages == {"A": 1}
    assert decision.allocations == []


def test_an_order_nobody_can_serve_whole_is_split_with_as_few_parcels_as_possible(network):
    # Given Kassel has A, Hamburg has B and 2 of C, Berlin has 3 of C
    network.stock(network.kassel, "A", 5)
    network.stock(network.hamburg, "B", 5)
    network.stock(network.hamburg, "C", 2)
    network.stock(network.berlin, "C", 3)
    # When A, B and 4 of C are ordered
    decision = sourcing_decide(
        lines=[LineRequest("A", 1), LineRequest("B", 1), LineRequest("C", 4)], delivery=SHIP
    )
    # Then A ships from Kassel, B from Hamburg, and C is split between Hamburg and Berlin
    assert served_by(decision) == [("A", "WH-KS", 1), ("B", "WH-HH", 1), ("C", "ST-BER", 2),
                                   ("C", "WH-HH", 2)]
    assert decision.strategy == "split"
    assert decision.shortages == {}


def test_safety_stock_and_reserved_units_are_not_offered(network):
    level = network.stock(network.kassel, "A", 5, safety=2)
    StockLevel.objects.filter(pk=level.pk).update(reserved=2)
    decision = sourcing_decide(lines=[LineRequest("A", 2)], delivery=SHIP)
    assert decision.shortages == {"A": 1}


def test_the_decision_says_why_each_candidate_was_chosen_or_skipped(network):
    network.stock(network.kassel, "A", 1)
    network.stock(network.hamburg, "A", 5)
    decision = sourcing_decide(lines=[LineRequest("A", 3)], delivery=SHIP)
    reasons = {c["location"]: c for c in decision.as_json()["candidates"]}
    assert reasons["WH-HH"]["chosen"] is True
    assert reasons["WH-KS"]["chosen"] is False
    assert "A" in reasons["WH-KS"]["reason"]
    assert set(reasons) == {"WH-KS", "WH-HH", "ST-BER"}  # Munich does not ship


def test_the_reasons_are_worked_out_once_when_first_read_and_describe_the_stock_decided_on(
        network):
    # Given a decision over two warehouses, and the stock changing after it was made
    kassel = network.stock(network.kassel, "A", 1)
    network.stock(network.hamburg, "A", 5)
    decision = sourcing_decide(lines=[LineRequest("A", 3)], delivery=SHIP)
    StockLevel.objects.filter(pk=kassel.pk).update(on_hand=50)
    explain, calls = decision.explain, []
    decision.explain = lambda d: calls.append(d) or explain(d)
    # When its reasons are read twice (as an order storing the decision does)
    first, second = decision.candidates, decision.as_json()["candidates"]
    # Then they were worked out once, from the stock the decision was made on
    assert len(calls) == 1 and first is second
    assert {c["location"]: c["chosen"] for c in first} == {
        "WH-KS": False, "WH-HH": True, "ST-BER": False}
    assert "A" in next(c for c in first if c["location"] == "WH-KS")["reason"]

def test_a_pickup_is_served_by_the_named_store_only(network):
    network.stock(network.kassel, "A", 50)
    network.stock(network.munich, "A", 1)
    decision = sourcing_decide(lines=[LineRequest("A", 2)],
                               delivery=DeliveryRequest(method="pickup", location="ST-MUC"))
    assert decision.shortages == {"A": 1}
    assert [c["location"] for c in decision.candidates] == ["ST-MUC"]


def test_a_pickup_at_a_warehouse_or_a_store_without_click_and_collect_is_unprocessable(network):
    network.berlin.click_and_collect = False
    network.berlin.save()
    for code in ("WH-KS", "ST-BER"):
        with pytest.raises(Unprocessable):
            sourcing_decide(lines=[LineRequest("A", 1)],
                            delivery=DeliveryRequest(method="pickup", location=code))
    with pytest.raises(NotFound):
        sourcing_decide(lines=[LineRequest("A", 1)],
                        delivery=DeliveryRequest(method="pickup", location="NOWHERE"))


def test_the_dry_run_over_the_api_reserves_nothing(network, api):
    network.stock(network.kassel, "A", 5)
    shop = api("webshop")
    response = shop.post("/api/v1/sourcing/preview",
                         {"lines": [{"sku": "A", "quantity": 2}], "delivery": {"method": "ship"}})
    assert response.status_code == 200, response.content
    assert response.json()["allocations"][0]["location"] == "WH-KS"
    assert StockLevel.objects.get(product_id="A", location=network.kassel).reserved == 0
