"""`manage.py seed_demo_returns`: an order the demo's till (or the cockpit) can take back."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from oms.orders.models import Order
from returns.eligibility import returnable_units

pytestmark = pytest.mark.django_db


def _seed(env_file: Path) -> str:
    out = StringIO()
    call_command("seed_demo_returns", env_file=env_file, stdout=out)
    return dict(line.split("=", 1) for line in env_file.read_text().splitlines())[
        "DEMO_RETURN_ORDER"]


def test_the_demo_has_a_collected_order_to_take_back_and_keeps_it_on_a_second_run(
        tmp_path: Path, settings: Any) -> None:
    # given the demo world and its store
    settings.PSP_ADAPTER = "payments.adapters.psp.fake"
    call_command("seed_demo", "--products", "40", env_file=tmp_path / "demo.env",
                 stdout=StringIO())
    call_command("seed_demo_store", env_file=tmp_path / "demo.env", stdout=StringIO())

    # when the returns demo is loaded twice
    first = _seed(tmp_path / "demo.env")
    second = _seed(tmp_path / "demo.env")

    # then one order, collected at the Berlin store, can come back in full, and it is the same
    order = Order.objects.get(number=first)
    assert second == first
    assert order.pickup_location == "ST-BER"
    assert all(line.fulfilled == line.quantity for line in order.lines.all())
    assert returnable_units(order) == {line.product_id: 1 for line in order.lines.all()}
