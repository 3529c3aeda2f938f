"""The cockpit's lists stay fast however many pickups a store has: 100 a page, oldest first,
in a number of queries that does not grow with the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.states import FulfillmentStatus as S
from tests.factories.cockpit import a_pickup

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_pickups(network):
    """150 pickups to pick, ordered a minute apart, two lines each; 120 ready ones."""
    now = timezone.now()
    to_pick = [a_pickup(network.munich, {"A": 1, "B": 2},
                        ordered_at=now - timedelta(minutes=150 - n)) for n in range(150)]
    for n in range(120):
        a_pickup(network.munich, status=S.READY_FOR_PICKUP, ordered_at=now - timedelta(days=1),
                 ready_at=now - timedelta(minutes=n), email="same@example.de")
    return to_pick


def test_the_to_pick_list_shows_100_a_page_oldest_first(many_pickups, munich_staff,
                                                         django_assert_max_num_queries):
    # When staff open the first page
    with django_assert_max_num_queries(10):
        first = munich_staff.get("/cockpit/to-pick/")
    # then it holds the 100 oldest, oldest first, and links to the next page
    rows = list(first.context["page"].object_list)
    assert rows == many_pickups[:100]
    assert "?page=2" in first.content.decode()
    # and the second page the rest
    second = munich_staff.get("/cockpit/to-pick/", {"page": 2})
    assert list(second.context["page"].object_list) == many_pickups[100:]


def test_the_counter_lists_and_searches_in_a_fixed_number_of_queries(
        many_pickups, munich_staff, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        listed = munich_staff.get("/cockpit/handover/")
    assert len(listed.context["page"].object_list) == 100
    with django_assert_max_num_queries(10):
        found = munich_staff.get("/cockpit/handover/", {"q": "same@example.de"})
    assert found.context["page"].paginator.count == 120


def test_the_dashboard_takes_a_fixed_number_of_queries(many_pickups, munich_staff,
                                                      django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        assert munich_staff.get("/cockpit/dashboard/").status_code == 200
