"""When a store pickup is ready for the customer: every unit still to hand over is picked and
no transfer restocking it is on its way. Shared by the pickup services and by the lifecycle of
the transfers themselves (a transfer that fails may leave its pickup ready, or empty)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from fulfillment.models import FulfillmentLine, FulfillmentOrder
from fulfillment.pickup_codes import code_hash, derive_code, new_salt
from fulfillment.services import fulfillment_close
from fulfillment.states import TO_PICK, FulfillmentKind, FulfillmentStatus
from fulfillment.steps import lines_of, save_and_publish, step
from oms.orders.models import Order

F = FulfillmentStatus
# A transfer's units have reached the store (delivered = received) or will never come.
TRANSFER_DONE = [F.DELIVERED, F.REJECTED, F.CANCELLED]


def incoming(pickup: FulfillmentOrder) -> bool:
    """Is a transfer restocking this pickup still on its way?"""
    return FulfillmentOrder.objects.filter(
        order_id=pickup.order_id, kind=FulfillmentKind.TRANSFER,
        destination_id=pickup.location_id,
    ).exclude(status__in=TRANSFER_DONE).exists()


def fully_picked(pickup: FulfillmentOrder) -> bool:
    """Every unit to hand over is on the counter, no transfer for it is still on its way (its
    units join the pickup when the store receives them), and no warehouse may still ship the
    parcel it replaces (`waits_for_stop`)."""
    if pickup.waits_for_stop:
        return False
    open_lines = [ln for ln in lines_of(pickup) if ln.open_quantity]
    return bool(open_lines) and not incoming(pickup) and all(
        line_on_the_counter(ln) for ln in open_lines)


def line_on_the_counter(line: FulfillmentLine) -> bool:
    """Every unit of the line still to hand over is picked and on the counter."""
    return line.picked is not None and line.picked - line.shipped >= line.open_quantity


def make_ready(order: Order, pickup: FulfillmentOrder, actor: str, now: datetime) -> None:
    """Code, deadline, reminder timer and ``fulfillment.ready_for_pickup``. The pickup fields
    are saved before the transition: ConcurrentTransitionMixin checks the status on every
    save, and only save_and_publish writes the new one."""
    pickup.pickup_code_salt = new_salt()
    pickup.pickup_code_hash = code_hash(pickup.pickup_code_salt,
                                        derive_code(pickup.pk, pickup.pickup_code_salt))
    pickup.ready_at = now
    pickup.pickup_deadline = now + timedelta(days=pickup.location.pickup_hold_days)
    reminder = pickup.pickup_deadline - settings.PICKUP_REMINDER_BEFORE
    pickup.pickup_reminder_due = reminder if reminder > now else None
    pickup.pickup_reminded_at = None
    pickup.pickup_failed_attempts, pickup.pickup_locked_until = 0, None
    pickup.save(update_fields=[
        "pickup_code_salt", "pickup_code_hash", "ready_at", "pickup_deadline",
        "pickup_reminder_due", "pickup_reminded_at", "pickup_failed_attempts",
        "pickup_locked_until"])
    step(pickup, pickup.make_ready)
    save_and_publish(order, pickup, "fulfillment.ready_for_pickup", actor,
                     {"pickup_deadline": pickup.pickup_deadline.isoformat()})


def restocked_pickup(order: Order, transfer: FulfillmentOrder) -> FulfillmentOrder | None:
    """Lock the order's pickup this transfer restocks, while it is still being prepared.
    Call with the order row locked."""
    return (FulfillmentOrder.objects.select_for_update(of=("self",), no_key=True)
            .select_related("location", "order")
            .filter(order=order, kind=FulfillmentKind.PICKUP,
                    location_id=transfer.destination_id, status__in=TO_PICK).first())


def settle_after_transfer(*, order: Order, transfer: FulfillmentOrder, actor: str) -> None:
    """A transfer was rejected or picked short and re-sourced (inside that transaction): if
    nothing for its pickup is on its way any more, the pickup is ready with what the store
    has or, when nothing is left of it, closed. Does nothing for other kinds."""
    if transfer.kind != FulfillmentKind.TRANSFER:
        return
    pickup = restocked_pickup(order, transfer)
    if pickup is None or incoming(pickup):
        return
    if pickup.status == F.PICKING and fully_picked(pickup):
        make_ready(order, pickup, actor, timezone.now())
    elif not any(ln.open_quantity for ln in lines_of(pickup)):
        fulfillment_close(order=order, fulfillment=pickup, actor=actor, now=timezone.now())
