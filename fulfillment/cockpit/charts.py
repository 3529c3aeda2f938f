"""A bar chart drawn on the server as inline SVG: the cockpit loads no JavaScript library and
nothing from a CDN. This module computes the geometry; cockpit/_bar_chart.html draws it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fulfillment.cockpit.dashboard import DayReadyTime

# Round axis maxima (hours) with a number of gridline steps that gives round labels.
NICE_AXES = [(1, 4), (2, 4), (4, 4), (6, 3), (8, 4), (12, 4), (24, 4), (48, 4), (72, 3),
             (96, 4), (120, 5), (168, 7)]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int  # the plot area runs from here (room for the y labels) ...
    right_edge: int  # ... to here
    bottom: int  # y of the x axis
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    description: str

    @property
    def empty(self) -> bool:
        return not self.bars

    @property
    def y_label_x(self) -> int:
        return self.left - 6

    @property
    def x_label_y(self) -> int:
        return self.bottom + 16


def _axis(largest: float) -> tuple[float, int]:
    """The axis maximum in hours and its number of steps; beyond a week, whole days."""
    return next(((top, steps) for top, steps in NICE_AXES if top >= largest),
                (math.ceil(largest / 24) * 24, 4))


def _hours_label(hours: float) -> str:
    return formats.number_format(hours, 0 if hours == int(hours) else 2 if hours % 0.5 else 1)


@dataclass(frozen=True)
class DailyHours:
    """One day's bar: the median hours of something that day, and the bar's tooltip."""

    day: date
    median_hours: float | None
    title: str


def daily_hours_chart(days: Sequence[DailyHours], *, description: str, width: int = 720,
                      height: int = 240, left: int = 44, right: int = 40, top: int = 10,
                      below: int = 26) -> BarChart:
    """Median hours per day as bars on a round axis, a gap for a day without any; drawn by
    `cockpit/_bar_chart.html` (the pickup dashboard, the supplier portal's performance)."""
    bottom = height - below
    plot_height = bottom - top
    # The right margin leaves room for the last date label, centred under the last bar.
    slot = (width - left - right) / max(len(days), 1)
    measured = [d.median_hours for d in days if d.median_hours is not None]
    top_hours, steps = _axis(max(measured)) if measured else (1, 4)
    bars = []
    for index, day in enumerate(days):
        if day.median_hours is None:
            continue
        bar_height = plot_height * min(day.median_hours, top_hours) / top_hours
        bars.append(Bar(
            x=round(left + index * slot + slot * 0.15, 1), y=round(bottom - bar_height, 1),
            width=round(slot * 0.7, 1), height=round(bar_height, 1), title=day.title))
    y_ticks = [Tick(position=round(bottom - plot_height * i / steps, 1),
                    label=_hours_label(top_hours * i / steps)) for i in range(steps + 1)]
    # A label every week keeps 30 dates readable.
    x_ticks = [Tick(position=round(left + index * slot + slot / 2, 1),
                    label=formats.date_format(day.day, "MONTH_DAY_FORMAT"))
               for index, day in enumerate(days) if (len(days) - 1 - index) % 7 == 0]
    return BarChart(width=width, height=height, left=left, right_edge=width - right,
                    bottom=bottom, bars=bars, y_ticks=y_ticks, x_ticks=x_ticks,
                    description=description)


def ready_time_chart(days: list[DayReadyTime], **size: int) -> BarChart:
    return daily_hours_chart([DailyHours(day.day, day.median_hours, ngettext(
        "%(day)s: median %(hours)s h from order to ready (%(count)d pickup)",
        "%(day)s: median %(hours)s h from order to ready (%(count)d pickups)",
        day.pickups) % {"day": formats.date_format(day.day, "SHORT_DATE_FORMAT"),
                        "hours": formats.number_format(day.median_hours or 0, 1),
                        "count": day.pickups}) for day in days],
        description=_("Median hours from order to ready for pickup, per day, "
                      "over the last %(days)d days.") % {"days": len(days)}, **size)
