"""The supplier portal's order pages, as Nordwerk's staff work them: acknowledge new dropship
orders (accept, or reject with a reason: the lines are re-sourced), ship parcels with carrier and
tracking number (partial shipments too), print a packing slip, and follow what has shipped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fulfillment.lifecycle import fulfillment_accept, fulfillment_ship, fulfillment_tracking_event
from fulfillment.models import FulfillmentOrder, Shipment
from oms.orders.models import OrderEvent
from tests.suppliers.conftest import portal_client, stock
from tests.suppliers.factories import SupplierFactory, SupplierSiteFactory, SupplierUserFactory

pytestmark = pytest.mark.django_db


def accepted(fo: FulfillmentOrder) -> FulfillmentOrder:
    return fulfillment_accept(fulfillment=fo, actor="test")


def ship_body(fo: FulfillmentOrder, carrier: str = "DHL", tracking: str = "JJD0001",
              **quantities: int) -> dict[str, Any]:
    """The ship form's fields: carrier, tracking number and `SKU=quantity` per open line."""
    body: dict[str, Any] = {"carrier": carrier, "tracking_number": tracking}
    for line in fo.lines.all():
        body[f"qty_{line.pk}"] = quantities.get(line.sku.replace("-", "_"), line.open_quantity)
    return body


# --- new orders --------------------------------------------------------------------------------
def test_new_orders_list_the_pending_dropship_orders_of_the_supplier(
        supplier_client: Client, dropship_order: FulfillmentOrder) -> None:
    page = supplier_client.get("/supplier/orders/new/")

    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-order="{dropship_order.order.number}"' in html
    assert 'data-sku="BOOT-42"' in html and 'data-sku="SOCK-1"' in html
    assert "Kim Weber" in html


def test_accepting_moves_the_order_to_ship(supplier_client: Client,
                                           dropship_order: FulfillmentOrder) -> None:
    # when Nora accepts the order
    answer = supplier_client.post(f"/supplier/orders/{dropship_order.pk}/accept/", follow=True)

    # then it is accepted, in her name, and listed under "To ship", no longer as new
    dropship_order.refresh_from_db()
    assert dropship_order.status == "accepted"
    assert OrderEvent.objects.filter(order=dropship_order.order, type="fulfillment.accepted",
                                     actor="supplier:nora").exists()
    assert "accepted" in answer.content.decode()
    assert f'data-fulfillment="{dropship_order.pk}"' not in supplier_client.get(
        "/supplier/orders/new/").content.decode()
    assert f'data-fulfillment="{dropship_order.pk}"' in supplier_client.get(
        "/supplier/orders/to-ship/").content.decode()


def test_accepting_twice_shows_the_refusal_and_changes_nothing(
        supplier_client: Client, dropship_order: FulfillmentOrder) -> None:
    accepted(dropship_order)
    events = OrderEvent.objects.count()

    answer = supplier_client.post(f"/supplier/orders/{dropship_order.pk}/accept/", follow=True)

    assert answer.status_code == 200
    assert b'class="error"' in answer.content
    assert OrderEvent.objects.count() == events


def test_rejecting_with_a_reason_resources_the_lines(
        supplier_client: Client, place_dropship: Any, network: Any) -> None:
    # given a new order at Nordwerk, and Kassel got the boots in meanwhile
    fo = place_dropship([("BOOT-42", 2)])
    stock(network.kassel, "BOOT-42", 5)

    # when Nora rejects it, out of stock
    answer = supplier_client.post(f"/supplier/orders/{fo.pk}/reject/",
                                  {"reason": "Out of stock"})

    # then it is rejected with her reason, and Kassel now has the order
    assert answer.status_code == 302
    fo.refresh_from_db()
    assert (fo.status, fo.reason) == ("rejected", "Out of stock")
    assert FulfillmentOrder.objects.get(order=fo.order, location=network.kassel).status == \
        "pending"
    assert OrderEvent.objects.filter(order=fo.order, type="fulfillment.rejected",
                                     actor="supplier:nora").exists()


def test_rejecting_without_a_reason_changes_nothing(supplier_client: Client,
                                                    dropship_order: FulfillmentOrder) -> None:
    answer = supplier_client.post(f"/supplier/orders/{dropship_order.pk}/reject/",
                                  {"reason": "  "})

    assert answer.status_code == 400
    assert b"errorlist" in answer.content
    dropship_order.refresh_from_db()
    assert dropship_order.status == "pending"


# --- to ship -----------------------------------------------------------------------------------
def test_shipping_everything_with_tracking(supplier_client: Client,
                                           dropship_order: FulfillmentOrder) -> None:
    accepted(dropship_order)

    answer = supplier_client.post(f"/supplier/orders/{dropship_order.pk}/ship/",
                                  ship_body(dropship_order, "DHL", "JJD0001"))

    assert answer.status_code == 302
    dropship_order.refresh_from_db()
    assert dropship_order.status == "shipped"
    shipment = Shipment.objects.get(fulfillment=dropship_order)
    assert (shipment.carrier, shipment.tracking_number) == ("dhl", "JJD0001")
    assert {sl.fulfillment_line.sku: sl.quantity for sl in shipment.lines.all()} == \
        {"BOOT-42": 2, "SOCK-1": 3}
    assert OrderEvent.objects.filter(order=dropship_order.order, type="fulfillment.shipped",
                                     actor="supplier:nora").exists()
    # and it is no longer to ship
    assert f'data-fulfillment="{dropship_order.pk}"' not in supplier_client.get(
        "/supplier/orders/to-ship/").content.decode()


def test_a_partial_shipment_leaves_the_rest_to_ship_in_a_second_parcel(
        supplier_client: Client, dropship_order: FulfillmentOrder) -> None:
    accepted(dropship_order)

    # when Nora ships the boots and one pair of socks in a first parcel
    first = supplier_client.post(f"/supplier/orders/{dropship_order.pk}/ship/", ship_body(
        dropship_order, "DHL", "JJD0001", BOOT_42=2, SOCK_1=1))

    # then the order is partially shipped and still to ship, with 2 pairs of socks open
    assert first.status_code == 302
    dropship_order.refresh_from_db()
    assert dropship_order.status == "partially_shipped"
    to_ship = supplier_client.get("/supplier/orders/to-ship/").content.decode()
    assert f'data-fulfillment="{dropship_order.pk}"' in to_ship
    form = supplier_client.get(f"/supplier/orders/{dropship_order.pk}/ship/").content.decode()
    assert 'data-sku="BOOT-42"' not in form.split('id="ship-lines"')[1].split("</table>")[0]
    assert "JJD0001" in form  # the first parcel, listed

    # when she ships the rest with DPD
    second = supplier_client.post(f"/supplier/orders/{dropship_order.pk}/ship/", ship_body(
        dropship_order, "DPD", "0123456789"))

    # then the order has shipped in two parcels
    assert second.status_code == 302
    dropship_order.refresh_from_db()
    assert dropship_order.status == "shipped"
    assert sorted(Shipment.objects.filter(fulfillment=dropship_order)
                  .values_list("carrier", "tracking_number")) == \
        [("dhl", "JJD0001"), ("dpd", "0123456789")]


@pytest.mark.parametrize(("change", "message"), [
    ({"tracking_number": ""}, b"This field is required"),
    ({"carrier": ""}, b"This field is required"),
    ({"carrier": "<script>"}, b"Letters, digits"),
    ({"BOOT_42": 3}, b"less than or equal to 2"),
    ({"BOOT_42": -1}, b"greater than or equal to 0"),
    ({"BOOT_42": 0, "SOCK_1": 0}, b"at least one unit"),
])
def test_bad_ship_input_is_shown_on_the_form_and_changes_nothing(
        supplier_client: Client, dropship_order: FulfillmentOrder, change: dict[str, Any],
        message: bytes) -> None:
    accepted(dropship_order)
    quantities = {k: v for k, v in change.items() if k not in ("carrier", "tracking_number")}
    body = ship_body(dropship_order, **quantities)
    body.update({k: v for k, v in change.items() if k in ("carrier", "tracking_number")})

    answer = supplier_client.post(f"/supplier/orders/{dropship_order.pk}/ship/", body)

    assert answer.status_code == 400
    assert message in answer.content
    dropship_order.refresh_from_db()
    assert dropship_order.status == "accepted"
    assert not Shipment.objects.exists()


def test_a_tracking_number_used_before_is_refused_by_the_service_and_changes_nothing(
        supplier_client: Client, place_dropship: Any, dropship_order: FulfillmentOrder) -> None:
    # given another order of Nordwerk already shipped as JJD0001
    other = accepted(place_dropship([("CAP-1", 1)]))
    fulfillment_ship(fulfillment=other, carrier="dhl", tracking_number="JJD0001", lines=None,
                     actor="test")
    accepted(dropship_order)

    answer = supplier_client.post(f"/supplier/orders/{dropship_order.pk}/ship/",
                                  ship_body(dropship_order, "DHL", "JJD0001"))

    assert answer.status_code == 400
    assert b'id="refusal"' in answer.content
    dropship_order.refresh_from_db()
    assert dropship_order.status == "accepted"
    assert not Shipment.objects.filter(fulfillment=dropship_order).exists()


def test_the_packing_slip_lists_the_open_units_and_the_address_and_prints(
        supplier_client: Client, dropship_order: FulfillmentOrder) -> None:
    accepted(dropship_order)

    page = supplier_client.get(f"/supplier/orders/{dropship_order.pk}/packing-slip/")

    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-order="{dropship_order.order.number}"' in html
    assert "Unter den Linden 1" in html and "10117 Berlin" in html
    assert 'data-sku="BOOT-42"' in html and 'data-sku="SOCK-1"' in html
    assert "@media print" in html and "window.print()" in html


# --- shipped -----------------------------------------------------------------------------------
def test_shipped_orders_show_the_latest_tracking_status_of_each_parcel(
        supplier_client: Client, dropship_order: FulfillmentOrder) -> None:
    # given the order shipped in two parcels; the carrier reported the first delivered
    accepted(dropship_order)
    fulfillment_ship(fulfillment=dropship_order, carrier="dhl", tracking_number="JJD0001",
                     lines={"BOOT-42": 2}, actor="test")
    fulfillment_ship(fulfillment=dropship_order, carrier="dpd", tracking_number="DPD0002",
                     lines=None, actor="test")
    now = timezone.now()
    fulfillment_tracking_event(fulfillment=dropship_order, status="in_transit",
                               at=now - timedelta(hours=5), actor="test",
                               tracking_number="JJD0001")
    fulfillment_tracking_event(fulfillment=dropship_order, status="delivered",
                               at=now - timedelta(hours=1), actor="test",
                               tracking_number="JJD0001")

    page = supplier_client.get("/supplier/orders/shipped/")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-tracking="JJD0001" data-status="delivered"' in html
    assert 'data-tracking="DPD0002" data-status="shipped"' in html
    assert "dhl.de" in html  # a link to the carrier's tracking page


def test_the_pages_speak_german(supplier_user: Any, dropship_order: FulfillmentOrder) -> None:
    german = portal_client(supplier_user, "de")

    page = german.get("/supplier/orders/new/")

    assert page.status_code == 200
    assert b'<html lang="de">' in page.content


# --- scope -------------------------------------------------------------------------------------
@pytest.fixture
def other_suppliers_order(place_dropship: Any) -> FulfillmentOrder:
    """Südhaus, another supplier, with an order at its own site."""
    site = SupplierSiteFactory(supplier=SupplierFactory(code="SUED", name="Südhaus AG"),
                               location__code="SUP-SUED").location
    return place_dropship([("LAMP-7", 1)], site=site)


def test_another_suppliers_order_is_404_on_every_page_and_action(
        supplier_client: Client, other_suppliers_order: FulfillmentOrder) -> None:
    pk = other_suppliers_order.pk
    for path in [f"/supplier/orders/{pk}/reject/", f"/supplier/orders/{pk}/ship/",
                 f"/supplier/orders/{pk}/packing-slip/"]:
        assert supplier_client.get(path).status_code == 404, path
    for path, body in [(f"/supplier/orders/{pk}/accept/", {}),
                       (f"/supplier/orders/{pk}/reject/", {"reason": "no"}),
                       (f"/supplier/orders/{pk}/ship/",
                        ship_body(other_suppliers_order))]:
        assert supplier_client.post(path, body).status_code == 404, path
    other_suppliers_order.refresh_from_db()
    assert other_suppliers_order.status == "pending"
    assert not Shipment.objects.exists()


def test_lists_show_only_the_suppliers_own_orders(
        supplier_client: Client, dropship_order: FulfillmentOrder,
        other_suppliers_order: FulfillmentOrder) -> None:
    # given Südhaus accepted and shipped its order
    accepted(other_suppliers_order)
    fulfillment_ship(fulfillment=other_suppliers_order, carrier="dhl", tracking_number="SUED1",
                     lines=None, actor="test")
    other = other_suppliers_order.order.number

    for path in ["/supplier/orders/new/", "/supplier/orders/to-ship/",
                 "/supplier/orders/shipped/"]:
        html = supplier_client.get(path).content.decode()
        assert other not in html and "SUED1" not in html, path
    # and Südhaus's own people see it
    sued = portal_client(SupplierUserFactory(supplier=other_suppliers_order.location
                                             .supplier_site.supplier))
    assert "SUED1" in sued.get("/supplier/orders/shipped/").content.decode()


def test_posts_need_the_csrf_token(supplier_user: Any, dropship_order: FulfillmentOrder) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(supplier_user.user)

    answer = strict.post(f"/supplier/orders/{dropship_order.pk}/accept/")

    assert answer.status_code == 403
    dropship_order.refresh_from_db()
    assert dropship_order.status == "pending"


def test_long_lists_are_paged(supplier_client: Client, place_dropship: Any,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    from suppliers.portal import orders

    monkeypatch.setattr(orders, "PAGE_SIZE", 1)
    place_dropship([("BOOT-42", 1)])
    place_dropship([("SOCK-1", 1)])

    first = supplier_client.get("/supplier/orders/new/").content.decode()
    second = supplier_client.get("/supplier/orders/new/?page=2").content.decode()

    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert first.count('class="card order"') == second.count('class="card order"') == 1
