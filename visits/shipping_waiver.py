"""The shipping charge of an order whose goods are all collected at stores after a pickup offer
(API.md: shipping charges refunded per channel setting).

Shipping is charged with the first goods that leave (`oms.orders.amounts`). When an accepted
offer leaves an order without any parcel (every parcel of it cancelled or rejected, nothing
shipped or handed over yet) and the channel's `PickupOfferPolicy` says so (the default), the
order's shipping is waived: the total drops, so the handover at the store captures the goods
only. Money already taken for it (a prepaid order) goes back to the original payment.

Called only once the parcel is certainly stopped (nothing to stop, or the warehouse confirmed),
inside that transaction with the order row locked."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum

from fulfillment.models import FulfillmentOrder
from fulfillment.states import FulfillmentKind, FulfillmentStatus
from oms.core.errors import Conflict
from oms.orders.models import Order
from oms.orders.services import order_event_record, order_shipping_waive
from payments.models import Payment
from payments.services.refunds import RefundRequest, refunds_issue
from payments.states import RefundMethod
from visits.models import PickupOffer, PickupOfferPolicy

ZERO = Decimal("0.00")
PARCELS = [FulfillmentKind.SHIP, FulfillmentKind.DROPSHIP]
NEVER_SENT = [FulfillmentStatus.CANCELLED, FulfillmentStatus.REJECTED]


def refunds_shipping(channel: str) -> bool:
    policy = PickupOfferPolicy.objects.filter(channel=channel).first()
    return policy is None or policy.refund_shipping


def _no_parcel_left(order: Order) -> bool:
    if order.lines.filter(fulfilled__gt=0).exists():
        return False  # goods already left: shipping was charged with them
    return not FulfillmentOrder.objects.filter(order=order, kind__in=PARCELS).exclude(
        status__in=NEVER_SENT).exists()


def shipping_waive_if_no_parcel(*, order: Order, offer: PickupOffer, actor: str) -> Decimal:
    """Waive the locked order's shipping if no parcel of it is left to send; returns the
    amount waived."""
    if order.shipping_total <= 0 or not refunds_shipping(order.channel) \
            or not _no_parcel_left(order):
        return ZERO
    context = {"offer": offer.pk, "store": offer.visit.location.code}
    waived = order_shipping_waive(order=order, actor=actor, data=context)
    paid = Payment.objects.filter(order=order).aggregate(
        net=Sum(F("captured_amount") - F("refunded_amount")))["net"] or ZERO
    excess = min(waived, paid - order.total)
    if excess > 0:
        try:
            with transaction.atomic():
                refunds_issue(request=RefundRequest(
                    order=order, amount=excess, method=RefundMethod.ORIGINAL,
                    reference=f"pickup offer {offer.pk}", key=f"pickup-offer:{offer.pk}:shipping",
                    in_store=True, location_code=offer.visit.location.code, actor=actor,
                    context=context))
        except Conflict as refused:  # charged back meanwhile: customer service settles it
            order_event_record(order=order, type="order.shipping_not_refunded", actor=actor,
                               data={**context, "amount": str(excess),
                                     "reason": str(refused.detail)})
    return waived
