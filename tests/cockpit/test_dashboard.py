"""The store dashboard: how many pickups wait to be picked, wait at the counter and are
overdue, for how long, and the time from order to ready per day as a server-drawn chart."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from fulfillment.cockpit.charts import ready_time_chart
from fulfillment.cockpit.dashboard import (
    DayReadyTime,
    StoreFigures,
    Waiting,
    ready_times_per_day,
    store_figures,
)
from fulfillment.states import FulfillmentStatus as S
from tests.factories.cockpit import a_pickup

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def hours_ago(now: datetime, hours: float) -> datetime:
    return now - hours * HOUR


@pytest.fixture
def now() -> datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def munich_pickups(network, now):
    """Three to pick (ordered 1, 3 and 5 hours ago), two ready (for 2 and 6 hours, one past
    its deadline for 30 minutes), and pickups that must not count: one collected, one in
    Berlin."""
    store = network.munich
    for hours, status in ((1, S.PENDING), (3, S.ACCEPTED), (5, S.PICKING)):
        a_pickup(store, status=status, ordered_at=hours_ago(now, hours))
    a_pickup(store, status=S.READY_FOR_PICKUP, ordered_at=hours_ago(now, 30),
             ready_at=hours_ago(now, 2), deadline=now + 70 * HOUR)
    a_pickup(store, status=S.READY_FOR_PICKUP, ordered_at=hours_ago(now, 30),
             ready_at=hours_ago(now, 6), deadline=hours_ago(now, 0.5))
    a_pickup(store, status=S.PICKED_UP, ordered_at=hours_ago(now, 50),
             ready_at=hours_ago(now, 48))
    a_pickup(network.berlin, status=S.PENDING, ordered_at=hours_ago(now, 100))
    return store


def test_the_figures_count_open_pickups_with_their_oldest_and_median_age(munich_pickups,
                                                                          now):
    # When the dashboard's figures are taken for Munich
    figures = store_figures(munich_pickups, now)

    # then to-pick ages count from the order, ready ones from ready, overdue from the deadline
    assert figures == StoreFigures(
        to_pick=Waiting(count=3, oldest_since=hours_ago(now, 5), median_since=hours_ago(now, 3)),
        ready=Waiting(count=2, oldest_since=hours_ago(now, 6), median_since=hours_ago(now, 4)),
        overdue=Waiting(count=1, oldest_since=hours_ago(now, 0.5),
                        median_since=hours_ago(now, 0.5)),
    )


def test_an_empty_store_has_zero_counts_and_no_ages(network, now):
    empty = Waiting(count=0, oldest_since=None, median_since=None)
    assert store_figures(network.berlin, now) == StoreFigures(empty, empty, empty)


def test_the_chart_data_is_the_median_time_from_order_to_ready_per_local_day(network):
    # Given pickups that became ready today (after 1, 2 and 6 hours), yesterday (after 4
    # hours), 40 days ago, and one in Berlin
    zone = timezone.get_current_timezone()
    today = timezone.localdate()

    def at(day: date, hour: int) -> datetime:
        return datetime.combine(day, datetime.min.time(), zone).replace(hour=hour)
    yesterday, long_ago = today - timedelta(days=1), today - timedelta(days=40)
    for ordered, ready in ((at(today, 10), at(today, 11)), (at(today, 8), at(today, 10)),
                           (at(today, 6), at(today, 12)), (at(yesterday, 6), at(yesterday, 10)),
                           (at(long_ago, 6), at(long_ago, 7))):
        a_pickup(network.munich, status=S.PICKED_UP, ordered_at=ordered, ready_at=ready)
    a_pickup(network.berlin, status=S.PICKED_UP, ordered_at=at(today, 1), ready_at=at(today, 9))

    # When the last 30 days are taken at 18:00 today
    days = ready_times_per_day(network.munich, now=at(today, 18))

    # then there is one entry a day, medians on the days with ready pickups
    assert len(days) == 30
    assert days[0].day == today - timedelta(days=29)
    assert days[-2:] == [DayReadyTime(day=yesterday, pickups=1, median_hours=4.0),
                         DayReadyTime(day=today, pickups=3, median_hours=2.0)]
    assert all(d.median_hours is None and d.pickups == 0 for d in days[:-2])


def test_the_chart_scales_bars_to_a_round_axis_and_leaves_gaps_for_empty_days():
    # Given three days: 2 hours, none, 4 hours
    first = date(2031, 5, 1)
    days = [DayReadyTime(first, 2, 2.0), DayReadyTime(first + timedelta(days=1), 0, None),
            DayReadyTime(first + timedelta(days=2), 1, 4.0)]

    # When drawn
    chart = ready_time_chart(days, width=344, height=240, left=44, right=0, top=10,
                             below=26)

    # then the axis ends at 4 hours, the 4-hour bar fills the plot, the 2-hour one half of it,
    # and the empty day has no bar
    plot = 240 - 26 - 10
    assert [bar.height for bar in chart.bars] == [plot / 2, plot]
    assert [bar.x for bar in chart.bars] == [44 + 15, 44 + 200 + 15]
    assert chart.y_ticks[-1].label == "4"
    assert "1 pickup" in chart.bars[1].title


def test_the_dashboard_page_shows_the_figures_and_an_inline_svg_chart(
        munich_pickups, munich_staff, now):
    # When Munich's staff open the dashboard
    response = munich_staff.get("/cockpit/dashboard/")

    # then the counts are shown
    assert response.status_code == 200
    html = response.content.decode()
    counts = dict(re.findall(r'data-figure="(\w+)">\s*<th[^>]*>[^<]*</th>\s*'
                             r'<td class="number" data-count>(\d+)</td>', html))
    assert counts == {"to_pick": "3", "ready": "2", "overdue": "1"}
    # and the chart is drawn in the page: one bar per local day with a ready pickup, no script
    ready_days = {timezone.localdate(hours_ago(now, h)) for h in (2, 6, 48)}
    assert html.count('<rect class="bar"') == len(ready_days)
    assert "<svg" in html and "<script" not in html.split('id="content-main"')[1]


def test_the_chart_stays_valid_svg_in_german(munich_pickups, munich_staff):
    # When the dashboard is asked for in German (decimal commas)
    html = munich_staff.get("/cockpit/dashboard/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    # then the coordinates still use decimal points
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert not re.search(r'(x|y|width|height|x1|x2|y1|y2)="[^"]*,', svg)
