"""Returns whose goods never came are cancelled by a beat sweep: an in-store exchange after a
day (its replacement held on the shelf is free again), anything else after
RETURN_REQUESTED_DAYS; one whose replacement already left is left to customer service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from returns.models import Return
from returns.services import returns_cancel_stale
from tests.network import level
from tests.returns.conftest import return_body
from tests.returns.support import register

pytestmark = pytest.mark.django_db


def _registered_ago(ret: dict[str, Any], days: float) -> None:
    Return.objects.filter(pk=ret["id"]).update(
        created_at=timezone.now() - timedelta(days=days))


def test_an_in_store_exchange_nobody_finished_is_cancelled_after_a_day_and_frees_the_shelf(
        network: Any, delivered: Any, pos_munich: Any) -> None:
    # given an exchange registered at the Munich till yesterday, its replacement held there
    network.stock(network.munich, "A-L", 1)
    order = delivered([("A", 1)])
    ret = register(pos_munich, order, [("A", 1)], exchange=[
        {"sku": "A-L", "quantity": 1, "unit_price": "10.00"}])
    assert level("A-L", network.munich).reserved == 1
    _registered_ago(ret, 1.1)

    # when the sweep runs
    assert returns_cancel_stale() == 1

    # then the return is cancelled and the replacement is on sale again
    assert Return.objects.get(pk=ret["id"]).status == "cancelled"
    assert level("A-L", network.munich).reserved == 0


def test_a_return_by_mail_waits_for_its_parcel_until_the_configured_days(
        network: Any, delivered: Any, shop: Any, settings: Any) -> None:
    # given the warehouse takes returns and a parcel was announced 10 days ago
    settings.RETURN_REQUESTED_DAYS = 30
    network.kassel.accepts_returns = True
    network.kassel.save(update_fields=["accepts_returns"])
    response = shop.post("/api/v1/returns", return_body(delivered([("A", 1)]), [("A", 1)]))
    assert response.status_code == 201, response.content
    ret = response.json()
    _registered_ago(ret, 10)

    # when the sweep runs, then nothing happens; 31 days after it, the return is cancelled
    assert returns_cancel_stale() == 0
    _registered_ago(ret, 31)
    assert returns_cancel_stale() == 1
    assert Return.objects.get(pk=ret["id"]).status == "cancelled"
