"""The portal's performance page (suppliers/portal/performance.py): time to acknowledge and to
ship (median, p90) and the reject rate over 30 days, from the fulfilments' audit trail, confined
to the supplier. The history is written directly (fulfilments and the `OrderEvent` rows the
lifecycle would have recorded, at known moments), so the figures are known exactly."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from inventory.models import Location
from oms.orders.models import OrderEvent
from suppliers.models import Supplier
from suppliers.portal.performance import supplier_performance
from tests.factories import a_fulfillment, an_order
from tests.suppliers.conftest import portal_client
from tests.suppliers.factories import SupplierFactory, SupplierSiteFactory, SupplierUserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def a_dropship(site: Location, *, received: datetime, status: str = "pending",
               **events: float) -> FulfillmentOrder:
    """A dropship fulfilment at `site` created at `received`, with audit-trail rows
    `accepted=2` (hours after `received`), `rejected=...`, `shipped=...`."""
    order = an_order([("BOOT-42", "Wanderstiefel", 1, "89.00")])
    fulfillment = a_fulfillment(order, {"BOOT-42": 1}, location=site, kind="dropship")
    FulfillmentOrder.objects.filter(pk=fulfillment.pk).update(created_at=received,
                                                              status=status)
    for name, hours in events.items():
        OrderEvent.objects.create(
            order=order, type=f"fulfillment.{name}", at=received + timedelta(hours=hours),
            actor="supplier:test",
            data={"id": fulfillment.pk, "order": order.number, "location": site.code,
                  "kind": "dropship", "status": name})
    return fulfillment


@pytest.fixture
def history(supplier_site: Location) -> None:
    """Nordwerk's last 30 days: acknowledged after 2, 4 and 6 hours (the last one rejected),
    shipped 10 and 20 hours after the order; one order still waiting. Older orders and another
    supplier's don't count."""
    ten_days_ago = NOW - timedelta(days=10)
    a_dropship(supplier_site, received=ten_days_ago, status="shipped",
               accepted=2, shipped=10)
    a_dropship(supplier_site, received=ten_days_ago, status="shipped",
               accepted=4, shipped=20)
    a_dropship(supplier_site, received=ten_days_ago - timedelta(days=1), status="rejected",
               rejected=6)
    a_dropship(supplier_site, received=NOW - timedelta(hours=1))
    a_dropship(supplier_site, received=NOW - timedelta(days=40), status="shipped",
               accepted=100, shipped=200)
    other = SupplierSiteFactory(supplier=SupplierFactory(code="SLOW", name="Langsam KG"),
                                location__code="SUP-SLOW").location
    a_dropship(other, received=ten_days_ago, status="rejected", rejected=300)


def test_the_figures_of_the_last_30_days(supplier: Supplier, history: None) -> None:
    # when Nordwerk's figures are computed
    figures = supplier_performance(supplier, now=NOW)
    # then four orders came in, three were acknowledged, one of them rejected
    assert (figures.orders, figures.acknowledged, figures.waiting, figures.rejected,
            figures.shipped) == (4, 3, 1, 1, 2)
    assert figures.reject_rate == pytest.approx(1 / 3)
    # and the times are the continuous percentiles of 2, 4, 6 and of 10, 20 hours
    assert figures.acknowledge_median_hours == pytest.approx(4)
    assert figures.acknowledge_p90_hours == pytest.approx(5.6)
    assert figures.ship_median_hours == pytest.approx(15)
    assert figures.ship_p90_hours == pytest.approx(19)
    # and the chart's days: 30, the acknowledged orders on the days they came in
    assert len(figures.days) == 30 and figures.days[-1].day == timezone.localdate(NOW)
    assert sum(day.acknowledged for day in figures.days) == 3


def test_shipping_without_accepting_first_counts_as_acknowledged(
        supplier: Supplier, supplier_site: Location) -> None:
    # given an order the supplier shipped after 8 hours without accepting it first
    a_dropship(supplier_site, received=NOW - timedelta(days=2), status="shipped", shipped=8)
    # then it was acknowledged (and shipped) after 8 hours
    figures = supplier_performance(supplier, now=NOW)
    assert figures.acknowledge_median_hours == pytest.approx(8)
    assert figures.ship_median_hours == pytest.approx(8)


def test_the_page_shows_the_figures_and_the_chart(supplier_client: Client,
                                                  history: None) -> None:
    # when Nora opens the performance page
    response = supplier_client.get("/supplier/performance/")
    # then she sees Nordwerk's figures and the daily chart
    assert response.status_code == 200
    page = response.content.decode()
    assert "4.0 h" in page and "90 % within 5.6 h" in page
    assert "15.0 h" in page and "90 % within 19.0 h" in page
    assert "33.3 %" in page and "1 of 3 acknowledged orders rejected" in page
    assert "<svg" in page and "median 3.0 h to acknowledge (2 orders)" in page
    assert page.count('class="bar"') == 2  # two days with acknowledged orders


def test_the_page_in_german(supplier: Supplier, history: None) -> None:
    response = portal_client(SupplierUserFactory(supplier=supplier), "de").get(
        "/supplier/performance/")
    assert response.status_code == 200
    assert "4,0 h" in response.content.decode()


def test_another_supplier_sees_only_its_own_figures(history: None) -> None:
    # given the staff of the other supplier, who rejected its one order after 300 hours
    slow = Supplier.objects.get(code="SLOW")
    # when they open the page
    page = portal_client(SupplierUserFactory(supplier=slow)).get(
        "/supplier/performance/").content.decode()
    # then they see their own order only
    assert "1 order received" in page
    assert "100.0 %" in page and "1 of 1 acknowledged order rejected" in page
    assert "No order shipped yet." in page


def test_the_page_needs_a_supplier_login(client: Client, db: Any) -> None:
    response = client.get("/supplier/performance/")
    assert response.status_code == 302 and "/supplier/" in response["Location"]
