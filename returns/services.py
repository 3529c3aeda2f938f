"""Every write to returns (ARCHITECTURE.md rule 3): register, receive, cancel, and the steps to
refunded and closed.

Locks, always in this order: the order row (`order_lock`), then the return row, then what the
step touches (the order's lines, stock levels, payments, refunds). The order lock is what makes
concurrent returns of one order safe: the second waits, then counts the first one's units
(`eligibility.returnable_units`), so together they never announce, receive or refund more than
was delivered; the database's `returned <= fulfilled` and the payments' `refunded <= captured`
constraints stand behind that.

In store, registering and receiving are two calls of the same visit; by mail, receiving happens
when the parcel arrives at the site the return names. Both issue the refund at receipt
(`payments.services.refunds`): cash and store credit at once, a card refund as soon as the PSP
says yes (a few seconds later, through the attempt mechanism)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from fulfillment.models import FulfillmentOrder
from fulfillment.pickup import pickup_hand_over_at_counter
from fulfillment.use_cases.order_cancellation import order_cancel
from inventory.models import Location, LocationKind, MovementKind, StockLevel
from inventory.services import stock_movement_record
from oms.core.attempts.services import attempts_create
from oms.core.errors import Conflict, InvalidInput, InvalidTransition, Unprocessable
from oms.core.events import event_emit
from oms.orders.amounts import PricedLine, net_line_values, units_refund
from oms.orders.models import Order, OrderLine
from oms.orders.services import (
    order_confirm,
    order_event_record,
    order_lines_return,
    order_lock,
)
from oms.orders.states import CANCELLABLE as ORDER_CANCELLABLE
from oms.orders.states import OPEN as ORDER_OPEN
from oms.orders.states import OrderStatus
from payments.models import Refund
from payments.services import RefundRequest, refund_method_check, refunds_issue
from payments.states import RefundStatus
from returns.eligibility import policy_for, returnable_units, window_end
from returns.exchange import Exchange, exchange_place
from returns.labels import RETURN_LABEL
from returns.models import Return, ReturnLine
from returns.payloads import return_payload
from returns.reasons import return_reasons_active
from returns.routing import return_location_for_mail
from returns.states import (
    NOT_RECEIVED,
    Condition,
    Disposition,
    LineStatus,
    ReturnMode,
    ReturnStatus,
)

S = ReturnStatus
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int
    reason: str
    condition: str


@dataclass(frozen=True)
class ReturnRequest:
    order: Order
    lines: Sequence[LineRequest]
    refund_method: str
    location: Location | None = None  # None: by mail, to the site `routing` chooses
    exchange: Exchange | None = None
    override_reason: str = ""  # staff taking goods back after the window


@dataclass(frozen=True)
class Receipt:
    """What came back: {sku: (units, disposition)}; lines not named came back with nothing
    (refused, `refused` gives the reason where staff turned goods away)."""

    lines: Mapping[str, tuple[int, str]]
    refused: Mapping[str, str] = field(default_factory=dict)
    refund_method: str | None = None  # the till may choose another method at receipt


def _audit(order: Order, ret: Return, topic: str, actor: str,
           lines: Iterable[ReturnLine] | None = None, **data: Any) -> None:
    """The order's audit trail and the outbox (webhooks, notifications); `lines` as the
    caller holds them, else read."""
    payload = return_payload(ret, order, lines)
    order_event_record(order=order, type=topic, actor=actor,
                       data={"return": ret.number, "status": ret.status, **data})
    event_emit(topic=topic, aggregate_type="return", aggregate_id=ret.pk,
               payload={**payload, **({"detail": data} if data else {})})


def _step(ret: Return, transition: str) -> None:
    method = getattr(ret, transition)
    if not can_proceed(method):
        raise InvalidTransition(
            _("Return %(number)s is %(status)s.")
            % {"number": ret.number, "status": ret.get_status_display()}, attr="status")
    method()


# --- register -------------------------------------------------------------------------------
def _check_lines(order: Order, lines: Sequence[LineRequest]) -> dict[str, OrderLine]:
    if not lines:
        raise InvalidInput([("required", _("A return needs at least one line."), "lines")])
    skus = [ln.sku for ln in lines]
    if len(set(skus)) != len(skus):
        raise InvalidInput([("duplicate_sku", _("Each SKU once per return."), "lines")])
    reasons = set(return_reasons_active().values_list("code", flat=True))
    unknown = sorted({ln.reason for ln in lines} - reasons)
    if unknown:
        raise InvalidInput([("invalid_reason", _("Unknown return reason: %(reasons)s.")
                             % {"reasons": ", ".join(unknown)}, "lines.reason")])
    if any(ln.condition not in Condition.values for ln in lines):
        raise InvalidInput([("invalid_choice", _("Condition is resellable or damaged."),
                             "lines.condition")])
    order_lines = {ln.product_id: ln for ln in order.lines.all()}
    strangers = sorted(set(skus) - set(order_lines))
    if strangers:
        raise Unprocessable(_("Not on order %(number)s: %(skus)s.")
                            % {"number": order.number, "skus": ", ".join(strangers)},
                            code="sku_not_on_order", attr="lines")
    left = returnable_units(order)
    over = {ln.sku: max(left[ln.sku], 0) for ln in lines if ln.quantity > left[ln.sku]}
    if over:
        raise Unprocessable(
            _("More than can come back: %(lines)s.")
            % {"lines": ", ".join(f"{sku} ({n})" for sku, n in sorted(over.items()))},
            code="not_returnable", attr="lines",
            extra={"returnable": [{"sku": s, "quantity": n} for s, n in sorted(over.items())]})
    return order_lines


def _check_window(order: Order, override_reason: str) -> Any:
    end = window_end(order, policy_for(order.channel))
    if end is not None and timezone.now() > end and not override_reason:
        raise Unprocessable(
            _("The return window of order %(number)s closed on %(date)s.")
            % {"number": order.number, "date": end.date().isoformat()},
            code="return_window_closed", attr="order", extra={"window_ended_at": end.isoformat()})
    return end


def _where(order: Order, request: ReturnRequest) -> tuple[Location, str]:
    if request.location is None:
        return (return_location_for_mail(order=order, skus=[ln.sku for ln in request.lines]),
                ReturnMode.MAIL)
    location = request.location
    if not location.accepts_returns or not location.is_active:
        raise Unprocessable(_("%(location)s does not take returns.")
                            % {"location": location.name},
                            code="location_does_not_accept_returns", attr="location")
    mode = ReturnMode.IN_STORE if location.kind == LocationKind.STORE else ReturnMode.MAIL
    return location, mode


def _value(order: Order, lines: Mapping[str, OrderLine], units: Mapping[str, int]
           ) -> dict[str, Decimal]:
    """What `units` more of each line are worth (its share of the discount off)."""
    priced = [PricedLine(ln.product_id, ln.quantity, ln.unit_price)
              for ln in order.lines.all()]
    net = net_line_values(priced, order.discount_total)
    return {sku: units_refund(net_value=net[sku], quantity=lines[sku].quantity,
                              already=lines[sku].returned, units=n)
            for sku, n in units.items()}


def _next_number(order: Order) -> str:
    return f"{order.number}-R{Return.objects.filter(order=order).count() + 1}"


def return_request(*, request: ReturnRequest, actor: str, channel: str) -> Return:
    """Register a return: what comes back, why, where and how the money goes back; an
    exchange order when the customer takes something instead. `channel` is the channel an
    exchange order is placed in (the till's own, or the order's). Raises and writes nothing
    for anything that cannot be returned (422), a closed window (422, unless
    `override_reason`), a replacement the store does not have (409)."""
    now = timezone.now()
    # No savepoint of its own (nor in receive): a refusal always ends the caller's
    # transaction, the API request's or the cockpit's (see oms.orders.services.order_create).
    with transaction.atomic(savepoint=False):
        order = order_lock(order=request.order)
        lines = _check_lines(order, request.lines)
        ends = _check_window(order, request.override_reason)
        location, mode = _where(order, request)
        refund_method_check(order=order, method=request.refund_method,
                            in_store=mode == ReturnMode.IN_STORE)
        worth = _value(order, lines, {ln.sku: ln.quantity for ln in request.lines})
        ret = Return.objects.create(
            number=_next_number(order), order=order, mode=mode, location=location,
            refund_method=request.refund_method, currency=order.currency,
            window_ends_at=ends, override_reason=request.override_reason, placed_by=actor,
            created_at=now, updated_at=now)
        ReturnLine.objects.bulk_create([
            ReturnLine(return_order=ret, order_line=lines[ln.sku], quantity=ln.quantity,
                       reason_id=ln.reason, condition=ln.condition,
                       refund_amount=worth[ln.sku]) for ln in request.lines])
        value = sum(worth.values(), ZERO)
        if request.exchange is not None:
            policy = policy_for(order.channel)
            placed, credit = exchange_place(
                order=order, return_number=ret.number, exchange=request.exchange,
                value=value, store=location if mode == ReturnMode.IN_STORE else None,
                hold=mode == ReturnMode.MAIL and not policy.exchange_ships_at_once,
                channel=channel or order.channel, placed_by=actor)
            ret.exchange_order, ret.exchange_credit = placed.order, credit
        ret.refund_amount = value - ret.exchange_credit
        ret.save(update_fields=["exchange_order", "exchange_credit", "refund_amount"])
        if request.override_reason and ends is not None and now > ends:
            # Only a window that had closed was overridden: a reason given inside the window
            # stays on the return but claims nothing in the audit trail.
            order_event_record(order=order, type="return.window_overridden", actor=actor,
                               data={"return": ret.number, "reason": request.override_reason,
                                     "window_ended_at": ends.isoformat()})
        _audit(order, ret, "return.requested", actor)
        if mode == ReturnMode.MAIL:
            attempts_create(kind=RETURN_LABEL, target_ids=[ret.pk], fresh=True, now=now)
    return ret


# --- receive --------------------------------------------------------------------------------
def _lock(ret: Return) -> tuple[Order, Return]:
    order = order_lock(order=ret.order)
    locked = (Return.objects.select_for_update(of=("self",), no_key=True)
              .select_related("location", "exchange_order").get(pk=ret.pk))
    return order, locked


def _in_lock_order(ret: Return) -> dict[str, ReturnLine]:
    """The return's lines by SKU, in the order their stock rows at the receiving location are
    locked when the goods are put away: by the stock row's primary key, as every stock writer
    locks them (ARCHITECTURE.md rule 3). Two tills receiving returns of the same SKUs in
    another order would otherwise deadlock. A SKU the location never held gets its row on
    put-away, last."""
    lines = list(ret.lines.select_related("order_line"))
    level_of = dict(StockLevel.objects.filter(
        location=ret.location, product_id__in=[ln.sku for ln in lines])
        .values_list("product_id", "pk"))
    lines.sort(key=lambda ln: (level_of.get(ln.sku, float("inf")), ln.sku))
    return {ln.sku: ln for ln in lines}


def _lock_stock_rows(ret: Return, lines: Mapping[str, ReturnLine]) -> None:
    """Lock, up front and in primary-key order, every stock row at the location the receipt
    will touch: the returned SKUs' (put away) and, in store, the replacement's (handed over at
    the counter afterwards). Two tills swapping A for C and C for A would otherwise take the
    same rows in opposite order."""
    skus = set(lines)
    if ret.mode == ReturnMode.IN_STORE and ret.exchange_order_id is not None:
        skus |= set(OrderLine.objects.filter(order_id=ret.exchange_order_id)
                    .values_list("product_id", flat=True))
    list(StockLevel.objects.select_for_update(no_key=True)
         .filter(location=ret.location, product_id__in=skus).order_by("pk")
         .values_list("pk", flat=True))


def _check_receipt(ret: Return, lines: dict[str, ReturnLine], receipt: Receipt) -> None:
    named = set(receipt.lines) | set(receipt.refused)
    strangers = sorted(named - set(lines))
    if strangers:
        raise Unprocessable(_("Not on return %(number)s: %(skus)s.")
                            % {"number": ret.number, "skus": ", ".join(strangers)},
                            code="sku_not_on_return", attr="lines")
    both = sorted(set(receipt.lines) & set(receipt.refused))
    if both:
        raise InvalidInput([("invalid", _("Received and refused at once: %(skus)s.")
                             % {"skus": ", ".join(both)}, "refused")])
    over = sorted(sku for sku, (n, _d) in receipt.lines.items() if n > lines[sku].quantity)
    if over:
        raise Unprocessable(_("More received than announced: %(skus)s.")
                            % {"skus": ", ".join(over)}, code="exceeds_announced",
                            attr="lines")
    if any(d not in Disposition.values for _n, d in receipt.lines.values()):
        raise InvalidInput([("invalid_choice", _("Disposition is restock or write_off."),
                             "lines.disposition")])


def _put_away(ret: Return, sku: str, units: int, disposition: str, actor: str) -> None:
    """Resellable units go on the location's shelf (on hand, available at once); damaged ones
    are booked in and straight out again, so the journal shows them and stock never counts
    them."""
    stock_movement_record(location=ret.location, sku=sku, quantity=units,
                          kind=MovementKind.RETURN, reference=ret.number, actor=actor)
    if disposition == Disposition.WRITE_OFF:
        stock_movement_record(location=ret.location, sku=sku, quantity=-units,
                              kind=MovementKind.DAMAGE, reference=f"{ret.number} write-off",
                              actor=actor)


def _shipping_back(order: Order, ret: Return) -> Decimal:
    """Shipping, once, when the whole order is back and the channel refunds it then."""
    if order.shipping_total <= 0 or not policy_for(order.channel).refund_shipping_on_full_return:
        return ZERO
    lines = list(order.lines.all())
    everything_back = all(ln.allocated == 0 and ln.returned == ln.fulfilled for ln in lines)
    refunded_before = Return.objects.filter(order=order, shipping_refund__gt=0) \
        .exclude(pk=ret.pk).exists()
    return order.shipping_total if everything_back and not refunded_before else ZERO


def return_receive(*, ret: Return, receipt: Receipt, actor: str) -> Return:
    """The goods are in hand: count them, put them away or write them off, count them back on
    the order, hand over an exchange (in store) or release it (by mail), and refund. Two tills
    receiving the same return at once: the second waits for the first and gets 409."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        order, ret = _lock(ret)
        _step(ret, "receive")
        lines = _in_lock_order(ret)
        _check_receipt(ret, lines, receipt)
        _lock_stock_rows(ret, lines)
        order_lines = {ln.product_id: ln for ln in order.lines.all()}
        units = {sku: n for sku, (n, _d) in receipt.lines.items() if n > 0}
        worth = _value(order, order_lines, units)
        for sku, line in lines.items():
            received, disposition = receipt.lines.get(sku, (0, ""))
            line.received, line.disposition = received, disposition if received else ""
            line.status = LineStatus.RECEIVED if received else LineStatus.REFUSED
            line.refused_reason = "" if received else receipt.refused.get(sku, NOT_RECEIVED)
            line.refund_amount = worth.get(sku, ZERO)
            if received:
                _put_away(ret, sku, received, disposition, actor)
        ReturnLine.objects.bulk_update(list(lines.values()), [
            "received", "disposition", "status", "refused_reason", "refund_amount"])
        if units:
            order = order_lines_return(order=order, units=units, actor=actor,
                                       data={"return": ret.number})
        ret.shipping_refund = _shipping_back(order, ret)
        value = sum(worth.values(), ZERO) + ret.shipping_refund
        _settle_exchange(order, ret, value, actor, lines.values())
        ret.refund_amount = max(value - ret.exchange_credit, ZERO)
        ret.refund_method = receipt.refund_method or ret.refund_method
        ret.received_at, ret.received_by, ret.updated_at = now, actor, now
        ret.save()
        _audit(order, ret, "return.received", actor, lines.values())
        refunds = refunds_issue(request=RefundRequest(
            order=order, amount=ret.refund_amount, method=ret.refund_method,
            reference=ret.number, key=f"return:{ret.pk}",
            in_store=ret.mode == ReturnMode.IN_STORE, location_code=ret.location.code,
            actor=actor, context={"return": ret.number}))
        _advance(order, ret, refunds, actor, lines.values())
    return ret


def _settle_exchange(order: Order, ret: Return, value: Decimal, actor: str,
                     lines: Iterable[ReturnLine]) -> None:
    exchange = ret.exchange_order
    if exchange is None:
        return
    if exchange.status == OrderStatus.CANCELLED:
        # The customer cancelled the replacement before the goods came back: their value paid
        # nothing, so all of it is refunded (and there is nothing to hand over or release).
        _release_exchange_credit(order, ret, actor)
        return
    everything_came = all(ln.received == ln.quantity for ln in lines)
    if value < ret.exchange_credit and everything_came:
        # Every announced unit is here: the gap is the cent a line's cumulative rounding
        # moved between visits (oms.orders.amounts), never goods missing. The goods' value
        # pays the replacement as it is.
        ret.exchange_credit = value
    if value < ret.exchange_credit:
        if ret.mode == ReturnMode.IN_STORE:
            raise Unprocessable(
                _("What came back is worth %(value)s, less than the %(credit)s that pays the "
                  "exchange: receive every announced unit, or cancel the return.")
                % {"value": value, "credit": ret.exchange_credit},
                code="exchange_not_covered", attr="lines")
        # By mail: the replacement stays held; customer service settles the difference.
        order_event_record(order=order, type="return.exchange_not_covered", actor=actor,
                           data={"return": ret.number, "value": str(value),
                                 "credit": str(ret.exchange_credit),
                                 "exchange_order": exchange.number})
        return
    if ret.mode == ReturnMode.IN_STORE:
        pickup = FulfillmentOrder.objects.filter(order=exchange).order_by("pk").first()
        if pickup is not None:
            pickup_hand_over_at_counter(fulfillment=pickup, actor=actor)
    elif exchange.status == OrderStatus.ON_HOLD:
        order_confirm(order=exchange, actor=actor, reason=f"return {ret.number} received")


def _release_exchange_credit(order: Order, ret: Return, actor: str) -> Decimal:
    """The exchange order was cancelled: the part of the goods' value that was to pay it is
    the customer's again. Returns that part (the caller refunds it)."""
    credit = ret.exchange_credit
    if credit > 0:
        ret.exchange_credit = ZERO
        order_event_record(order=order, type="return.exchange_cancelled", actor=actor,
                           data={"return": ret.number, "exchange_order": ret.exchange_order.number,
                                 "credit_released": str(credit)})
    return credit


def _refund_cancelled_exchange(order: Order, ret: Return, actor: str) -> None:
    """The exchange order was cancelled after the goods came back (by mail the replacement
    waits for them, and may still be cancelled before it ships): the value that was to pay it
    is refunded as the return's refund goes, under a key of its own."""
    exchange = ret.exchange_order
    if exchange is None or exchange.status != OrderStatus.CANCELLED:
        return
    credit = _release_exchange_credit(order, ret, actor)
    if credit <= 0:
        return
    ret.refund_amount += credit
    ret.updated_at = timezone.now()
    ret.save(update_fields=["exchange_credit", "refund_amount", "updated_at"])
    refunds_issue(request=RefundRequest(
        order=order, amount=credit, method=ret.refund_method, reference=ret.number,
        key=f"return-exchange:{ret.pk}", in_store=ret.mode == ReturnMode.IN_STORE,
        location_code=ret.location.code, actor=actor,
        context={"return": ret.number, "exchange_cancelled": exchange.number}))


# --- refunded, closed -------------------------------------------------------------------------
def _exchange_open(ret: Return) -> bool:
    if ret.exchange_order_id is None:
        return False
    status = Order.objects.filter(pk=ret.exchange_order_id).values_list("status", flat=True)[0]
    return status in ORDER_OPEN


def _advance(order: Order, ret: Return, refunds: Sequence[Refund], actor: str,
             lines: Iterable[ReturnLine] | None = None) -> None:
    """From received on, as far as the money and the exchange allow: refunded once every
    refund is issued, closed once nothing is left to do."""
    now = timezone.now()
    issued = bool(refunds) and all(r.status == RefundStatus.ISSUED for r in refunds)
    if ret.status == S.RECEIVED and ret.refund_amount > 0 and issued:
        _step(ret, "mark_refunded")
        ret.refunded_at = ret.updated_at = now
        ret.save(update_fields=["status", "refunded_at", "updated_at"])
        _audit(order, ret, "return.refunded", actor, lines)
    nothing_to_refund = ret.status == S.RECEIVED and ret.refund_amount == 0
    # A refunded return may get one more refund (its exchange cancelled afterwards): it closes
    # once that one is issued too.
    if ((ret.status == S.REFUNDED and issued) or nothing_to_refund) \
            and not _exchange_open(ret):
        _step(ret, "close")
        ret.closed_at = ret.updated_at = now
        ret.save(update_fields=["status", "closed_at", "updated_at"])
        _audit(order, ret, "return.closed", actor, lines)


def return_settle(*, return_number: str, actor: str) -> Return | None:
    """Move a received return on after its money or its exchange order changed (a PSP refund
    issued, the exchange shipped or cancelled): run by event handlers, idempotent."""
    ret = Return.objects.filter(number=return_number).first()
    if ret is None:
        return None
    with transaction.atomic():
        order, ret = _lock(ret)
        if ret.status in (S.RECEIVED, S.REFUNDED):
            _refund_cancelled_exchange(order, ret, actor)
            refunds = list(Refund.objects.filter(order=order, reference=ret.number))
            _advance(order, ret, refunds, actor)
    return ret


# --- cancel ---------------------------------------------------------------------------------
def return_cancel(*, ret: Return, reason: str, actor: str) -> Return:
    """The customer will not send or bring the goods after all: the announced units are free
    again, and an exchange order not yet handed over or shipped is cancelled with its stock."""
    with transaction.atomic():
        order, ret = _lock(ret)
        _step(ret, "cancel")
        exchange = ret.exchange_order
        if exchange is not None and exchange.status != OrderStatus.CANCELLED \
                and exchange.status not in ORDER_CANCELLABLE:
            # The replacement left already (sent at once, per the channel's policy): the
            # goods must come back to pay for it; customer service settles it otherwise.
            raise Conflict(
                _("The replacement order %(number)s has left already; the return cannot be "
                  "cancelled.") % {"number": exchange.number},
                code="exchange_already_sent", attr="status")
        ret.updated_at = timezone.now()
        ret.save(update_fields=["status", "updated_at"])
        if exchange is not None and exchange.status in ORDER_CANCELLABLE:
            order_cancel(order=exchange, reason=f"return {ret.number} cancelled", actor=actor)
        _audit(order, ret, "return.cancelled", actor, reason=reason)
    return ret


def returns_cancel_stale(*, now: datetime | None = None, limit: int = 200) -> int:
    """The beat sweep: cancel requested returns whose goods never came (ARCHITECTURE.md rule
    8, a timer in the database: their registration time). An in-store exchange holds a
    replacement on the store's shelf, so it goes after a day; everything else after
    `RETURN_REQUESTED_DAYS`. A return whose replacement has left already stays for customer
    service. Returns how many were cancelled."""
    now = now or timezone.now()
    stale = Q(created_at__lte=now - timedelta(days=settings.RETURN_REQUESTED_DAYS)) | Q(
        mode=ReturnMode.IN_STORE, exchange_order__isnull=False,
        created_at__lte=now - timedelta(days=1))
    cancelled = 0
    for ret in Return.objects.filter(stale, status=S.REQUESTED).order_by("created_at")[:limit]:
        try:
            return_cancel(ret=ret, reason="the goods never came", actor="returns sweep")
        except Conflict:
            continue  # taken on meanwhile, or its replacement left: not ours to cancel
        cancelled += 1
    return cancelled
