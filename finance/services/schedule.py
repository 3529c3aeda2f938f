"""When an open item is due and when the dunning sweep must look at it next; the dunning levels,
seeded on first use; payment terms per channel.

Times are days on German calendars: an item due on 3 March falls due at the start of 4 March
in `TIME_ZONE`, and a level "7 days after the due date" at the start of 10 March."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from finance.models import DunningLevel, OpenItem, PaymentTerms
from finance.states import NOT_DUE, OpenItemStatus

# reminder 7 days after the due date, a first notice with a fee at 14, a second at 21, then
# the collection list at 28 (the example). Change them in the cockpit.
DEFAULT_LEVELS = [
    (1, 7, Decimal("0.00"), "Zahlungserinnerung"),
    (2, 14, Decimal("2.50"), "1. Mahnung"),
    (3, 21, Decimal("5.00"), "2. Mahnung"),
    (4, 28, Decimal("0.00"), "Inkasso"),
]
ONE_DAY = timedelta(days=1)


def payment_terms_days(*, channel: str) -> int:
    days = PaymentTerms.objects.filter(channel=channel).values_list("days", flat=True).first()
    return int(settings.PAYMENT_TERMS_DAYS if days is None else days)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def dunning_levels() -> list[DunningLevel]:
    """The configured levels, lowest first; the defaults are written on first use (a concurrent
    first use writes them once: `level` is unique)."""
    levels = list(DunningLevel.objects.order_by("level"))
    if not levels:
        DunningLevel.objects.bulk_create(
            [DunningLevel(level=level, days_after_due=days, fee=fee, name=name)
             for level, days, fee, name in DEFAULT_LEVELS], ignore_conflicts=True)
        levels = list(DunningLevel.objects.order_by("level"))
    return levels


def level_after(levels: list[DunningLevel], current: int) -> DunningLevel | None:
    return next((lv for lv in levels if lv.level > current), None)


def next_step_at(item: OpenItem, levels: list[DunningLevel]) -> datetime | None:
    """When the sweep must look at `item` next by the calendar alone: the day after its due
    date while it is not yet overdue, the next level's day once it is; None when nothing more
    can happen (settled, written off, disputed, on the collection list)."""
    if item.status in NOT_DUE:
        return day_start(item.due_date + ONE_DAY)
    if item.status != OpenItemStatus.OVERDUE or item.for_collection:
        return None
    upcoming = level_after(levels, item.dunning_level)
    if upcoming is None:
        return None
    return day_start(item.due_date + timedelta(days=upcoming.days_after_due))
