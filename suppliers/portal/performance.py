"""The supplier's performance page: how fast it acknowledges and ships its dropship orders and
how many it rejects, over the last 30 days, with a chart of the daily median time to
acknowledge.

Everything is aggregated in the database, confined to the supplier's sites
(`supplier_fulfillments`): the orders received in the period are the dropship fulfilments
created in it; when each was acknowledged and first shipped comes from the order's audit trail
(`OrderEvent` rows the fulfilment lifecycle writes, whose data carries the fulfilment's id),
read per fulfilment by a subquery on the (order, at) index.

- time to acknowledge: creation → the first `fulfillment.accepted`, `fulfillment.rejected` or
  `fulfillment.shipped` (shipping without accepting first acknowledges too);
- time to ship: creation → the first `fulfillment.shipped` (the first parcel);
- reject rate: rejected ÷ acknowledged; orders still waiting count in neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    Aggregate,
    CharField,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fulfillment.cockpit.charts import BarChart, DailyHours, daily_hours_chart
from fulfillment.models import FulfillmentOrder
from fulfillment.states import FulfillmentKind, FulfillmentStatus
from oms.orders.models import OrderEvent
from suppliers.models import Supplier
from suppliers.portal.access import supplier_fulfillments, supplier_required

PERIOD_DAYS = 30
ACKNOWLEDGING = ("fulfillment.accepted", "fulfillment.rejected", "fulfillment.shipped")
SHIPPED = ("fulfillment.shipped",)


class Percentile(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction)``: the continuous percentile of numbers or
    intervals (NULLs ignored)."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        # A number we set, never user input: it is written into the SQL as a literal.
        super().__init__(expression, fraction=float(fraction), **extra)


def _first_event(types: tuple[str, ...]) -> Subquery:
    """When the fulfilment's order first recorded one of `types` for this fulfilment."""
    return Subquery(
        OrderEvent.objects.filter(order_id=OuterRef("order_id"), type__in=types)
        .annotate(fulfillment_id=KT("data__id"))
        .filter(fulfillment_id=Cast(OuterRef("pk"), output_field=CharField()))
        .order_by("at").values("at")[:1],
        output_field=DateTimeField())


def _since_created(field: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(field) - F("created_at"), output_field=DurationField())


def received(supplier: Supplier, start: datetime, end: datetime) -> QuerySet[FulfillmentOrder]:
    """The supplier's dropship fulfilments created in [start, end), with when each was
    acknowledged and first shipped (None while not)."""
    return (supplier_fulfillments(supplier)
            .filter(kind=FulfillmentKind.DROPSHIP, created_at__gte=start, created_at__lt=end)
            .annotate(acknowledged_at=_first_event(ACKNOWLEDGING),
                      shipped_at=_first_event(SHIPPED)))


def _hours(value: timedelta | None) -> float | None:
    return value.total_seconds() / 3600 if value is not None else None


@dataclass(frozen=True)
class DayFigures:
    day: date
    orders: int
    acknowledged: int
    median_hours: float | None  # to acknowledge


@dataclass(frozen=True)
class Performance:
    start: datetime
    end: datetime
    orders: int
    waiting: int  # not acknowledged yet
    acknowledged: int
    rejected: int
    shipped: int
    acknowledge_median_hours: float | None
    acknowledge_p90_hours: float | None
    ship_median_hours: float | None
    ship_p90_hours: float | None
    days: list[DayFigures]

    @property
    def reject_rate(self) -> float | None:
        """Rejected share of the acknowledged orders, 0..1 (None with none acknowledged)."""
        return self.rejected / self.acknowledged if self.acknowledged else None

    @property
    def reject_percent(self) -> float | None:
        rate = self.reject_rate
        return rate * 100 if rate is not None else None


def supplier_performance(supplier: Supplier, now: datetime | None = None,
                         days: int = PERIOD_DAYS) -> Performance:
    """The figures of the `days` local days up to `now` (today included): two queries."""
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    first = timezone.localdate(now, zone) - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()), zone)
    rows = received(supplier, start, now + timedelta(microseconds=1))
    to_acknowledge = _since_created("acknowledged_at")
    to_ship = _since_created("shipped_at")
    totals = rows.aggregate(
        orders=Count("pk"),
        acknowledged=Count("acknowledged_at"),
        rejected=Count("pk", filter=Q(status=FulfillmentStatus.REJECTED,
                                      acknowledged_at__isnull=False)),
        shipped=Count("shipped_at"),
        ack_median=Percentile(to_acknowledge, 0.5, output_field=DurationField()),
        ack_p90=Percentile(to_acknowledge, 0.9, output_field=DurationField()),
        ship_median=Percentile(to_ship, 0.5, output_field=DurationField()),
        ship_p90=Percentile(to_ship, 0.9, output_field=DurationField()),
    )
    per_day = {
        row["day"]: row
        for row in (rows.annotate(day=TruncDate("created_at", tzinfo=zone)).values("day")
                    .annotate(orders=Count("pk"), acknowledged=Count("acknowledged_at"),
                              median=Percentile(to_acknowledge, 0.5,
                                                output_field=DurationField()))
                    .order_by("day"))
    }
    day_figures = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = per_day.get(day) or {}
        day_figures.append(DayFigures(day=day, orders=row.get("orders", 0),
                                      acknowledged=row.get("acknowledged", 0),
                                      median_hours=_hours(row.get("median"))))
    return Performance(
        start=start, end=now, orders=totals["orders"],
        waiting=totals["orders"] - totals["acknowledged"],
        acknowledged=totals["acknowledged"], rejected=totals["rejected"],
        shipped=totals["shipped"],
        acknowledge_median_hours=_hours(totals["ack_median"]),
        acknowledge_p90_hours=_hours(totals["ack_p90"]),
        ship_median_hours=_hours(totals["ship_median"]),
        ship_p90_hours=_hours(totals["ship_p90"]),
        days=day_figures)


def acknowledge_chart(days: list[DayFigures], **size: int) -> BarChart:
    """Median hours to acknowledge per day, drawn like the pickup dashboard's chart."""
    return daily_hours_chart([DailyHours(day.day, day.median_hours, ngettext(
        "%(day)s: median %(hours)s h to acknowledge (%(count)d order)",
        "%(day)s: median %(hours)s h to acknowledge (%(count)d orders)",
        day.acknowledged) % {"day": formats.date_format(day.day, "SHORT_DATE_FORMAT"),
                             "hours": formats.number_format(day.median_hours or 0, 1),
                             "count": day.acknowledged}) for day in days],
        description=_("Median hours from a new order to its acknowledgement, per day the "
                      "order came in, over the last %(days)d days.") % {"days": len(days)},
        **size)


@supplier_required
def performance(request: HttpRequest) -> HttpResponse:
    figures = supplier_performance(request.supplier)  # type: ignore[attr-defined]
    return render(request, "suppliers/portal/performance.html", {
        "portal_tab": "performance", "figures": figures,
        "chart": acknowledge_chart(figures.days), "period_days": PERIOD_DAYS,
    })
