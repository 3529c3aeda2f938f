"""From placed to delivered through the WMS endpoints."""

from __future__ import annotations

from fulfillment.models import FulfillmentOrder
from inventory.models import StockMovement
from oms.core.models import OutboxEvent
from oms.orders.models import Order
from tests.conftest import error_codes
from tests.fulfillment.conftest import fulfillment_of
from tests.network import level


def fo_url(fo: FulfillmentOrder, action: str = "") -> str:
    return f"/api/v1/fulfillments/{fo.pk}" + (f"/{action}" if action else "")


def order_statuses(number: str) -> list[str]:
    return [e.data["to"] for e in Order.objects.get(number=number).events.all()
            if "to" in e.data]


def test_an_order_travels_from_placed_to_completed(network, place, wms, shop):
    # Given an order for 2 A and 1 B, all in Kassel
    network.stock(network.kassel, "A", 5)
    network.stock(network.kassel, "B", 5)
    order = place([("A", 2), ("B", 1)])
    fo = fulfillment_of(order, "WH-KS")
    # When the warehouse accepts, picks everything, ships it and the carrier delivers
    assert wms.post(fo_url(fo, "accept")).status_code == 200
    picked = wms.post(fo_url(fo, "pick"), {"lines": [{"sku": "A", "picked": 2},
                                                     {"sku": "B", "picked": 1}]})
    assert picked.status_code == 200, picked.content
    shipped = wms.post(fo_url(fo, "ship"), {"carrier": "DHL", "tracking_number": "00340434"})
    assert shipped.status_code == 200, shipped.content
    assert wms.post(fo_url(fo, "tracking-events"),
                    {"status": "in_transit", "at": "2026-11-23T08:00:00+01:00"}).status_code == 200
    delivered = wms.post(fo_url(fo, "tracking-events"),
                         {"status": "delivered", "at": "2026-11-24T11:00:00+01:00"})
    assert delivered.status_code == 200
    # Then the order went through every status and is completed
    assert order_statuses(order["number"]) == [
        "confirmed", "in_fulfillment", "shipped", "completed"]
    body = shop.get(f"/api/v1/orders/{order['number']}").json()
    assert body["status"] == "completed"
    assert [(ln["sku"], ln["fulfilled"], ln["allocated"]) for ln in body["lines"]] == [
        ("A", 2, 0), ("B", 1, 0)]
    assert body["fulfillments"][0]["status"] == "delivered"
    # And the stock left the warehouse: on-hand and reserved both down, with ship movements
    assert (level("A", network.kassel).on_hand, level("A", network.kassel).reserved) == (3, 0)
    assert StockMovement.objects.filter(kind="ship", product_id="A").get().quantity == -2
    shipped_event = OutboxEvent.objects.get(topic="fulfillment.shipped")
    assert shipped_event.payload["amount"] == "30.00"
    assert shipped_event.payload["shipment"]["tracking_number"] == "00340434"
    assert {"order.shipped", "order.completed", "fulfillment.delivered"} <= set(
        OutboxEvent.objects.values_list("topic", flat=True))


def test_a_rejected_fulfilment_moves_to_the_next_best_location(network, place, wms):
    # Given Kassel and Hamburg both have A; Kassel is preferred
    network.stock(network.kassel, "A", 5)
    network.stock(network.hamburg, "A", 5)
    order = place([("A", 2)])
    kassel = fulfillment_of(order, "WH-KS")
    # When Kassel rejects
    response = wms.post(fo_url(kassel, "reject"), {"reason": "flooded aisle"})
    # Then Hamburg gets a new pending fulfilment with the units, reserved moves along
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "rejected"
    hamburg = fulfillment_of(order, "WH-HH")
    assert hamburg.status == "pending"
    assert [(ln.order_line.product_id, ln.quantity) for ln in hamburg.lines.all()] == [("A", 2)]
    assert level("A", network.kassel).reserved == 0
    assert level("A", network.hamburg).reserved == 2
    rejected = OutboxEvent.objects.get(topic="fulfillment.rejected")
    assert rejected.payload["resourced_to"] == ["WH-HH"]
    assert rejected.payload["cancelled"] == []


def test_a_rejection_nobody_can_absorb_cancels_the_lines_for_lack_of_stock(network, place, wms,
                                                                         shop):
    network.stock(network.kassel, "A", 2)
    order = place([("A", 2)])
    response = wms.post(fo_url(fulfillment_of(order, "WH-KS"), "reject"), {"reason": "gone"})
    assert response.status_code == 200
    body = shop.get(f"/api/v1/orders/{order['number']}").json()
    assert body["status"] == "cancelled"
    assert body["lines"][0]["cancelled"] == 2
    assert level("A", network.kassel).reserved == 0
    cancelled = OutboxEvent.objects.get(topic="order.cancelled")
    assert cancelled.payload["detail"]["reason"] == "no_stock"
    rejected = OutboxEvent.objects.get(topic="fulfillment.rejected")
    assert rejected.payload["cancelled"] == [{"sku": "A", "quantity": 2}]


def test_a_short_pick_re_sources_only_the_missing_units(network, place, wms):
    # Given 3 A ordered from Kassel, Hamburg also has some
    network.stock(network.kassel, "A", 3)
    network.stock(network.hamburg, "A", 5)
    order = place([("A", 3)])
    kassel = fulfillment_of(order, "WH-KS")
    # When Kassel finds only 1
    response = wms.post(fo_url(kassel, "pick"), {"lines": [{"sku": "A", "picked": 1}]})
    # Then 2 move to Hamburg, Kassel's count drops by the 2 it did not find, and Kassel ships 1
    assert response.status_code == 200, response.content
    assert fulfillment_of(order, "WH-HH").lines.get().quantity == 2
    kassel_level = level("A", network.kassel)
    assert (kassel_level.on_hand, kassel_level.reserved) == (1, 1)
    assert level("A", network.hamburg).reserved == 2
    assert OutboxEvent.objects.filter(topic="fulfillment.resourced").count() == 1
    shipped = wms.post(fo_url(kassel, "ship"), {"carrier": "dpd", "tracking_number": "1"})
    assert shipped.status_code == 200, shipped.content
    assert shipped.json()["status"] == "shipped"
    assert Order.objects.get(number=order["number"]).status == "partially_shipped"


def test_cancelling_after_a_partial_shipment_cancels_only_the_rest(network, place, wms, shop):
    network.stock(network.kassel, "A", 5)
    network.stock(network.kassel, "B", 5)
    order = place([("A", 2), ("B", 2)])
    fo = fulfillment_of(order, "WH-KS")
    wms.post(fo_url(fo, "ship"), {"carrier": "dhl", "tracking_number": "P1",
                                  "lines": [{"sku": "A", "quantity": 2}]})
    # When the customer cancels the order
    response = shop.post(f"/api/v1/orders/{order['number']}/cancel", {"reason": "too slow"})
    # Then only B is cancelled and the order counts as shipped
    assert response.status_code == 200, response.content
    body = response.json()
    assert {ln["sku"]: (ln["fulfilled"], ln["cancelled"]) for ln in body["lines"]} == {
        "A": (2, 0), "B": (0, 2)}
    assert body["status"] == "shipped"
    assert level("B", network.kassel).reserved == 0
    assert body["fulfillments"][0]["status"] == "shipped"


def test_the_same_lines_cannot_ship_twice(network, place, wms):
    network.stock(network.kassel, "A", 5)
    order = place([("A", 1)])
    fo = fulfillment_of(order, "WH-KS")
    first = wms.post(fo_url(fo, "ship"), {"carrier": "dhl", "tracking_number": "T1",
                                          "lines": [{"sku": "A", "quantity": 1}]})
    again = wms.post(fo_url(fo, "ship"), {"carrier": "dhl", "tracking_number": "T2",
                                          "lines": [{"sku": "A", "quantity": 1}]})
    assert first.status_code == 200
    assert again.status_code == 409
    assert error_codes(again) == ["already_shipped"]
    assert level("A", network.kassel).on_hand == 4


def test_an_order_on_hold_is_not_fulfilled(network, place, wms):
    network.stock(network.kassel, "A", 5)
    order = place([("A", 1)], payment={"method": "card", "status": "pending",
                                       "amount": "10.00", "psp_reference": "psp_hold"})
    fo = fulfillment_of(order, "WH-KS")
    for action, body in (("accept", None), ("ship", {"carrier": "dhl", "tracking_number": "X"})):
        response = wms.post(fo_url(fo, action), body)
        assert response.status_code == 409
        assert error_codes(response) == ["order_on_hold"]
    assert level("A", network.kassel).on_hand == 5


def test_a_wms_confined_to_a_location_sees_only_its_fulfilments(network, place, api):
    network.stock(network.kassel, "A", 5)
    order = place([("A", 1)])
    fo = fulfillment_of(order, "WH-KS")
    hamburg = api("wms", location_code="WH-HH")
    kassel = api("wms", location_code="WH-KS")
    assert hamburg.get(fo_url(fo)).status_code == 404
    assert hamburg.post(fo_url(fo, "accept")).status_code == 404
    assert hamburg.get("/api/v1/fulfillments").json()["results"] == []
    assert [f["id"] for f in kassel.get("/api/v1/fulfillments").json()["results"]] == [fo.pk]
    assert kassel.get("/api/v1/fulfillments", {"status": "pending"}).json()["results"]
    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "pending"


def test_bad_fulfilment_commands_get_clear_errors_and_change_nothing(network, place, wms, api):
    network.stock(network.kassel, "A", 5)
    order = place([("A", 2)])
    fo = fulfillment_of(order, "WH-KS")
    cases = [
        ("pick", {"lines": [{"sku": "A", "picked": 3}]}, 400, "over_pick"),
        ("pick", {"lines": [{"sku": "Z", "picked": 1}]}, 400, "unknown_sku"),
        ("pick", {"lines": [{"sku": "A", "picked": -1}]}, 400, "min_value"),
        ("pick", {"lines": []}, 400, "empty"),
        ("ship", {"carrier": "", "tracking_number": "1"}, 400, "blank"),
        ("ship", {"carrier": "dhl", "tracking_number": "1",
                  "lines": [{"sku": "A", "quantity": 3}]}, 409, "already_shipped"),
        ("reject", {}, 400, "required"),
        ("tracking-events", {"status": "delivered", "at": "2026-11-24T10:00:00Z"}, 409,
         "invalid_transition"),
        ("tracking-events", {"status": "lost", "at": "2026-11-24T10:00:00Z"}, 400,
         "invalid_choice"),
    ]
    for action, body, status, code in cases:
        response = wms.post(fo_url(fo, action), body)
        assert (response.status_code, error_codes(response)[0]) == (status, code), (action, body)
    assert wms.post("/api/v1/fulfillments/999999/accept").status_code == 404
    assert api("webshop").post(fo_url(fo, "accept")).status_code == 403
    fo.refresh_from_db()
    assert fo.status == "pending"
    assert level("A", network.kassel).reserved == 2


def test_two_parcels_delivered_complete_the_order(network, place, wms):
    # Given one fulfilment shipped in two parcels
    network.stock(network.kassel, "A", 5)
    network.stock(network.kassel, "B", 5)
    order = place([("A", 1), ("B", 1)])
    fo = fulfillment_of(order, "WH-KS")
    for sku, tracking in (("A", "P1"), ("B", "P2")):
        wms.post(fo_url(fo, "ship"), {"carrier": "dhl", "tracking_number": tracking,
                                      "lines": [{"sku": sku, "quantity": 1}]})
    # When the carrier reports each parcel delivered, naming it
    for tracking in ("P1", "P2"):
        response = wms.post(fo_url(fo, "tracking-events"), {
            "status": "delivered", "at": "2026-11-24T10:00:00+01:00",
            "tracking_number": tracking})
        assert response.status_code == 200, response.content
    # Then the fulfilment is delivered and the order completed
    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "delivered"
    assert Order.objects.get(number=order["number"]).status == "completed"


def test_unnamed_tracking_events_go_to_the_oldest_parcel_still_under_way(network, place, wms):
    network.stock(network.kassel, "A", 5)
    network.stock(network.kassel, "B", 5)
    order = place([("A", 1), ("B", 1)])
    fo = fulfillment_of(order, "WH-KS")
    for sku, tracking in (("A", "Q1"), ("B", "Q2")):
        wms.post(fo_url(fo, "ship"), {"carrier": "dhl", "tracking_number": tracking,
                                      "lines": [{"sku": sku, "quantity": 1}]})
    for _ in range(2):
        wms.post(fo_url(fo, "tracking-events"),
                 {"status": "delivered", "at": "2026-11-24T10:00:00+01:00"})
    assert Order.objects.get(number=order["number"]).status == "completed"
    unknown = wms.post(fo_url(fo, "tracking-events"), {
        "status": "in_transit", "at": "2026-11-24T10:00:00+01:00", "tracking_number": "NOPE"})
    assert unknown.status_code == 400
    assert error_codes(unknown) == ["unknown_tracking_number"]
    no_offset = wms.post(fo_url(fo, "tracking-events"),
                         {"status": "in_transit", "at": "2026-11-24T10:00:00"})
    assert error_codes(no_offset) == ["missing_offset"]


def test_cancelling_the_rest_after_the_delivered_part_completes_the_order(network, place, wms,
                                                                         shop):
    # Given 1 of 2 units shipped and delivered
    network.stock(network.kassel, "A", 5)
    order = place([("A", 2)])
    fo = fulfillment_of(order, "WH-KS")
    wms.post(fo_url(fo, "ship"), {"carrier": "dhl", "tracking_number": "R1",
                                  "lines": [{"sku": "A", "quantity": 1}]})
    wms.post(fo_url(fo, "tracking-events"), {"status": "delivered",
                                             "at": "2026-11-24T10:00:00+01:00"})
    # When the customer cancels the rest
    response = shop.post(f"/api/v1/orders/{order['number']}/cancel", {"reason": "enough"})
    # Then nothing is left open: the fulfilment is delivered and the order completed
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"
    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "delivered"
    assert level("A", network.kassel).reserved == 0


def test_a_pick_that_leaves_out_a_sku_does_not_write_it_off(network, place, wms):
    # Given an order for A and B from Kassel
    network.stock(network.kassel, "A", 5)
    network.stock(network.kassel, "B", 5)
    network.stock(network.hamburg, "B", 5)
    order = place([("A", 1), ("B", 1)])
    fo = fulfillment_of(order, "WH-KS")
    # When the WMS reports only A picked
    response = wms.post(fo_url(fo, "pick"), {"lines": [{"sku": "A", "picked": 1}]})
    # Then B stays open at Kassel: nothing moved, nothing written off
    assert response.status_code == 200, response.content
    lines = {ln["sku"]: ln for ln in response.json()["lines"]}
    assert (lines["A"]["picked"], lines["B"]["picked"], lines["B"]["cancelled"]) == (1, None, 0)
    assert level("B", network.kassel).on_hand == 5
    assert not FulfillmentOrder.objects.filter(location__code="WH-HH").exists()


def test_a_count_taken_before_a_shipment_but_arriving_after_it_keeps_the_shipment(
        network, place, wms, api):
    # Given 5 A in Kassel, counted at 10:00, and 1 shipped at "now" (after 10:00)
    network.stock(network.kassel, "A", 5)
    order = place([("A", 1)])
    wms.post(fo_url(fulfillment_of(order, "WH-KS"), "ship"),
             {"carrier": "dhl", "tracking_number": "LATE1"})
    assert level("A", network.kassel).on_hand == 4
    # When the 10:00 count (still 5 on the shelf then) arrives late
    response = api("erp").post("/api/v1/stock/snapshots", {
        "location": "WH-KS", "as_of": "2026-01-01T10:00:00+01:00",
        "levels": [{"sku": "A", "on_hand": 5}]})
    # Then the shipment after the count still counts: on-hand stays 4
    assert response.status_code == 200, response.content
    assert level("A", network.kassel).on_hand == 4


def test_a_snapshot_from_the_future_is_refused(network, api):
    network.stock(network.kassel, "A", 5)
    response = api("erp").post("/api/v1/stock/snapshots", {
        "location": "WH-KS", "as_of": "2999-01-01T10:00:00+01:00",
        "levels": [{"sku": "A", "on_hand": 1}]})
    assert response.status_code == 400
    assert error_codes(response) == ["future"]
    assert level("A", network.kassel).on_hand == 5


def test_a_mangled_cursor_is_bad_input(network, shop):
    response = shop.get("/api/v1/orders", {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "cursor"


def test_only_erp_and_staff_see_a_locations_wms_endpoint(network, api):
    network.kassel.wms_url = "https://wms.example.org/hook"
    network.kassel.save()
    assert "wms_url" not in api("webshop").get("/api/v1/locations/WH-KS").json()
    assert api("erp").get("/api/v1/locations/WH-KS").json()["wms_url"] == \
        "https://wms.example.org/hook"
