"""Every write to customers and orders. Status changes go through `_transition`, which locks
the order row, checks the django-fsm-2 transition, saves, appends the audit event and writes the
outbox event in one transaction (ARCHITECTURE.md rule 3)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from oms.core.errors import Conflict, InvalidInput, InvalidTransition
from oms.core.events import event_emit
from oms.orders.models import EXTERNAL_ID_UNIQUE, Customer, Order, OrderEvent, OrderLine
from oms.orders.states import OrderStatus


@dataclass(frozen=True)
class CustomerData:
    email: str
    name: str = ""
    phone: str = ""
    external_id: str = ""


@dataclass(frozen=True)
class OrderLineData:
    sku: str
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal


class Step(NamedTuple):
    """A transition of the order's state machine and the topic that announces it."""
    method: Callable[[Order], Callable[[], None]]
    topic: str


# The ways out of `placed`: taken at intake (`FirstStep`) or later, when the payment changes.
CONFIRM = Step(lambda o: o.confirm, "order.confirmed")
HOLD = Step(lambda o: o.hold, "order.on_hold")


@dataclass(frozen=True)
class FirstStep:
    """Where a new order goes from ``placed`` within the transaction that writes it (at intake,
    its payment decides): the state machine takes the step on the new instance, so the row is
    inserted in the state it ends in instead of inserted and then updated."""
    secured: bool  # confirm; otherwise hold until the payment is secured
    reason: str


@dataclass(frozen=True)
class NewOrder:
    number: str
    channel: str
    external_id: str | None
    customer: CustomerData
    currency: str
    lines: Sequence[OrderLineData]
    delivery_method: str
    delivery_address: dict[str, Any]
    pickup_location: str
    language: str
    sourcing: dict[str, Any]
    placed_by: str
    first_step: FirstStep | None = None
    discount: Decimal = Decimal("0.00")
    shipping: Decimal = Decimal("0.00")


def duplicate_order(*, channel: str, external_id: str | None) -> Conflict:
    existing = Order.objects.filter(channel=channel, external_id=external_id).first()
    number = existing.number if existing else ""
    return Conflict(_("Order %(number)s already has this external id.") % {"number": number},
                    code="duplicate_order", attr="external_id", extra={"order": number})


def external_id_taken(*, channel: str, external_id: str) -> bool:
    """Has the channel placed an order with this external id?"""
    return Order.objects.filter(channel=channel, external_id=external_id).exists()


def order_subtotal(lines: Sequence[OrderLineData]) -> Decimal:
    """What the lines are worth at their prices."""
    return sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0.00"))


def order_total(lines: Sequence[OrderLineData], *, discount: Decimal = Decimal("0.00"),
                shipping: Decimal = Decimal("0.00")) -> Decimal:
    """What the customer pays: the lines less the order discount plus shipping."""
    return order_subtotal(lines) - discount + shipping


def customer_upsert(*, data: CustomerData) -> Customer:
    """The customer with this e-mail, created if new; a name, phone or external id given here
    replaces the stored one (an empty one keeps it)."""
    email = data.email.strip().lower()
    # get_or_create answers a concurrent first order of the same customer: its insert fails on
    # the unique e-mail inside a savepoint, and it reads the row the other transaction wrote.
    customer, _created = Customer.objects.get_or_create(
        email=email, defaults={"name": data.name, "phone": data.phone,
                               "external_id": data.external_id},
    )
    changed = {k: v for k, v in (("name", data.name), ("phone", data.phone),
                                 ("external_id", data.external_id))
               if v and getattr(customer, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(customer, key, value)
        customer.save(update_fields=[*changed, "updated_at"])
    return customer


class CreatedOrder(NamedTuple):
    """What `order_create` wrote: the order (with its customer) and its lines."""

    order: Order
    lines: list[OrderLine]


def order_payload(order: Order, lines: Sequence[OrderLine] | None = None) -> dict[str, Any]:
    """What webhook subscribers get about an order (`lines`: its lines, if the caller holds
    them already)."""
    return {
        "number": order.number,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status,
        "customer": {"email": order.customer.email},
        "currency": order.currency,
        "total": str(order.total),
        "discount": str(order.discount_total),
        "shipping": str(order.shipping_total),
        "lines": [
            {"sku": ln.product_id, "quantity": ln.quantity, "fulfilled": ln.fulfilled,
             "cancelled": ln.cancelled, "returned": ln.returned}
            for ln in (order.lines.all() if lines is None else lines)
        ],
    }


def _record(order: Order, type_: str, actor: str, data: dict[str, Any],
            topic: str | None = None) -> None:
    """Append to the audit trail and, if `topic`, publish through the outbox."""
    OrderEvent.objects.create(order=order, type=type_, at=timezone.now(), actor=actor, data=data)
    if topic:
        _publish(order, topic, data)


def _publish(order: Order, topic: str, detail: dict[str, Any],
             payload: dict[str, Any] | None = None) -> None:
    """`topic` through the outbox: the order's payload (`payload` if already built) with the
    `detail` of the change, if any."""
    event_emit(topic=topic, aggregate_type="order", aggregate_id=order.number,
               payload={**(payload or order_payload(order)),
                        **({"detail": detail} if detail else {})})


def order_create(*, data: NewOrder) -> CreatedOrder:
    """Write a placed order with its lines, fully allocated; publishes ``order.placed``, and the
    `data.first_step` out of ``placed`` when one is given.

    An external id the channel already used (the caller checks first; a concurrent request can
    still win the race) raises the database's IntegrityError, which `is_duplicate_external_id`
    recognises: the caller answers it with `duplicate_order` once its transaction (or savepoint)
    rolled back. A savepoint here just to answer it in place would cost two round trips on
    every order."""
    if not data.lines:
        raise InvalidInput([("required", _("An order needs at least one line."), "lines")])
    now = timezone.now()
    order = Order(
        number=data.number, channel=data.channel, external_id=data.external_id,
        currency=data.currency,
        total=order_total(data.lines, discount=data.discount, shipping=data.shipping),
        discount_total=data.discount, shipping_total=data.shipping, language=data.language,
        delivery_method=data.delivery_method, delivery_address=data.delivery_address,
        pickup_location=data.pickup_location, sourcing=data.sourcing,
        placed_by=data.placed_by, created_at=now, updated_at=now,
    )
    trail = [("sourcing.decided", data.sourcing), ("order.placed", {})]
    step = None
    if data.first_step is not None:
        step = _first_step(order, data.first_step)
        trail.append(step)
    # No savepoint of its own (nor in the other services an intake runs): a failure always ends
    # the caller's transaction, which rolls back to its own savepoint, so ours would only cost
    # round trips.
    with transaction.atomic(savepoint=False):
        order.customer = customer_upsert(data=data.customer)
        order.save(force_insert=True)
        lines = OrderLine.objects.bulk_create([
            OrderLine(order=order, position=i, product_id=ln.sku, quantity=ln.quantity,
                      unit_price=ln.unit_price, tax_rate=ln.tax_rate, allocated=ln.quantity)
            for i, ln in enumerate(data.lines, start=1)
        ])
        OrderEvent.objects.bulk_create([  # the whole audit trail of the intake, one insert
            OrderEvent(order=order, type=type_, at=now, actor=data.placed_by, data=detail)
            for type_, detail in trail])
        payload = order_payload(order, lines)
        _publish(order, "order.placed", {}, {**payload, "status": OrderStatus.PLACED.value})
        if step is not None:
            _publish(order, *step, payload)
    return CreatedOrder(order, lines)


def _first_step(order: Order, first: FirstStep) -> tuple[str, dict[str, Any]]:
    """Take the first step on the unsaved order; its audit entry and topic."""
    step = CONFIRM if first.secured else HOLD
    previous = _step(order, step.method, step.topic)
    return step.topic, {"from": previous, "to": order.status, "reason": first.reason}


def is_duplicate_external_id(error: IntegrityError) -> bool:
    """Did `order_create` fail on the channel's external id being taken?"""
    diag = getattr(error.__cause__, "diag", None)  # psycopg's: PostgreSQL names the constraint
    return diag is not None and diag.constraint_name == EXTERNAL_ID_UNIQUE


def order_lock(*, order: Order) -> Order:
    """Re-read the order under a row lock (call inside a transaction). NO KEY UPDATE: rows
    that merely reference the order (events, notifications) can still be inserted meanwhile."""
    return (Order.objects.select_for_update(of=("self",), no_key=True)
            .select_related("customer").get(pk=order.pk))


def _step(order: Order, step: Callable[[Order], Callable[[], None]], topic: str) -> str:
    """Take the state machine's step on `order` in memory, or refuse it with 409; returns the
    state it left."""
    method = step(order)
    if not can_proceed(method):
        raise InvalidTransition(
            _("Order %(number)s is %(status)s; it cannot be %(action)s.")
            % {"number": order.number, "status": order.get_status_display(),
               "action": topic.split(".", 1)[1].replace("_", " ")},
            attr="status",
        )
    previous = order.status
    method()
    return previous


def _transition(order: Order, step: Callable[[Order], Callable[[], None]], *, actor: str,
                topic: str, data: dict[str, Any] | None = None) -> Order:
    with transaction.atomic(savepoint=False):  # see order_create
        locked = order_lock(order=order)
        previous = _step(locked, step, topic)
        locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "updated_at"])
        _record(locked, topic, actor, {"from": previous, "to": locked.status, **(data or {})},
                topic=topic)
    return locked


def order_confirm(*, order: Order, actor: str, reason: str = "") -> Order:
    """Payment is secured (authorized, captured, invoice or pay in store)."""
    return _transition(order, CONFIRM.method, actor=actor, topic=CONFIRM.topic,
                       data={"reason": reason} if reason else None)


def order_hold(*, order: Order, actor: str, reason: str) -> Order:
    """Payment is pending or failed: nothing ships until it is secured."""
    return _transition(order, HOLD.method, actor=actor, topic=HOLD.topic,
                       data={"reason": reason})


def _move_allocated(order: Order, units: dict[str, int], to: str) -> dict[str, OrderLine]:
    """Move allocated units to `to` ("cancelled" or "fulfilled") on the locked order's lines,
    keeping quantity = allocated + fulfilled + cancelled; returns the lines by SKU."""
    lines = {ln.product_id: ln for ln in order.lines.select_for_update(no_key=True)}
    for sku, quantity in units.items():
        line = lines[sku]
        if quantity > line.allocated:
            raise InvalidTransition(
                _("Only %(open)d units of %(sku)s are still open.")
                % {"open": line.allocated, "sku": sku}, attr="lines",
            )
        line.allocated -= quantity
        setattr(line, to, getattr(line, to) + quantity)
    OrderLine.objects.bulk_update(list(lines.values()), ["allocated", to])
    return lines


def order_lines_cancel(*, order: Order, units: dict[str, int], reason: str,
                       actor: str) -> Order:
    """Move allocated units to cancelled. The caller has released their reservations. When no
    unit is left open and none was fulfilled, the order itself is cancelled."""
    with transaction.atomic():
        locked = order_lock(order=order)
        lines = _move_allocated(locked, units, "cancelled")
        data = {"reason": reason, "lines": [{"sku": s, "quantity": q} for s, q in units.items()]}
        everything_cancelled = all(ln.cancelled == ln.quantity for ln in lines.values())
        if everything_cancelled and can_proceed(locked.cancel):
            locked.cancel()
            locked.updated_at = timezone.now()
            locked.save(update_fields=["status", "updated_at"])
            _record(locked, "order.cancelled", actor, data, topic="order.cancelled")
        else:
            locked.updated_at = timezone.now()
            locked.save(update_fields=["updated_at"])
            _record(locked, "order.lines_cancelled", actor, data, topic="order.lines_cancelled")
    return locked


def order_start_fulfillment(*, order: Order, actor: str) -> Order:
    """A location accepted its part of the order."""
    return _transition(order, lambda o: o.start_fulfillment, actor=actor,
                       topic="order.in_fulfillment")


def order_mark_partially_shipped(*, order: Order, actor: str) -> Order:
    return _transition(order, lambda o: o.ship_partially, actor=actor,
                       topic="order.partially_shipped")


def order_mark_shipped(*, order: Order, actor: str) -> Order:
    """Every unit has shipped or was cancelled."""
    return _transition(order, lambda o: o.ship, actor=actor, topic="order.shipped")


def order_complete(*, order: Order, actor: str) -> Order:
    """Every shipped unit was delivered."""
    return _transition(order, lambda o: o.complete, actor=actor, topic="order.completed")


def order_lines_fulfill(*, order: Order, units: dict[str, int], actor: str,
                        data: dict[str, Any]) -> Order:
    """Move allocated units to fulfilled (they shipped or were handed over)."""
    with transaction.atomic():
        locked = order_lock(order=order)
        _move_allocated(locked, units, "fulfilled")
        locked.updated_at = timezone.now()
        locked.save(update_fields=["updated_at"])
        _record(locked, "order.lines_fulfilled", actor,
                {**data, "lines": [{"sku": s, "quantity": q} for s, q in units.items()]})
    return locked


def order_lines_return(*, order: Order, units: dict[str, int], actor: str,
                       data: dict[str, Any]) -> Order:
    """Count units that came back on the locked order's lines (never more than were fulfilled:
    409, and the database refuses it too), then move the order on: ``returned`` once every
    fulfilled unit is back and nothing is open, ``partially_returned`` otherwise, as far as its
    status allows (see `states.RETURNABLE_FROM`)."""
    with transaction.atomic(savepoint=False):  # see order_create
        locked = order_lock(order=order)
        lines = {ln.product_id: ln for ln in locked.lines.select_for_update(no_key=True)}
        for sku, quantity in units.items():
            line = lines[sku]
            if line.returned + quantity > line.fulfilled:
                raise Conflict(
                    _("Only %(left)d units of %(sku)s can still come back.")
                    % {"left": line.fulfilled - line.returned, "sku": sku},
                    code="return_exceeds_fulfilled", attr="lines")
            line.returned += quantity
        OrderLine.objects.bulk_update(list(lines.values()), ["returned"])
        locked.updated_at = timezone.now()
        locked.save(update_fields=["updated_at"])
        _record(locked, "order.lines_returned", actor,
                {**data, "lines": [{"sku": s, "quantity": q} for s, q in units.items()]})
        everything_back = all(ln.allocated == 0 and ln.returned == ln.fulfilled
                              for ln in lines.values())
        step = (lambda o: o.return_fully) if everything_back else (lambda o: o.return_partially)
        if can_proceed(step(locked)) and not (
                locked.status == OrderStatus.PARTIALLY_RETURNED and not everything_back):
            topic = "order.returned" if everything_back else "order.partially_returned"
            locked = _transition(locked, step, actor=actor, topic=topic, data=data)
    return locked


def order_shipping_waive(*, order: Order, actor: str, data: dict[str, Any]) -> Decimal:
    """No parcel is sent for the order after all (its goods are collected at a store): its
    shipping charge is dropped from the total, so no handover captures it. Returns the amount
    waived (nothing when there was none); ``order.shipping_waived`` publishes it. Caller holds
    the order row lock (`order` is the locked instance)."""
    waived = order.shipping_total
    if waived <= 0:
        return Decimal("0.00")
    order.shipping_total = Decimal("0.00")
    order.total -= waived
    order.updated_at = timezone.now()
    order.save(update_fields=["shipping_total", "total", "updated_at"])
    _record(order, "order.shipping_waived", actor, {**data, "amount": str(waived)},
            topic="order.shipping_waived")
    return waived


def order_event_record(*, order: Order, type: str, actor: str, data: dict[str, Any],
                       topic: str | None = None) -> None:
    """Append to an order's audit trail from another app (and publish when `topic` is given)."""
    _record(order, type, actor, data, topic=topic)


def order_events_record(*, entries: Sequence[tuple[Order, dict[str, Any]]], type: str,
                        actor: str) -> None:
    """`order_event_record` (without publishing) of one kind of entry for several orders, or
    several entries of one order, in one INSERT: a store visit decides on each parcel of the
    customer's in one go."""
    if not entries:
        return
    now = timezone.now()
    OrderEvent.objects.bulk_create([OrderEvent(order=order, type=type, at=now, actor=actor,
                                               data=data) for order, data in entries])
