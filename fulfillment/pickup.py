"""Click-and-collect at the store: staff pick, the pickup waits at the counter with a code and a
deadline, the customer collects it (or does not come, and it expires).

Store stock is never exact, so a pickup is ready only once staff confirmed every unit. The
deadline and the reminder are database timers swept by beat (ARCHITECTURE.md rule 8). Every
service locks the order row, then the fulfilment row, like every other fulfilment writer."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fulfillment.lifecycle import fulfillment_pick
from fulfillment.models import FulfillmentOrder
from fulfillment.pickup_codes import code_matches, derive_code
from fulfillment.readiness import fully_picked, make_ready, restocked_pickup
from fulfillment.rollup import order_roll_up
from fulfillment.states import FulfillmentKind, FulfillmentStatus
from fulfillment.steps import (
    lines_of,
    lock_fulfillment,
    move_out,
    open_units,
    order_lines_before,
    refuse_on_hold,
    save_and_publish,
    step,
    units_json,
    units_value,
)
from inventory.order_reservations import (
    order_reservation,
    reservation_consume_shipped,
    reservation_receive_transfer,
    reservation_release_units,
)
from oms.core.errors import Conflict, DomainError, InvalidTransition, Unprocessable
from oms.orders.models import Order
from oms.orders.services import order_event_record, order_lines_cancel, order_lines_fulfill
from payments.services import payment_collect_in_store

F = FulfillmentStatus
SWEEP_ACTOR = "pickup deadline"


class WrongPickupCode(Unprocessable):
    """422. The failed attempt is counted even though the request is refused."""

    default_code = "invalid_pickup_code"
    keeps_writes = True


class PickupLocked(DomainError):
    """423 while too many wrong codes keep the pickup locked."""

    status_code = 423
    default_code = "pickup_locked"


def _require_pickup(fo: FulfillmentOrder) -> None:
    if fo.kind != FulfillmentKind.PICKUP:
        raise Unprocessable(_("Fulfilment %(id)s is not a store pickup.") % {"id": fo.pk},
                            code="not_a_pickup", attr="id")


def pickup_code(fulfillment: FulfillmentOrder) -> str | None:
    """The code the customer shows, while the pickup waits for them."""
    if fulfillment.status != F.READY_FOR_PICKUP or not fulfillment.pickup_code_salt:
        return None
    return derive_code(fulfillment.pk, fulfillment.pickup_code_salt)


def pickup_pick(*, fulfillment: FulfillmentOrder, picked: dict[str, int],
                actor: str) -> FulfillmentOrder:
    """Staff confirm what they found on the shelf. Lines not reported are not picked yet; a
    shortage is re-sourced (the customer is told); once every open unit is picked the pickup
    is ready: code, deadline, reminder timer and ``fulfillment.ready_for_pickup``."""
    _require_pickup(fulfillment)
    with transaction.atomic():
        # fulfillment_pick locked the order and the pickup for this transaction
        fo = fulfillment_pick(fulfillment=fulfillment, picked=picked, actor=actor)
        if fo.status == F.PICKING and fully_picked(fo):
            make_ready(fo.order, fo, actor, timezone.now())
            order_roll_up(order=fo.order, actor=actor)
    return fo


def pickup_handover(*, fulfillment: FulfillmentOrder, code: str, actor: str,
                    now: datetime | None = None) -> FulfillmentOrder:
    """The customer collects: the code is checked (five wrong codes lock the pickup for a
    while), the units leave the store's stock with movement rows, a pay-in-store order records
    its till payment, and the order completes. Card and PayPal payments are captured after
    commit from ``fulfillment.picked_up``."""
    now = now or timezone.now()
    _require_pickup(fulfillment)
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment)
        if fo.status != F.READY_FOR_PICKUP:
            raise InvalidTransition(
                _("Pickup %(id)s is %(status)s.") % {"id": fo.pk,
                                                     "status": fo.get_status_display()},
                attr="status")
        refuse_on_hold(order)
        # A wrong code is refused after this block commits: the attempt must count.
        refusal = _check_code(order, fo, code, actor, now)
        if refusal is None:
            _hand_over(order, fo, actor, now)
    if refusal is not None:
        raise refusal
    return fo


def pickup_hand_over_at_counter(*, fulfillment: FulfillmentOrder, actor: str,
                                now: datetime | None = None) -> FulfillmentOrder:
    """Staff take the goods off the shelf and give them to the customer standing at the counter
    (an exchange in store): picked, ready and handed over in one step, no code (the customer is
    in front of them). Every open unit must be on the shelf; a short pick is refused with 409
    ``insufficient_stock`` and changes nothing, since the customer is still there to choose
    something else."""
    now = now or timezone.now()
    _require_pickup(fulfillment)
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment)
        if fo.status not in (F.PENDING, F.ACCEPTED, F.PICKING, F.READY_FOR_PICKUP):
            raise InvalidTransition(
                _("Pickup %(id)s is %(status)s.") % {"id": fo.pk,
                                                     "status": fo.get_status_display()},
                attr="status")
        if fo.status != F.READY_FOR_PICKUP:
            units = open_units(fo)
            fo = fulfillment_pick(fulfillment=fo, picked=units, actor=actor)
            if fo.status != F.PICKING or not fully_picked(fo):
                raise Conflict(_("Not everything of pickup %(id)s is on the shelf.")
                               % {"id": fo.pk}, code="insufficient_stock", attr="exchange")
            make_ready(order, fo, actor, now)
        _hand_over(order, fo, actor, now)
    return fo


def _hand_over(order: Order, fo: FulfillmentOrder, actor: str, now: datetime) -> None:
    lines = lines_of(fo)
    units = open_units(fo, lines)
    for line in lines:
        if units.get(line.sku):
            line.shipped += units[line.sku]
            line.save(update_fields=["shipped"])
    reservation_consume_shipped(
        reservation=order_reservation(order_number=order.number),
        location_id=fo.location_id, units=units, reference=f"pickup {order.number}",
        actor=actor)
    order_lines, counted = order_lines_before(order)
    order_lines_fulfill(order=order, units=units, actor=actor,
                        data={"fulfillment": fo.pk, "handover": fo.location.code})
    amount = units_value(order, units, counted=counted, lines=order_lines,
                         shipping=not any(counted.values()))
    if amount > 0:
        payment_collect_in_store(order=order, amount=amount, actor=actor,
                                 reference=f"pickup {fo.pk} at {fo.location.code}",
                                 location=fo.location.code)
    fo.picked_up_at = now
    fo.pickup_failed_attempts, fo.pickup_locked_until = 0, None
    fo.save(update_fields=["picked_up_at", "pickup_failed_attempts", "pickup_locked_until"])
    fo.hand_over()
    save_and_publish(order, fo, "fulfillment.picked_up", actor, {
        "amount": str(amount), "currency": order.currency, "lines": units_json(units)})
    order_roll_up(order=order, actor=actor)


def _check_code(order: Order, fo: FulfillmentOrder, code: str, actor: str,
                now: datetime) -> DomainError | None:
    """None if the code is right; otherwise the refusal, after counting the attempt."""
    if fo.pickup_locked_until and fo.pickup_locked_until > now:
        wait = int((fo.pickup_locked_until - now).total_seconds()) + 1
        minutes = (wait + 59) // 60
        return PickupLocked(
            ngettext("Too many wrong codes: pickup %(id)s is locked for %(minutes)d more minute.",
                     "Too many wrong codes: pickup %(id)s is locked for %(minutes)d more minutes.",
                     minutes) % {"id": fo.pk, "minutes": minutes},
            attr="pickup_code", extra={"retry_after": wait})
    if fo.pickup_locked_until:  # the lock ran out: a fresh series of attempts
        fo.pickup_failed_attempts, fo.pickup_locked_until = 0, None
    if code_matches(fo.pickup_code_salt, fo.pickup_code_hash, code):
        return None
    fo.pickup_failed_attempts += 1
    locked = fo.pickup_failed_attempts >= settings.PICKUP_CODE_MAX_ATTEMPTS
    if locked:
        fo.pickup_locked_until = now + settings.PICKUP_CODE_LOCKOUT
    fo.save(update_fields=["pickup_failed_attempts", "pickup_locked_until"])
    order_event_record(order=order, type="fulfillment.wrong_pickup_code", actor=actor, data={
        "fulfillment": fo.pk, "attempt": fo.pickup_failed_attempts,
        "locked_until": fo.pickup_locked_until.isoformat() if locked else None})
    extra: dict[str, int] = {"attempts_left": max(
        settings.PICKUP_CODE_MAX_ATTEMPTS - fo.pickup_failed_attempts, 0)}
    if locked:  # the till learns now, not at its next try, when the customer may try again
        extra["retry_after"] = int(settings.PICKUP_CODE_LOCKOUT.total_seconds())
    return WrongPickupCode(_("The pickup code is wrong."), attr="pickup_code", extra=extra)


def pickup_expire(*, fulfillment: FulfillmentOrder, actor: str = SWEEP_ACTOR,
                  now: datetime | None = None) -> bool:
    """Nobody came before the deadline: the units go back to available, the lines are
    cancelled, ``fulfillment.pickup_expired`` carries the value to refund. Returns False (and
    changes nothing) if the pickup is no longer waiting or its deadline moved."""
    now = now or timezone.now()
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment)
        if fo.status != F.READY_FOR_PICKUP or fo.pickup_deadline is None or \
                fo.pickup_deadline > now:
            return False
        lines = lines_of(fo)
        units = open_units(fo, lines)
        order_lines, counted = order_lines_before(order)
        # Nothing of the order ever reached the customer and nothing else is coming: the
        # shipping it was charged goes back too.
        nothing_else = all(ln.allocated == units.get(ln.product_id, 0) for ln in order_lines)
        amount = units_value(order, units, counted=counted, lines=order_lines,
                             shipping=not any(counted.values()) and nothing_else)
        move_out(fo, units, lines)
        reservation = order_reservation(order_number=order.number)
        if reservation is not None and units:
            reservation_release_units(reservation=reservation, units=units,
                                      location_ids=[fo.location_id])
        fo.expire()
        save_and_publish(order, fo, "fulfillment.pickup_expired", actor, {
            "amount": str(amount), "currency": order.currency, "lines": units_json(units),
            "pickup_deadline": fo.pickup_deadline.isoformat()})
        if units:
            order_lines_cancel(order=order, units=units, reason="not_collected", actor=actor)
        order_roll_up(order=order, actor=actor)
    return True


def pickups_expire_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """The beat sweep: expire every pickup past its deadline; returns how many. Running it
    twice changes nothing the second time."""
    now = now or timezone.now()
    due = list(FulfillmentOrder.objects.select_related("order").filter(
        status=F.READY_FOR_PICKUP, pickup_deadline__lte=now).order_by("pickup_deadline")[:limit])
    return sum(pickup_expire(fulfillment=fo, now=now) for fo in due)


def pickup_remind(*, fulfillment: FulfillmentOrder, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment)
        if fo.status != F.READY_FOR_PICKUP or fo.pickup_reminded_at is not None or \
                fo.pickup_reminder_due is None or fo.pickup_reminder_due > now:
            return False
        fo.pickup_reminded_at = now
        fo.save(update_fields=["pickup_reminded_at"])
        save_and_publish(order, fo, "fulfillment.pickup_reminder", SWEEP_ACTOR,
                          {"pickup_deadline": fo.pickup_deadline.isoformat()})
    return True


def pickup_reminders_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """The beat sweep: remind every customer whose pickup expires within a day, once."""
    now = now or timezone.now()
    due = list(FulfillmentOrder.objects.select_related("order").filter(
        status=F.READY_FOR_PICKUP, pickup_reminded_at=None, pickup_reminder_due__lte=now)
        .order_by("pickup_reminder_due")[:limit])
    return sum(pickup_remind(fulfillment=fo, now=now) for fo in due)


def transfer_receive(*, fulfillment: FulfillmentOrder, actor: str) -> FulfillmentOrder:
    """The store received a transfer restocking an order's pickup: the units join the store's
    stock, reserved for the order, and count as picked for the pickup, which becomes ready
    (and the customer is told) once nothing else is missing. If the pickup ended meanwhile
    (the order was cancelled), the units simply restock the store."""
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment)
        if fo.kind != FulfillmentKind.TRANSFER:
            raise Unprocessable(_("Fulfilment %(id)s is not a transfer.") % {"id": fo.pk},
                                code="not_a_transfer", attr="id")
        if fo.status != F.SHIPPED:
            raise InvalidTransition(
                _("Transfer %(id)s is %(status)s; it can be received once shipped.")
                % {"id": fo.pk, "status": fo.get_status_display()}, attr="status")
        units = {ln.sku: ln.shipped for ln in lines_of(fo) if ln.shipped}
        pickup = restocked_pickup(order, fo)
        store = fo.destination
        reservation_receive_transfer(
            order_number=order.number, channel=order.channel, location_id=store.pk,
            location_code=store.code, units=units, hold=pickup is not None,
            reference=f"transfer {fo.pk} from {fo.location.code}", actor=actor)
        fo.deliver()
        save_and_publish(order, fo, "fulfillment.transfer_received", actor,
                          {"lines": units_json(units)})
        if pickup is not None:
            for line in lines_of(pickup):
                arrived = units.get(line.sku, 0)
                if arrived:
                    line.quantity += arrived
                    line.picked = (line.picked if line.picked is not None else line.shipped) \
                        + arrived
                    line.save(update_fields=["quantity", "picked"])
            if fully_picked(pickup):
                if pickup.status != F.PICKING:
                    step(pickup, pickup.pick)
                make_ready(order, pickup, actor, timezone.now())
        order_roll_up(order=order, actor=actor)
    return fo
