"""Settlement: a parcel a supplier site ships for a dropship order is owed to the supplier at the
purchase prices in force that day, recorded as a settlement line and booked as a payable
(Dr cost of goods + input VAT / Cr payables), once per shipment event."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from ledger.models import JournalEntry
from oms.core.models import OutboxEvent
from suppliers.models import SettlementLine
from suppliers.prices import purchase_price_at
from suppliers.settlement import Shipped, price_missing, settlement_record
from suppliers.settlement_handlers import settle_dropship_shipment
from tests.ledger.conftest import balances, delta, lines_of
from tests.suppliers.factories import SupplierFactory, SupplierSiteFactory
from tests.suppliers.factories_settlement import PurchasePriceFactory, ship

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def prices(supplier: Any) -> None:
    """Boots at 20.00 net (19 %), socks at 2.50 net (7 %)."""
    PurchasePriceFactory(supplier=supplier, product_id="BOOT-42", net_price=D("20.00"))
    PurchasePriceFactory(supplier=supplier, product_id="SOCK-1", net_price=D("2.50"),
                         tax_rate=D("7.00"))


def shipped_events() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(topic="fulfillment.shipped").order_by("created_at"))


def test_a_dropship_shipment_books_the_payable_net_plus_input_vat(
        dropship_order: Any, prices: None, supplier: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    # Given Nordwerk's purchase prices and an order of 2 boots and 3 pairs of socks at its site
    before = balances()

    # When Nordwerk ships everything
    ship(django_capture_on_commit_callbacks, dropship_order)

    # Then one settlement line: 2 x 20.00 + 3 x 2.50 net, VAT per rate on the rate's net sum
    [line] = SettlementLine.objects.all()
    assert (line.supplier, line.fulfillment, line.order_number) == (
        supplier, dropship_order, dropship_order.order.number)
    assert (line.net_amount, line.tax_amount, line.currency) == (D("47.50"), D("8.13"), "EUR")
    assert line.shipped_on == timezone.localdate()
    assert [(ln["sku"], ln["quantity"], ln["net_price"], ln["net"]) for ln in line.lines] == [
        ("BOOT-42", 2, "20.00", "40.00"), ("SOCK-1", 3, "2.50", "7.50")]
    # and its entry: Dr cost of goods + input VAT 19 % and 7 % / Cr payables (gross)
    assert line.entry.source == f"{shipped_events()[0].id}:supplier_payable"
    assert line.entry.reference == dropship_order.order.number
    assert lines_of(line.entry) == {
        ("cost_of_goods", D("47.50"), D("0")), ("input_vat:19", D("7.60"), D("0")),
        ("input_vat:7", D("0.53"), D("0")), ("payables", D("0"), D("55.63"))}
    # and what moved in the ledger for the supplier: payables credit = net + VAT
    moved = delta(balances(), before)
    assert (moved["cost_of_goods"], moved["input_vat:19"], moved["input_vat:7"],
            moved["payables"]) == (D("47.50"), D("7.60"), D("0.53"), D("-55.63"))


def test_the_shipment_event_handled_twice_books_once(
        dropship_order: Any, prices: None, django_capture_on_commit_callbacks: Any) -> None:
    # Given a shipment already settled by the relay
    ship(django_capture_on_commit_callbacks, dropship_order)
    [event] = shipped_events()
    entries = JournalEntry.objects.count()

    # When the handler runs again for the same event (a retried task)
    settle_dropship_shipment(event)
    settle_dropship_shipment(event)

    # Then nothing more is recorded or booked
    assert SettlementLine.objects.count() == 1
    assert JournalEntry.objects.count() == entries
    assert JournalEntry.objects.filter(source__endswith=":supplier_payable").count() == 1


def test_partial_shipments_are_settled_parcel_by_parcel(
        dropship_order: Any, prices: None, django_capture_on_commit_callbacks: Any) -> None:
    # Given an order of 2 boots and 3 pairs of socks
    # When Nordwerk ships one boot, then the rest
    ship(django_capture_on_commit_callbacks, dropship_order, {"BOOT-42": 1})
    ship(django_capture_on_commit_callbacks, dropship_order)

    # Then one settlement line and one payable per parcel, each with its own units
    first, second = SettlementLine.objects.order_by("pk")
    assert [(ln["sku"], ln["quantity"]) for ln in first.lines] == [("BOOT-42", 1)]
    assert [(ln["sku"], ln["quantity"]) for ln in second.lines] == [("BOOT-42", 1),
                                                                   ("SOCK-1", 3)]
    assert (first.net_amount, first.tax_amount) == (D("20.00"), D("3.80"))
    assert (second.net_amount, second.tax_amount) == (D("27.50"), D("4.33"))
    assert first.entry != second.entry
    # and together they owe what one parcel of everything would (up to the cent of rounding)
    assert first.net_amount + second.net_amount == D("47.50")


def test_the_price_in_force_on_the_shipping_day_is_used(
        dropship_order: Any, supplier: Any) -> None:
    # Given the boot's price went from 18.00 to 20.00 on 1 March 2026, and to 22.00 in April
    for valid_from, price in [(date(2026, 1, 1), "18.00"), (date(2026, 3, 1), "20.00"),
                              (date(2026, 4, 1), "22.00")]:
        PurchasePriceFactory(supplier=supplier, product_id="BOOT-42", valid_from=valid_from,
                             net_price=D(price))
    # (another supplier's price for the same SKU is not Nordwerk's)
    PurchasePriceFactory(supplier=SupplierFactory(code="OTHER"), product_id="BOOT-42",
                         valid_from=date(2026, 3, 15), net_price=D("1.00"))

    # Then the price in force is the latest valid_from on or before the day
    def at(day: date) -> Decimal | None:
        price = purchase_price_at(supplier=supplier, sku="BOOT-42", on=day)
        return None if price is None else price.net_price

    assert [at(date(2025, 12, 31)), at(date(2026, 2, 28)), at(date(2026, 3, 1)),
            at(date(2026, 3, 31)), at(date(2026, 4, 2))] == [
        None, D("18.00"), D("20.00"), D("20.00"), D("22.00")]

    # When parcels of the fulfilment ship in February and in March
    def settle(event_id: str, day: date) -> SettlementLine:
        line = settlement_record(shipped=Shipped(
            event_id=event_id, fulfillment_id=dropship_order.pk,
            order_number=dropship_order.order.number, shipped_on=day, units={"BOOT-42": 1}))
        assert line is not None
        return line

    february, march = settle("ev-feb", date(2026, 2, 10)), settle("ev-mar", date(2026, 3, 10))

    # Then each is priced as on its day, and booked on that day
    assert (february.net_amount, march.net_amount) == (D("18.00"), D("20.00"))
    assert (february.entry.booked_on, march.entry.booked_on) == (date(2026, 2, 10),
                                                                 date(2026, 3, 10))


def test_a_sku_without_a_purchase_price_is_booked_at_zero_and_flagged(
        dropship_order: Any, supplier: Any, django_capture_on_commit_callbacks: Any) -> None:
    # Given only the boots have a price (socks have none)
    PurchasePriceFactory(supplier=supplier, product_id="BOOT-42", net_price=D("20.00"))

    # When everything ships
    ship(django_capture_on_commit_callbacks, dropship_order)

    # Then the boots are owed and booked; the socks are kept with their units, flagged
    [line] = SettlementLine.objects.all()
    assert (line.net_amount, line.tax_amount) == (D("40.00"), D("7.60"))
    assert price_missing(line) == ["SOCK-1"]
    assert [ln for ln in line.lines if ln["sku"] == "SOCK-1"] == [
        {"sku": "SOCK-1", "quantity": 3, "net_price": None, "tax_rate": None, "net": "0.00",
         "price_missing": True}]
    assert lines_of(line.entry) == {("cost_of_goods", D("40.00"), D("0")),
                                    ("input_vat:19", D("7.60"), D("0")),
                                    ("payables", D("0"), D("47.60"))}


def test_a_parcel_with_no_price_at_all_is_recorded_without_an_entry(
        dropship_order: Any, django_capture_on_commit_callbacks: Any) -> None:
    # Given Nordwerk has no purchase prices
    # When everything ships
    ship(django_capture_on_commit_callbacks, dropship_order)

    # Then the parcel is recorded for finance (price missing) and nothing is booked
    [line] = SettlementLine.objects.all()
    assert (line.net_amount, line.tax_amount, line.entry) == (D("0.00"), D("0.00"), None)
    assert price_missing(line) == ["BOOT-42", "SOCK-1"]
    assert not JournalEntry.objects.filter(source__endswith=":supplier_payable").exists()


def test_a_site_of_no_supplier_and_a_parcel_of_another_kind_owe_nothing(
        place_dropship: Any, supplier: Any, django_capture_on_commit_callbacks: Any) -> None:
    # Given a dropship site nobody linked to a supplier, with a priced SKU
    orphan = SupplierSiteFactory(location__code="SUP-ORPHAN").location
    orphan.supplier_site.delete()
    fo = place_dropship([("BOOT-42", 1)], site=orphan)
    PurchasePriceFactory(supplier=supplier, product_id="BOOT-42")

    # When it ships
    ship(django_capture_on_commit_callbacks, fo)

    # Then no supplier is owed anything, and nothing failed
    assert not SettlementLine.objects.exists()
    assert settlement_record(shipped=Shipped("x", fo.pk, fo.order.number, date.today(),
                                             {"BOOT-42": 1})) is None
