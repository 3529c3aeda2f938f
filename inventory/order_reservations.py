"""The stock an order holds: created at intake (consuming the cart hold), moved between
locations when a fulfilment is re-sourced, given back when units are cancelled, and consumed
when units ship. Locks are taken reservation row first, then stock rows in primary-key order.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Collection, Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.models import (
    MovementKind,
    Reservation,
    ReservationKind,
    ReservationLine,
    ReservationState,
    StockLevel,
    StockMovement,
)
from inventory.reservations import (
    apply_reserved_deltas,
    lock_reservation,
    new_lines,
    new_reservation,
    require_active,
    reservation_payload,
)
from inventory.sourcing import Allocation, Decision, DeliveryRequest
from inventory.sql.hold import NewLine, lines_insert
from oms.core.errors import InvalidTransition
from oms.core.events import event_emit

# {sku: {location_id: units}}
UnitsByLocation = dict[str, dict[int, int]]


def order_reservation(*, order_number: str) -> Reservation | None:
    return (Reservation.objects.filter(kind=ReservationKind.ORDER, reference=order_number)
            .order_by("-created_at").first())


def reservation_create_for_order(*, order_number: str, channel: str, decision: Decision,
                                 delivery: DeliveryRequest,
                                 hold: Reservation | None) -> Reservation:
    """Hold the decision's units for an order, consuming `hold` in the same pass. Call it last
    in the order's transaction (its UPDATEs lock the stock rows until commit). `hold` itself is
    left as it is: when a lost race rolls this attempt back, the next attempt must find the hold
    as it was locked, not already consumed in memory."""
    now = timezone.now()
    reservation = new_reservation(
        kind=ReservationKind.ORDER, reference=order_number, channel=channel, delivery=delivery,
        allocations=decision.allocations, expires_at=None, now=now,
    )
    released: list[ReservationLine] = []
    if hold is not None:
        hold = copy.copy(hold)
        # One pass over the stock rows releases the hold and takes the order's units, so rows
        # are locked in primary-key order even when the two sets overlap.
        released = list(hold.lines.all())
        if hold.expires_at <= now:
            hold.expire()
            topic, extra = "reservation.expired", {}
        else:
            hold.consume()
            hold.consumed_by = order_number
            topic, extra = "reservation.consumed", {"order": order_number}
        hold.updated_at = now
        hold.save(update_fields=["state", "consumed_by", "updated_at"])
        event_emit(topic=topic, aggregate_type="reservation", aggregate_id=hold.pk,
                   payload=reservation_payload(hold, **extra))
    apply_reserved_deltas(decision.allocations, released)
    return reservation


def _take_units(reservation: Reservation, units: dict[str, int],
                location_ids: Collection[int] | None) -> UnitsByLocation:
    """Reduce the reservation's lines by `units` (newest lines first, i.e. the location chosen
    last; or only at `location_ids`); returns what was taken where."""
    lines_by_sku: dict[str, list[ReservationLine]] = defaultdict(list)
    lines = reservation.lines.filter(product_id__in=list(units), quantity__gt=0).order_by("-pk")
    if location_ids is not None:
        lines = lines.filter(location_id__in=list(location_ids))
    for line in lines:
        lines_by_sku[line.product_id].append(line)
    taken: UnitsByLocation = {}
    changed: list[ReservationLine] = []
    for sku, quantity in units.items():
        remaining, taken[sku] = quantity, {}
        for line in lines_by_sku[sku]:
            take = min(line.quantity, remaining)
            if take == 0:
                break
            line.quantity -= take
            changed.append(line)
            taken[sku][line.location_id] = taken[sku].get(line.location_id, 0) + take
            remaining -= take
        if remaining:
            raise InvalidTransition(_("Only %(held)d units of %(sku)s are held.")
                                    % {"held": quantity - remaining, "sku": sku}, attr="lines")
    ReservationLine.objects.bulk_update(changed, ["quantity"])
    return taken


def _end_when_empty(reservation: Reservation, *, shipped: bool = False) -> None:
    """An order reservation holding nothing any more ends: consumed when its last units
    shipped, released when they were cancelled."""
    if reservation.lines.filter(quantity__gt=0).exists():
        return
    (reservation.consume if shipped else reservation.release)()
    reservation.updated_at = timezone.now()
    reservation.save(update_fields=["state", "updated_at"])
    event_emit(topic=f"reservation.{reservation.state}", aggregate_type="reservation",
               aggregate_id=reservation.pk, payload=reservation_payload(reservation))


def _as_lines(taken: UnitsByLocation, levels: dict[tuple[str, int], int]) -> list[ReservationLine]:
    return [ReservationLine(stock_level_id=levels[(sku, location_id)], product_id=sku,
                            quantity=quantity)
            for sku, per_location in taken.items()
            for location_id, quantity in per_location.items() if quantity]


def _level_ids(reservation: Reservation) -> dict[tuple[str, int], int]:
    return {(ln.product_id, ln.location_id): ln.stock_level_id
            for ln in reservation.lines.all()}


def reservation_units_held(reservation: Reservation | None) -> dict[str, int]:
    """What an order's reservation still holds per SKU, over all locations (nothing once it
    ended). Units on a transfer's truck are held nowhere until the store receives them."""
    if reservation is None or reservation.state != ReservationState.ACTIVE:
        return {}
    held: dict[str, int] = defaultdict(int)
    for line in reservation.lines.all():
        held[line.product_id] += line.quantity
    return dict(held)


def reservation_release_units(*, reservation: Reservation, units: dict[str, int],
                              location_ids: Collection[int] | None = None) -> UnitsByLocation:
    """Give back units ({sku: quantity}) of an order reservation in one pass over the stock
    rows; the reservation is released once it holds nothing."""
    with transaction.atomic():
        locked = lock_reservation(reservation)
        require_active(locked)
        taken = _take_units(locked, units, location_ids)
        apply_reserved_deltas([], _as_lines(taken, _level_ids(locked)))
        _end_when_empty(locked)
    return taken


def reservation_move_units(*, reservation: Reservation, units: dict[str, int],
                           from_location_id: int, to: Sequence[Allocation]) -> None:
    """Re-sourcing: give back `units` at one location and hold `to` elsewhere (which may be
    less than `units`: the rest is simply released), in one pass so the stock rows are locked
    in primary-key order. Raises StockRaceLost if a new location lost the units since the
    decision."""
    with transaction.atomic():
        locked = lock_reservation(reservation)
        require_active(locked)
        taken = _take_units(locked, units, [from_location_id])
        _add_lines(locked, to)
        apply_reserved_deltas(to, _as_lines(taken, _level_ids(locked)))
        _end_when_empty(locked)


def reservation_hold_more(*, reservation: Reservation, to: Sequence[Allocation]) -> None:
    """Hold `to` for the order as well, giving nothing back (a pickup at a store while the
    warehouse has not yet confirmed that it stopped the parcel the pickup replaces: until it
    does, both are held, so a "too late" answer never finds the parcel's units sold). Raises
    StockRaceLost if a location no longer has the units."""
    with transaction.atomic():
        locked = lock_reservation(reservation)
        require_active(locked)
        _add_lines(locked, to)
        apply_reserved_deltas(to, [])


def _add_lines(locked: Reservation, to: Sequence[Allocation]) -> None:
    existing = {(ln.product_id, ln.location_id): ln for ln in locked.lines.all()}
    added: list[Allocation] = []
    for allocation in to:
        line = existing.get((allocation.sku, allocation.location_id))
        if line is not None:
            line.quantity += allocation.quantity
            line.save(update_fields=["quantity"])
        else:
            added.append(allocation)
    lines_insert(locked, new_lines(added))


def reservation_consume_shipped(*, reservation: Reservation, location_id: int,
                                units: dict[str, int], reference: str, actor: str,
                                kind: str = MovementKind.SHIP) -> list[StockMovement]:
    """Units left the building: on-hand and reserved drop together at the location, with a
    ``ship`` movement per SKU. On-hand cannot go below zero even if a count shrank it since."""
    with transaction.atomic():
        locked = lock_reservation(reservation)
        require_active(locked)
        taken = _take_units(locked, units, [location_id])
        level_ids = _level_ids(locked)
        levels = StockLevel.objects.select_for_update(no_key=True).filter(
            pk__in=[level_ids[(sku, location_id)] for sku in units]).order_by("pk")
        now = timezone.now()
        movements = []
        for level in levels:
            shipped = taken[level.product_id].get(location_id, 0)
            if level.reserved < shipped:
                raise RuntimeError(f"{level} holds less than its reservations")
            on_hand_drop = min(shipped, level.on_hand)
            level.reserved -= shipped
            level.on_hand -= on_hand_drop
            level.updated_at = now
            level.save(update_fields=["reserved", "on_hand", "updated_at"])
            if on_hand_drop:
                movements.append(StockMovement(
                    location_id=location_id, product_id=level.product_id, quantity=-on_hand_drop,
                    kind=kind, reference=reference, on_hand_after=level.on_hand,
                    actor=actor, created_at=now,
                ))
        StockMovement.objects.bulk_create(movements)
        _end_when_empty(locked, shipped=True)
    return movements


def reservation_receive_transfer(*, order_number: str, channel: str, location_id: int,
                                 location_code: str, units: dict[str, int], hold: bool,
                                 reference: str, actor: str) -> list[StockMovement]:
    """A transfer for an order's pickup arrived at the store: on-hand rises with a
    ``transfer_in`` movement per SKU and, when `hold`, the units are reserved for the order
    right away, so nobody else can buy them off the shelf. The order's reservation may have
    ended when its last units left the warehouse; the order then gets a new one."""
    now = timezone.now()
    with transaction.atomic():
        reservation = order_reservation(order_number=order_number) if hold else None
        if hold and (reservation is None or reservation.state != ReservationState.ACTIVE):
            reservation = new_reservation(
                kind=ReservationKind.ORDER, reference=order_number, channel=channel,
                delivery=DeliveryRequest(method="pickup", location=location_code),
                allocations=[], expires_at=None, now=now)
        if reservation is not None:
            reservation = lock_reservation(reservation)
        StockLevel.objects.bulk_create(
            [StockLevel(product_id=sku, location_id=location_id, updated_at=now) for sku in units],
            ignore_conflicts=True)
        levels = list(StockLevel.objects.select_for_update(no_key=True)
                      .filter(location_id=location_id, product_id__in=list(units)).order_by("pk"))
        movements = []
        for level in levels:
            received = units[level.product_id]
            level.on_hand += received
            if hold:
                level.reserved += received
            level.updated_at = now
            level.save(update_fields=["on_hand", "reserved", "updated_at"])
            movements.append(StockMovement(
                location_id=location_id, product_id=level.product_id, quantity=received,
                kind=MovementKind.TRANSFER_IN, reference=reference, on_hand_after=level.on_hand,
                actor=actor, created_at=now))
        StockMovement.objects.bulk_create(movements)
        if reservation is not None:
            existing = {ln.product_id: ln for ln in reservation.lines.filter(
                location_id=location_id)}
            added: list[NewLine] = []
            for level in levels:
                line = existing.get(level.product_id)
                if line is not None:
                    line.quantity += units[level.product_id]
                    line.save(update_fields=["quantity"])
                else:
                    added.append((level.pk, level.product_id, location_id,
                                  units[level.product_id]))
            lines_insert(reservation, added)
    return movements
