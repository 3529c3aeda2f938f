"""Figures for a store's dashboard, aggregated in the database: how many pickups wait to be
picked, wait at the counter and are overdue, how long they have waited, and how long pickups
took from order to ready over the last 30 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    Aggregate,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    Value,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.states import TO_PICK, FulfillmentKind, FulfillmentStatus
from inventory.models import Location

READY = FulfillmentStatus.READY_FOR_PICKUP
CHART_DAYS = 30


class Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5)``: the median of numbers or intervals."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False


@dataclass(frozen=True)
class Waiting:
    """Pickups in one state and how long they have been in it: `oldest_since` and
    `median_since` are the moments the oldest and the median one started waiting."""

    count: int
    oldest_since: datetime | None
    median_since: datetime | None


@dataclass(frozen=True)
class StoreFigures:
    to_pick: Waiting  # since the order
    ready: Waiting  # since ready at the counter
    overdue: Waiting  # ready and past the deadline, since the deadline


def _buckets(now: datetime) -> dict[str, tuple[Q, str]]:
    return {
        "to_pick": (Q(status__in=TO_PICK), "created_at"),
        "ready": (Q(status=READY), "ready_at"),
        "overdue": (Q(status=READY, pickup_deadline__lt=now), "pickup_deadline"),
    }


def store_figures(store: Location, now: datetime | None = None) -> StoreFigures:
    now = now or timezone.now()
    pickups = FulfillmentOrder.objects.filter(location=store, kind=FulfillmentKind.PICKUP,
                                              status__in=[*TO_PICK, READY])
    buckets = _buckets(now)
    aggregates: dict[str, Any] = {}
    for name, (condition, since) in buckets.items():
        aggregates |= {
            f"{name}_count": Count("pk", filter=condition),
            f"{name}_oldest": Min(since, filter=condition),
            f"{name}_median": Median(ExpressionWrapper(
                Value(now, output_field=DateTimeField()) - F(since),
                output_field=DurationField()), filter=condition,
                output_field=DurationField()),
        }
    row = pickups.aggregate(**aggregates)
    return StoreFigures(**{name: Waiting(
        count=row[f"{name}_count"], oldest_since=row[f"{name}_oldest"],
        median_since=now - row[f"{name}_median"] if row[f"{name}_median"] else None)
        for name in buckets})


@dataclass(frozen=True)
class DayReadyTime:
    day: date
    pickups: int
    median_hours: float | None


def ready_times_per_day(store: Location, now: datetime | None = None,
                        days: int = CHART_DAYS) -> list[DayReadyTime]:
    """Median time from order to ready, per local day the pickups became ready, for the last
    `days` days (today included); days without a ready pickup have no median."""
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    today = timezone.localdate(now, zone)
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()), zone)
    pickups = FulfillmentOrder.objects.filter(location=store, kind=FulfillmentKind.PICKUP,
                                              ready_at__gte=start, ready_at__lte=now)
    took = ExpressionWrapper(F("ready_at") - F("order__created_at"), output_field=DurationField())
    per_day: dict[date, tuple[int, timedelta]] = {}
    for row in (pickups.annotate(day=TruncDate("ready_at", tzinfo=zone)).values("day")
                .annotate(pickups=Count("pk"), median=Median(took, output_field=DurationField()))
                .order_by("day")):
        per_day[row["day"]] = (row["pickups"], row["median"])
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        count, median = per_day.get(day, (0, None))
        result.append(DayReadyTime(day=day, pickups=count, median_hours=(
            median.total_seconds() / 3600 if median is not None else None)))
    return result
