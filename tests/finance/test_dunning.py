"""Dunning (the beat sweep `finance.services.dunning_sweep`): overdue items climb the
configured levels (a reminder 7 days after the due date, a first notice with a fee of 2.50 at
14, a second with 5.00 at 21, the collection list at 28), each level once, fees booked; a
disputed item or one whose order has a return on its way pauses."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from finance.models import DunningLevel, DunningNotice, OpenItem
from finance.services import (
    dunning_levels,
    dunning_sweep,
    open_item_dispute,
    open_item_undispute,
)
from finance.tasks import sweep_dunning
from ledger.models import JournalEntry
from oms.core.models import OutboxEvent
from returns.models import Return
from tests.factories import StoreFactory
from tests.finance.conftest import BANK, balances
from tests.finance.factories import BankTransactionBodyFactory, an_item_due
from tests.returns.factories import a_return

pytestmark = pytest.mark.django_db
D = Decimal
BERLIN = ZoneInfo("Europe/Berlin")


def at(item: OpenItem, days_after_due: int, hour: int = 2) -> datetime:
    """A sweep's moment: `hour` o'clock on the day `days_after_due` days after the due date."""
    return datetime.combine(item.due_date + timedelta(days=days_after_due), time(hour),
                            tzinfo=BERLIN)


def notices() -> list[tuple[int, int, str, Decimal, Decimal]]:
    return list(DunningNotice.objects.order_by("pk").values_list(
        "open_item", "level", "name", "fee", "open_amount"))


def state(item: OpenItem) -> tuple[Any, ...]:
    item.refresh_from_db()
    return item.status, item.dunning_level, item.fees, item.open_amount, item.for_collection


def test_the_levels_are_seeded_on_first_use() -> None:
    assert [(lv.level, lv.days_after_due, lv.fee, lv.name) for lv in dunning_levels()] == [
        (1, 7, D("0.00"), "Zahlungserinnerung"), (2, 14, D("2.50"), "1. Mahnung"),
        (3, 21, D("5.00"), "2. Mahnung"), (4, 28, D("0.00"), "Inkasso")]


def test_an_item_climbs_the_levels_to_the_collection_list() -> None:
    # Given an item of 119.00 due on some day, swept every day from then on
    item = an_item_due(-1)
    steps = {}
    for day in range(0, 40):
        report = dunning_sweep(now=at(item, day))
        steps[day] = (report.overdue, report.notices)
    # Then it fell due the day after, and each level came on its day, once
    assert {d: s for d, s in steps.items() if s != (0, 0)} == {
        1: (1, 0), 7: (0, 1), 14: (0, 1), 21: (0, 1), 28: (0, 1)}
    assert notices() == [
        (item.pk, 1, "Zahlungserinnerung", D("0.00"), D("119.00")),
        (item.pk, 2, "1. Mahnung", D("2.50"), D("121.50")),
        (item.pk, 3, "2. Mahnung", D("5.00"), D("126.50")),
        (item.pk, 4, "Inkasso", D("0.00"), D("126.50"))]
    # and it ends on the collection list, still overdue, with nothing more to come
    assert state(item) == ("overdue", 4, D("7.50"), D("126.50"), True)
    assert item.next_dunning_at is None
    # and the customer was told each time
    events = OutboxEvent.objects.filter(topic="dunning.notice").order_by("created_at")
    assert [(e.payload["level"], e.payload["open"], e.payload["final"]) for e in events] == [
        (1, "119.00", False), (2, "121.50", False), (3, "126.50", False), (4, "126.50", True)]


def test_fees_are_booked_and_balance() -> None:
    # Given two items whose first notice is due and one whose reminder is due
    first, second = an_item_due(14), an_item_due(15)
    OpenItem.objects.filter(pk__in=[first.pk, second.pk]).update(status="overdue",
                                                                 dunning_level=1)
    reminded = an_item_due(8)
    # When the sweep runs
    sweep_day = timezone.localdate()
    dunning_sweep()
    # Then the run's fees are booked together: Dr receivables / Cr dunning fees, no VAT
    assert balances("dunning:") == {"receivables": D("5.00"), "dunning_fees": D("-5.00")}
    [entry] = JournalEntry.objects.filter(source__startswith="dunning:")
    assert (entry.booked_on, entry.reference, entry.text) == (
        sweep_day, f"MAHNLAUF-{sweep_day:%Y%m%d}",
        f"Mahngebühren Mahnlauf {sweep_day:%d.%m.%Y} (2 Posten)")
    # and each notice with a fee points at the booking, its item carrying the fee
    assert sorted((n.open_item_id, n.fee, n.entry_id) for n in DunningNotice.objects.all()) == [
        (first.pk, D("2.50"), entry.pk), (second.pk, D("2.50"), entry.pk),
        (reminded.pk, D("0.00"), None)]
    assert state(first)[2:4] == (D("2.50"), D("121.50"))
    # and a week later the next run's fees are a booking of their own, the ledger holding
    # exactly what the items were charged
    dunning_sweep(now=timezone.now() + timedelta(days=8))
    charged = sum(OpenItem.objects.values_list("fees", flat=True), D("0.00"))
    assert charged == D("17.50")  # 2 x 5.00 + 2.50 + the first 5.00
    assert balances("dunning:") == {"receivables": charged, "dunning_fees": -charged}
    assert JournalEntry.objects.filter(source__startswith="dunning:").count() == 2


def test_a_sweep_run_twice_sends_nothing_twice() -> None:
    # Given an item whose reminder is due
    item = an_item_due(8)
    # When the sweep runs twice (and the beat task a third time)
    first = dunning_sweep()
    second = dunning_sweep()
    assert sweep_dunning() == 0
    # Then one reminder went out
    assert (first.overdue, first.notices, second.looked_at, second.notices) == (1, 1, 0, 0)
    assert len(notices()) == 1
    assert OutboxEvent.objects.filter(topic="dunning.notice").count() == 1
    assert state(item)[:2] == ("overdue", 1)


def test_a_late_sweep_sends_one_level_and_gives_the_customer_time() -> None:
    # Given an item 30 days overdue that no sweep has seen yet
    item = an_item_due(30)
    now = timezone.now()
    # When the sweep runs
    dunning_sweep(now=now)
    # Then the customer gets the reminder only, and the next level a week later
    assert [n[1] for n in notices()] == [1]
    item.refresh_from_db()
    assert item.next_dunning_at == now + timedelta(days=7)


def test_a_disputed_item_is_not_dunned_until_undisputed() -> None:
    # Given an overdue item the customer disputes
    item = an_item_due(10)
    open_item_dispute(item=item, reason="Ware nie erhalten", actor="anna")
    # When the sweep runs
    report = dunning_sweep()
    # Then nothing happens
    assert (report.looked_at, notices()) == (0, [])
    assert state(item)[0] == "disputed"
    # and once the dispute is resolved it is overdue again and the reminder follows
    open_item_undispute(item=item, actor="anna")
    assert state(item)[0] == "overdue"
    dunning_sweep()
    assert [n[1] for n in notices()] == [1]


def test_a_pending_return_pauses_dunning() -> None:
    # Given an overdue item whose order has a return on its way
    item = an_item_due(10)
    ret = a_return(order=item.order, location=StoreFactory())
    now = timezone.now()
    # When the sweep runs
    report = dunning_sweep(now=now)
    # Then the item is overdue but not dunned, and looked at again tomorrow
    assert (report.paused, notices()) == (1, [])
    item.refresh_from_db()
    assert item.next_dunning_at == now + timedelta(days=1)
    # and once the return was received the reminder follows
    Return.objects.filter(pk=ret.pk).update(status="received")
    dunning_sweep(now=now + timedelta(days=1))
    assert [n[1] for n in notices()] == [1]


def test_an_item_paid_before_its_day_is_not_dunned(finance: Any) -> None:
    item = an_item_due(3)
    dunning_sweep()  # overdue
    finance.post(BANK, BankTransactionBodyFactory(purpose=item.order.number, amount="119.00"))
    report = dunning_sweep(now=at(item, 30))
    assert (report.looked_at, notices()) == (0, [])
    assert state(item)[0] == "paid"


def test_a_partial_payment_leaves_the_rest_overdue(finance: Any) -> None:
    item = an_item_due(8)
    dunning_sweep()
    finance.post(BANK, BankTransactionBodyFactory(purpose=item.order.number, amount="100.00"))
    assert state(item)[:4] == ("overdue", 1, D("0.00"), D("19.00"))


def test_levels_are_configurable() -> None:
    # Given two levels: a notice with a fee of 1.00 at 3 days, collection at 10
    DunningLevel.objects.bulk_create([
        DunningLevel(level=1, days_after_due=3, fee=D("1.00"), name="Mahnung"),
        DunningLevel(level=2, days_after_due=10, fee=D("0.00"), name="Inkasso")])
    item = an_item_due(-1)
    for day in range(0, 12):
        dunning_sweep(now=at(item, day))
    assert [(n[1], n[3]) for n in notices()] == [(1, D("1.00")), (2, D("0.00"))]
    assert state(item) == ("overdue", 2, D("1.00"), D("120.00"), True)
