"""Order intake: `POST /api/v1/orders`.

Placing an order touches inventory (sourcing, reservations, the cart hold), orders, payments and
fulfilment in one transaction, so it lives here, in the top layer that may import all of them
(ARCHITECTURE.md rule 1); `oms.orders` keeps the order aggregate and its state machine.

Order of work inside the transaction: lock the cart hold (if any), decide sourcing (counting the
hold's units as ours), write the order (already confirmed or held, as its payment decides), its
payment and fulfilment orders, and only then take the stock with conditional UPDATEs, so hot
stock rows are locked for as short a time as possible. A lost race re-sources in a savepoint
(`reserve_with_retries`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fulfillment.services import CreatedFulfillment, fulfillment_orders_create
from inventory.order_reservations import reservation_create_for_order
from inventory.reservations import hold_credit, reservation_lock_hold, reserve_with_retries
from inventory.sourcing import Decision, DeliveryRequest, LineRequest, sourcing_decide
from oms.catalog.validation import require_known_skus
from oms.core.errors import Unprocessable
from oms.core.events import events_batched
from oms.core.models import ApiClient
from oms.orders.models import Order, OrderLine
from oms.orders.services import (
    CustomerData,
    FirstStep,
    NewOrder,
    OrderLineData,
    duplicate_order,
    external_id_taken,
    is_duplicate_external_id,
    order_create,
    order_subtotal,
    order_total,
)
from oms.orders.sql import order_number_next
from payments.models import Payment, secures_order
from payments.services import PaymentData, payment_record


@dataclass(frozen=True)
class OrderRequest:
    customer: CustomerData
    currency: str
    lines: Sequence[OrderLineData]
    delivery: DeliveryRequest
    delivery_address: dict[str, Any]
    payment: PaymentData
    external_id: str | None = None
    reservation_id: str | None = None
    language: str = "de"
    discount: Decimal = Decimal("0.00")
    shipping: Decimal = Decimal("0.00")
    # Set by other use cases, never by a channel: further payments beside `payment` (an
    # exchange paid partly by the returned goods' value), and a reason to hold the order
    # whatever its payment says (an exchange by mail waits for the return to arrive).
    more_payments: tuple[PaymentData, ...] = ()
    held_for: str = ""

    @property
    def paid(self) -> Decimal:
        return self.payment.amount + sum((p.amount for p in self.more_payments),
                                         Decimal("0.00"))


def _validate(request: OrderRequest, channel: str) -> None:
    require_known_skus([ln.sku for ln in request.lines], attr="lines")
    if request.discount > order_subtotal(request.lines):
        raise Unprocessable(
            _("The discount %(discount)s is more than the lines are worth (%(subtotal)s).")
            % {"discount": request.discount, "subtotal": order_subtotal(request.lines)},
            code="discount_exceeds_subtotal", attr="discount",
        )
    total = order_total(request.lines, discount=request.discount, shipping=request.shipping)
    if request.paid != total:
        raise Unprocessable(
            _("The payment amount %(amount)s does not match the order total %(total)s.")
            % {"amount": request.paid, "total": total},
            code="payment_amount_mismatch", attr="payment.amount",
        )
    # The unique constraint alone would catch a duplicate too, but only after sourcing: a
    # channel re-sending an order it placed when the stock has run out since must still hear
    # `duplicate_order`, not `insufficient_stock`.
    if request.external_id and external_id_taken(channel=channel,
                                                 external_id=request.external_id):
        raise duplicate_order(channel=channel, external_id=request.external_id)


def _first_step(payment: PaymentData, held_for: str = "") -> FirstStep:
    """The payment the channel took decides whether the new order is confirmed or held."""
    if held_for:
        return FirstStep(secured=False, reason=held_for)
    if secures_order(payment.method, payment.status):
        return FirstStep(secured=True, reason=f"payment {payment.method} {payment.status}")
    return FirstStep(secured=False, reason=f"payment {payment.status}")


@dataclass(frozen=True)
class PlacedOrder:
    """What the intake wrote, as written: the order (with its customer), its lines, its payment
    and its fulfilment orders with their lines. The caller answers with it without reading the
    rows back (bench/intake: the read-back was a third of the request's CPU)."""

    order: Order
    lines: list[OrderLine]
    payment: Payment
    fulfillments: list[CreatedFulfillment]


def order_place(*, client: ApiClient, request: OrderRequest) -> PlacedOrder:
    """Validate, source, reserve and write the whole order, or nothing (409 on a shortage)."""
    return order_place_as(channel=client.channel, placed_by=client.name, request=request,
                          client=client)


def order_place_as(*, channel: str, placed_by: str, request: OrderRequest,
                   client: ApiClient | None = None) -> PlacedOrder:
    """`order_place` for a use case placing an order itself (an exchange: the channel and who
    placed it are named, not taken from an API client). `client` is needed only to consume a
    cart hold, which is confined to the clients that may see it."""
    _validate(request, channel)
    try:
        return _place(channel, placed_by, client, request)
    except IntegrityError as error:
        # The transaction (or savepoint) rolled back, so the answer may query.
        if request.external_id and is_duplicate_external_id(error):
            raise duplicate_order(channel=channel, external_id=request.external_id) from None
        raise


def _place(channel: str, placed_by: str, client: ApiClient | None,
           request: OrderRequest) -> PlacedOrder:
    lines = [LineRequest(ln.sku, ln.quantity) for ln in request.lines]
    with transaction.atomic():
        hold = None
        if request.reservation_id and client is not None:
            hold = reservation_lock_hold(reservation_id=request.reservation_id,
                                         client=client)
        credit = hold_credit(hold)

        def decide() -> Decision:
            return sourcing_decide(lines=lines, delivery=request.delivery, credit=credit)

        def write(decision: Decision) -> PlacedOrder:
            # The order's events go in with one INSERT, before the stock rows are locked.
            with events_batched():
                order, lines = order_create(data=NewOrder(
                    number=order_number_next(), channel=channel,
                    external_id=request.external_id or None, customer=request.customer,
                    currency=request.currency, lines=request.lines,
                    delivery_method=request.delivery.method,
                    delivery_address=request.delivery_address,
                    pickup_location=request.delivery.location, language=request.language,
                    sourcing=decision.as_json(), placed_by=placed_by,
                    first_step=_first_step(request.payment, request.held_for),
                    discount=request.discount, shipping=request.shipping,
                ))
                payment = payment_record(order=order, data=request.payment)
                for more in request.more_payments:
                    payment_record(order=order, data=more)
                fulfillments = fulfillment_orders_create(order=order, decision=decision,
                                                         order_lines=lines)
            reservation_create_for_order(order_number=order.number, channel=channel,
                                         decision=decision, delivery=request.delivery, hold=hold)
            return PlacedOrder(order, lines, payment, fulfillments)

        return reserve_with_retries(decide, write)


def order_sourcing_preview(*, request_lines: Sequence[LineRequest],
                           delivery: DeliveryRequest) -> Decision:
    """The dry run: the decision an order would get now, reserving nothing."""
    return sourcing_decide(lines=request_lines, delivery=delivery)
