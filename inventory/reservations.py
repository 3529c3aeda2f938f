"""Holding stock: cart holds and order reservations (ARCHITECTURE.md rules 3, 5 and 8).

Units are held by moving them into `StockLevel.reserved` with one conditional UPDATE per stock
row, ``reserved = reserved + n WHERE on_hand - reserved - safety_stock >= n``, taken in
primary-key order so that concurrent multi-line reservations cannot deadlock. The UPDATEs run
last in their transaction, after every other row is written, so each hot stock row stays locked
only for the UPDATE and the commit. If an UPDATE matches no row, someone took the units after the
sourcing decision was made: the savepoint is rolled back and sourcing asked again, a few times,
before the caller gets ``409 insufficient_stock``. The reservation rows and the UPDATEs are
plain SQL (`inventory.sql.hold`): a cart hold is the hottest write path of the service.

A cart hold called outside any transaction on PostgreSQL whose decision takes units from one
stock row goes one step further: the UPDATE, the reservation, its line and the outbox event are
one statement in autocommit, so the row lock is released by the server's own commit instead of
waiting for the application process to be scheduled again to send COMMIT (`_in_one_statement`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.models import Reservation, ReservationKind, ReservationLine, ReservationState
from inventory.scope import holds_in_scope
from inventory.sourcing import Allocation, Decision, DeliveryRequest, LineRequest, sourcing_decide
from inventory.sql.hold import (
    NewLine,
    hold_params,
    hold_sql,
    hold_write,
    reservation_insert,
    reserved_change,
)
from oms.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from oms.core.events import (
    NewEvent,
    event_emit,
    events_emit,
    outbox_row,
    outbox_row_committed,
)
from oms.core.models import ApiClient, OutboxEvent

T = TypeVar("T")
RACE_RETRIES = 3
HELD = "reservation.held"


class InsufficientStock(Conflict):
    default_code = "insufficient_stock"

    def __init__(self, shortages: dict[str, int]) -> None:
        skus = sorted(shortages)
        super().__init__(
            _("Not enough stock for %(skus)s.") % {"skus": ", ".join(skus)},
            attr="lines", extra={"skus": skus},
        )


class StockRaceLost(Exception):
    """Units a decision counted on were taken by someone else before the UPDATE."""

    def __init__(self, sku: str) -> None:
        super().__init__(sku)
        self.sku = sku


def apply_reserved_deltas(reserve: Iterable[Allocation],
                           release: Iterable[ReservationLine]) -> None:
    """Take the units of `reserve` and give back those of `release`, netted per stock row, in
    one pass over the rows in primary-key order (the fixed lock order). Raises StockRaceLost if
    a row no longer has the units to take."""
    deltas: dict[int, int] = defaultdict(int)
    skus: dict[int, str] = {}
    for a in reserve:
        deltas[a.stock_level_id] += a.quantity
        skus[a.stock_level_id] = a.sku
    for line in release:
        deltas[line.stock_level_id] -= line.quantity
        skus[line.stock_level_id] = line.product_id
    changes = [(level_id, deltas[level_id]) for level_id in sorted(deltas) if deltas[level_id]]
    short = reserved_change(changes, timezone.now()) if changes else None
    if short is not None:
        raise StockRaceLost(skus[short])


def reserve_with_retries(decide: Callable[[], Decision],
                         write: Callable[[Decision], T], *, partial: bool = False) -> T:
    """Decide, then write the decision in a savepoint; if stock moved in between, decide again.
    `write` must end with the reservation UPDATEs (see module docstring). Unless `partial`, a
    decision with shortages is refused with InsufficientStock."""
    return _retry_lost_races(decide, lambda decision: _atomically(write, decision),
                             partial=partial)


def _atomically(write: Callable[[Decision], T], decision: Decision) -> T:
    with transaction.atomic():
        return write(decision)


def _retry_lost_races(decide: Callable[[], Decision], write: Callable[[Decision], T], *,
                      partial: bool = False) -> T:
    """`reserve_with_retries` for a `write` that keeps a lost race from persisting anything by
    itself (a savepoint, or a statement that writes all or nothing)."""
    last_short: dict[str, int] = {}
    for _attempt in range(RACE_RETRIES):
        decision = decide()
        if decision.shortages and not partial:
            raise InsufficientStock(decision.shortages)
        try:
            return write(decision)
        except StockRaceLost as lost:
            last_short = {lost.sku: 0}
    raise InsufficientStock(last_short)


def _validated_ttl(ttl_seconds: int | None) -> timedelta:
    ttl = settings.RESERVATION_DEFAULT_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    if not 1 <= ttl <= settings.RESERVATION_MAX_TTL_SECONDS:
        raise InvalidInput([(
            "max_value",
            _("ttl_seconds must be between 1 and %(max)d.")
            % {"max": settings.RESERVATION_MAX_TTL_SECONDS},
            "ttl_seconds",
        )])
    return timedelta(seconds=ttl)


def unsaved_reservation(*, kind: str, reference: str, channel: str, delivery: DeliveryRequest,
                        expires_at: datetime | None, now: datetime,
                        placed_by: str = "") -> Reservation:
    return Reservation(
        kind=kind, reference=reference, channel=channel, delivery_method=delivery.method,
        pickup_location=delivery.location, expires_at=expires_at, created_at=now, updated_at=now,
        placed_by=placed_by,
    )


def new_reservation(*, kind: str, reference: str, channel: str, delivery: DeliveryRequest,
                    allocations: Sequence[Allocation], expires_at: datetime | None,
                    now: datetime) -> Reservation:
    reservation = unsaved_reservation(kind=kind, reference=reference, channel=channel,
                                      delivery=delivery, expires_at=expires_at, now=now)
    return reservation_insert(reservation, new_lines(allocations))


def new_lines(allocations: Iterable[Allocation]) -> list[NewLine]:
    return [(a.stock_level_id, a.sku, a.location_id, a.quantity) for a in allocations]


def reservation_payload(reservation: Reservation, **extra: object) -> dict[str, object]:
    return {"id": str(reservation.pk), "kind": reservation.kind,
            "reference": reservation.reference, "state": reservation.state, **extra}


@dataclass(frozen=True)
class _CartHold:
    """What a cart hold writes, whatever the decision: its reservation and `reservation.held`."""

    reference: str
    channel: str
    delivery: DeliveryRequest
    ttl: timedelta
    placed_by: str = ""

    def reservation(self, now: datetime) -> Reservation:
        return unsaved_reservation(kind=ReservationKind.CART, reference=self.reference,
                                   channel=self.channel, delivery=self.delivery,
                                   expires_at=now + self.ttl, now=now, placed_by=self.placed_by)

    def write(self, decision: Decision) -> Reservation:
        if _in_one_statement(decision):
            return self.write_in_one_statement(decision.allocations[0])
        return _atomically(self.write_in_transaction, decision)

    def write_in_transaction(self, decision: Decision) -> Reservation:
        now = timezone.now()
        reservation = reservation_insert(self.reservation(now), new_lines(decision.allocations))
        event_emit(topic=HELD, aggregate_type="reservation", aggregate_id=reservation.pk,
                   payload=_held_payload(reservation))
        apply_reserved_deltas(decision.allocations, [])
        return reservation

    def rows(self, allocation: Allocation,
             now: datetime) -> tuple[Reservation, NewLine, OutboxEvent]:
        """The reservation, its line and its `reservation.held` event, unsaved."""
        reservation = self.reservation(now)
        event = outbox_row(topic=HELD, aggregate_type="reservation", aggregate_id=reservation.pk,
                           payload=_held_payload(reservation), now=now)
        return reservation, new_lines([allocation])[0], event

    def write_in_one_statement(self, allocation: Allocation) -> Reservation:
        now = timezone.now()
        written = hold_write(*self.rows(allocation, now), now)
        if written is None:
            raise StockRaceLost(allocation.sku)
        reservation, event = written
        outbox_row_committed(event)
        return reservation


def cart_hold_statement(*, reference: str, channel: str, delivery: DeliveryRequest,
                        allocation: Allocation) -> tuple[str, list[object]]:
    """The statement and parameters a one-row cart hold runs (`inventory.sql.hold.hold_write`),
    for a benchmark that drives the same SQL without the application."""
    now = timezone.now()
    hold = _CartHold(reference, channel, delivery, _validated_ttl(None))
    return hold_sql(), hold_params(*hold.rows(allocation, now), now)


def _held_payload(reservation: Reservation) -> dict[str, object]:
    return reservation_payload(reservation, expires_at=reservation.expires_at.isoformat())


def _in_one_statement(decision: Decision) -> bool:
    """Whether a hold is written as one statement (`inventory.sql.hold.hold_write`): outside any
    transaction (inside one, the caller's commit ends the hold, and the transactional path
    keeps its statements as they were), for a decision taking units from one stock row.

    A decision over several rows keeps the transaction: all or nothing then needs a rollback when
    a later row is short after earlier ones were updated. One plain SQL statement cannot fail on
    purpose without a trick (a division by zero, a forced constraint violation) or a PL/pgSQL
    function (a migration); either way every lost race would be logged by the server as an ERROR
    and come back as a database error to tell apart from real ones. The hot path, a cart line
    served from one row, needs none of that."""
    return (len(decision.allocations) == 1 and not connection.in_atomic_block
            and connection.get_autocommit())


def reservation_hold(*, reference: str, channel: str, lines: Sequence[LineRequest],
                     delivery: DeliveryRequest, ttl_seconds: int | None = None,
                     placed_by: str = "") -> Reservation:
    """Hold every line for a cart, all or nothing, until the deadline. `placed_by`: the name of
    the API client making the hold (what a store-confined client's scope counts as its own)."""
    hold = _CartHold(reference, channel, delivery, _validated_ttl(ttl_seconds), placed_by)
    return _retry_lost_races(lambda: sourcing_decide(lines=lines, delivery=delivery),
                             hold.write)


def reservation_get(*, reservation_id: object, client: ApiClient | None) -> Reservation:
    """A cart hold within `client`'s scope (`holds_in_scope`; None: any hold), else 404. An
    order's own reservation is never reachable here: it changes only with its order."""
    reservations = Reservation.objects.filter(pk=reservation_id, kind=ReservationKind.CART)
    if client is not None:
        reservations = holds_in_scope(client, reservations)
    reservation = reservations.prefetch_related("lines__location").first()
    if reservation is None:
        raise NotFound(_("No such reservation."), attr="reservation_id")
    return reservation


def lock_reservation(reservation: Reservation) -> Reservation:
    return Reservation.objects.select_for_update(no_key=True).get(pk=reservation.pk)


def _end_hold(hold: Reservation, end: Callable[[], None], topic: str) -> None:
    apply_reserved_deltas([], hold.lines.all())
    end()
    hold.updated_at = timezone.now()
    hold.save(update_fields=["state", "updated_at", "consumed_by"])
    event_emit(topic=topic, aggregate_type="reservation", aggregate_id=hold.pk,
               payload=reservation_payload(hold))


def require_active(reservation: Reservation) -> None:
    if reservation.state != ReservationState.ACTIVE:
        raise InvalidTransition(
            _("The reservation is %(state)s.") % {"state": reservation.get_state_display()},
            attr="state",
        )


def reservation_release(*, reservation: Reservation) -> Reservation:
    """Give a hold's units back. Only an active reservation can be released, once."""
    with transaction.atomic():
        locked = lock_reservation(reservation)
        require_active(locked)
        if locked.kind == ReservationKind.CART and locked.expires_at <= timezone.now():
            _end_hold(locked, locked.expire, "reservation.expired")
        else:
            _end_hold(locked, locked.release, "reservation.released")
    return locked


def reservation_extend(*, reservation: Reservation, ttl_seconds: int) -> Reservation:
    """Move an active cart hold's deadline to now + ttl."""
    ttl = _validated_ttl(ttl_seconds)
    with transaction.atomic():
        locked = lock_reservation(reservation)
        require_active(locked)
        if locked.kind != ReservationKind.CART:
            raise InvalidTransition(_("Only cart holds have a deadline."), attr="kind")
        now = timezone.now()
        if locked.expires_at <= now:  # the sweep ends it; a refusal changes nothing
            raise InvalidTransition(_("The reservation has expired."), attr="expires_at")
        locked.expires_at, locked.updated_at = now + ttl, now
        locked.save(update_fields=["expires_at", "updated_at"])
        event_emit(topic="reservation.extended", aggregate_type="reservation",
                   aggregate_id=locked.pk,
                   payload=reservation_payload(locked, expires_at=locked.expires_at.isoformat()))
    return locked


def reservations_expire_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """The beat sweep: end every cart hold past its deadline; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Reservation.objects.select_for_update(skip_locked=True)
            .filter(kind=ReservationKind.CART, state=ReservationState.ACTIVE,
                    expires_at__lte=now)
            .order_by("expires_at")[:limit]
        )
        if not due:
            return 0
        lines = ReservationLine.objects.filter(reservation__in=due)
        apply_reserved_deltas([], lines)
        for hold in due:
            hold.expire()
            hold.updated_at = now
        Reservation.objects.bulk_update(due, ["state", "updated_at"])
        events_emit(
            NewEvent("reservation.expired", "reservation", str(h.pk), reservation_payload(h))
            for h in due
        )
    return len(due)


def reservation_lock_hold(*, reservation_id: object, client: ApiClient) -> Reservation | None:
    """Lock the cart hold an order names. Returns it while it still holds units (also past
    its deadline when the sweep has not ended it yet: the order then releases it as expired in
    its own final pass over the stock rows); None if it already ended, and the order reserves
    afresh. A hold already consumed is a conflict."""
    # Its lines are read twice (the credit for sourcing, then the release), and again on a
    # retry after a lost race: once here is enough, nothing changes them meanwhile.
    # Only a hold within the client's scope: a till names its own store's holds, not another's.
    holds = holds_in_scope(client, Reservation.objects.filter(pk=reservation_id,
                                                             kind=ReservationKind.CART))
    hold = holds.select_for_update(no_key=True).prefetch_related("lines").first()
    if hold is None:
        raise NotFound(_("No such reservation."), attr="reservation_id")
    if hold.state == ReservationState.CONSUMED:
        raise InvalidTransition(_("The reservation was already used by order %(order)s.")
                                % {"order": hold.consumed_by}, code="reservation_consumed",
                                attr="reservation_id")
    if hold.state != ReservationState.ACTIVE:
        return None
    return hold


def hold_credit(hold: Reservation | None) -> dict[tuple[str, int], int]:
    """The units a hold keeps for its order, to count as available when sourcing that order."""
    credit: dict[tuple[str, int], int] = defaultdict(int)
    if hold is not None:
        for line in hold.lines.all():
            credit[(line.product_id, line.location_id)] += line.quantity
    return credit
