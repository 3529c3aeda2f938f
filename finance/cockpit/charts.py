"""The ageing chart of the open items: one bar per bucket (not due, 1-30, 31-60, 61-90, over 90
days overdue), its height the amount still owed. Inline SVG drawn on the server, with the
geometry types of the store dashboard's chart (fulfillment.cockpit.charts); the axis is money
instead of hours, so the scale and the labels are computed here and drawn by
finance/cockpit/_ageing_chart.html."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from finance.cockpit.selectors import AgeingBucket
from fulfillment.cockpit.charts import Bar, BarChart, Tick

# Gridline steps: 1, 2, 2.5 and 5 times a power of ten, four steps to the top of the axis.
STEPS = 4
NICE = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5))


@dataclass(frozen=True)
class AgeingBar(Bar):
    label: str  # the amount, written above the bar ...
    label_y: float  # ... at this height
    centre: float
    overdue: bool


def _money(amount: Decimal) -> str:
    return formats.number_format(amount, 2, use_l10n=True, force_grouping=True)


def _axis_top(largest: Decimal) -> Decimal:
    """The smallest round number that four steps of 1, 2, 2.5 or 5 times 10^n reach past
    `largest`."""
    if largest <= 0:
        return Decimal(STEPS)
    power = Decimal(10) ** (largest / STEPS).adjusted()
    for factor in (*NICE, Decimal(10)):
        if factor * power * STEPS >= largest:
            return factor * power * STEPS
    return Decimal(10) * power * STEPS  # not reached: 10 times 10^n covers all


def ageing_chart(buckets: list[AgeingBucket], currency: str, *, width: int = 720,
                 height: int = 240, left: int = 76, right: int = 12, top: int = 22,
                 below: int = 26) -> BarChart:
    bottom = height - below
    plot_height = bottom - top  # `top` leaves room for the amount above the highest bar
    slot = (width - left - right) / max(len(buckets), 1)
    axis_top = _axis_top(max((b.amount for b in buckets), default=Decimal(0)))
    bars = []
    for index, bucket in enumerate(buckets):
        bar_height = float(plot_height * bucket.amount / axis_top)
        bars.append(AgeingBar(
            x=round(left + index * slot + slot * 0.2, 1), y=round(bottom - bar_height, 1),
            width=round(slot * 0.6, 1), height=round(bar_height, 1),
            title=ngettext("%(bucket)s: %(amount)s %(currency)s in %(count)d item",
                           "%(bucket)s: %(amount)s %(currency)s in %(count)d items",
                           bucket.count) % {
                "bucket": bucket.label, "amount": _money(bucket.amount), "currency": currency,
                "count": bucket.count},
            label=_money(bucket.amount), label_y=round(bottom - bar_height - 6, 1),
            centre=round(left + index * slot + slot / 2, 1),
            overdue=bucket.overdue))
    step = axis_top / STEPS
    places = 0 if step == step.to_integral_value() else 2  # small amounts: 0,50 … 2,00
    y_ticks = [Tick(position=round(bottom - plot_height * i / STEPS, 1),
                    label=formats.number_format(step * i, places, use_l10n=True,
                                                force_grouping=True))
               for i in range(STEPS + 1)]
    x_ticks = [Tick(position=bar.centre, label=bucket.label)
               for bar, bucket in zip(bars, buckets, strict=True)]
    return BarChart(width=width, height=height, left=left, right_edge=width - right,
                    bottom=bottom, bars=bars, y_ticks=y_ticks, x_ticks=x_ticks,
                    description=_("Amounts still owed in %(currency)s by days past the due "
                                  "date.") % {"currency": currency})
