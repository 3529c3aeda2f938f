"""Property: random sequences of holds, orders, releases, cancels, expiries and stock counts
keep the stock invariants (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from fulfillment.use_cases.order_cancellation import order_cancel
from fulfillment.use_cases.order_intake import OrderRequest, order_place
from inventory.models import Reservation, ReservationLine, StockLevel
from inventory.reservations import reservation_hold, reservation_release, reservations_expire_due
from inventory.services import stock_snapshot_apply
from inventory.sourcing import DeliveryRequest, LineRequest
from inventory.sql.snapshot import LevelRow
from oms.core.errors import DomainError
from oms.core.models import OutboxEvent
from oms.orders.services import CustomerData, OrderLineData
from payments.services import PaymentData
from tests.factories import ApiClientFactory, LocationFactory, ProductFactory

SKUS = ["P", "Q"]
sku = st.sampled_from(SKUS)
quantity = st.integers(min_value=1, max_value=4)
index = st.integers(min_value=0, max_value=5)
operation = st.one_of(
    st.tuples(st.just("hold"), sku, quantity),
    st.tuples(st.just("order"), sku, quantity),
    st.tuples(st.just("release"), index),
    st.tuples(st.just("cancel"), index),
    st.tuples(st.just("expire"), index),
    st.tuples(st.just("count"), sku, st.integers(min_value=0, max_value=8)),
)
SHIP = DeliveryRequest(method="ship")


class ReservationInvariants(TestCase):
    """Each hypothesis example runs in its own rolled-back transaction, so the world is built
    per example, not in setUp."""

    def build_world(self) -> None:
        self.warehouse = LocationFactory(code="WH-P")
        for code in SKUS:
            ProductFactory(sku=code)
        stock_snapshot_apply(location=self.warehouse, as_of=timezone.now(), actor="t",
                             levels=[LevelRow(code, 6) for code in SKUS])
        self.client = ApiClientFactory(kind="webshop", channel="web")
        self.holds: list[Reservation] = []
        self.orders: list = []
        self.clock = timezone.now()

    def run_step(self, step: tuple) -> None:
        kind = step[0]
        try:
            if kind == "hold":
                self.holds.append(reservation_hold(
                    reference="cart", channel="web", lines=[LineRequest(step[1], step[2])],
                    delivery=SHIP))
            elif kind == "order":
                self.orders.append(order_place(client=self.client, request=OrderRequest(
                    customer=CustomerData(email="p@example.de"), currency="EUR",
                    lines=[OrderLineData(step[1], step[2], price := 1, 19)],
                    delivery=SHIP, delivery_address={},
                    payment=PaymentData(method="invoice", status="pending",
                                        amount=price * step[2]),
                )))
            elif kind == "release" and step[1] < len(self.holds):
                reservation_release(reservation=self.holds[step[1]])
            elif kind == "cancel" and step[1] < len(self.orders):
                order_cancel(order=self.orders[step[1]].order, reason="p", actor="t")
            elif kind == "expire" and step[1] < len(self.holds):
                Reservation.objects.filter(pk=self.holds[step[1]].pk).update(
                    expires_at=timezone.now() - timedelta(seconds=1))
                reservations_expire_due()
            elif kind == "count":
                self.clock += timedelta(seconds=1)
                stock_snapshot_apply(location=self.warehouse, as_of=self.clock, actor="t",
                                     levels=[LevelRow(step[1], step[2])])
        except DomainError as refusal:
            assert refusal.status_code in (409, 422), refusal

    def check_invariants(self) -> None:
        for stock in StockLevel.objects.all():
            held = ReservationLine.objects.filter(
                stock_level=stock, reservation__state="active",
            ).aggregate(n=Sum("quantity"))["n"] or 0
            assert stock.reserved == held, (stock, held)
            assert stock.reserved >= 0
            if stock.on_hand - stock.safety_stock < stock.reserved:
                # only a count can shrink on-hand under what is held, and it must say so
                assert OutboxEvent.objects.filter(
                    topic="stock.shortfall", aggregate_id=f"{stock.product_id}@WH-P").exists()

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(operation, min_size=1, max_size=12))
    def test_stock_invariants_hold_for_any_sequence(self, steps: list[tuple]) -> None:
        self.build_world()
        for step in steps:
            self.run_step(step)
            self.check_invariants()
