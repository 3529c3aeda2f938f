"""Which domain event notifies the customer of what. Each handler runs at most once per event,
in the outbox relay's transaction (or `event_handle`'s when a failure is retried as a task); it
only writes the notification rows (sending happens after commit, see `services.py`).

- `order.confirmed` → order confirmation;
- `fulfillment.shipped` → shipped, with the carrier's tracking link (not for kind `pickup`:
  click-and-collect tells the customer when the order is ready);
- `fulfillment.rejected`, `fulfillment.resourced` → delay, naming the delayed and the cancelled
  items; items unavailable instead when nothing of that fulfilment order still comes;
- `order.lines_cancelled` with reason `no_stock` → items unavailable, unless a fulfilment event
  covers it (below);
- `fulfillment.delivered` → delivered, with a feedback request;
- `fulfillment.ready_for_pickup` → ready for pickup, with the store, the deadline, the pickup
  code and its QR image; `fulfillment.pickup_reminder` → the same, "tomorrow is the last day"
  (both only while the pickup still waits: a customer who came already hears nothing);
- `fulfillment.pickup_expired` → not collected: the items went back on sale, and money paid
  online comes back;
- `fulfillment.picked_up` → nothing: the customer was at the counter;
- `return.requested` → return registered: what comes back, where to (the store, or the site a
  parcel goes to), the refund method and the estimated amount, an exchange order; by mail the
  label, or that it follows in a separate email (not once the return was cancelled);
- `return.label_created` → the return label: its link, the carrier and tracking number, how to
  pack;
- `return.received` → return received: what came back, what was refused and why, and the
  refund that follows (or that there is none, e.g. the exchange took the value);
- `refund.issued` of a return (its reference is the return's number) → refund: the amount and
  where the money went (card or PayPal, cash at the store's till, a store credit with its code
  and balance, credited against the invoice). A refund split over two payments is two events,
  two notices; the store credit's code is put in when the email is sent (`return_notices.py`);
- `return.label_failed`, `return.refunded`, `return.closed`, `return.cancelled` → nothing:
  customer service handles a failed label, and the others repeat what the customer heard;
- `pickup_offer.made` → take it with you now: the store the customer is in has their parcel's
  goods (app push only: the offer lasts minutes);
- `pickup_offer.withdrawn` → parcel on its way after all: an accepted offer was undone because
  the warehouse had already packed or shipped the parcel, so the store prepares nothing (push
  and email: the customer may have left the store);
- `dunning.notice` (finance's dunning sweep) → payment reminder, numbered dunning notice or,
  at the last level, the collection agency: the invoice, what was paid or credited, the fees
  and the open amount (email only; not once the item was paid, written off or disputed
  meanwhile).

One notice per stock incident: a rejection that cancels units usually also cancels them on the
order (`order.lines_cancelled`, reason `no_stock`) in the same transaction. The fulfilment event
carries more (what is delayed, what is cancelled), so it notifies; the order event notifies only
when no `fulfillment.rejected`/`fulfillment.resourced` event of the same order, written within
`NOTIFICATION_INCIDENT_WINDOW` of it, lists at least the same cancelled units.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_datetime

from finance.models import OpenItem
from finance.states import OpenItemStatus
from fulfillment.models import FulfillmentOrder
from fulfillment.states import FulfillmentKind, FulfillmentStatus
from notifications import content, dunning_notices, pickup, return_notices
from notifications.models import NotificationChannel, NotificationKind
from notifications.services import notifications_create
from oms.core.events import Handler, on_event
from oms.core.models import OutboxEvent
from oms.orders.models import Order
from payments.models import Refund
from returns.models import Return
from returns.states import ReturnStatus

logger = logging.getLogger(__name__)

DELAY_TOPICS = ("fulfillment.rejected", "fulfillment.resourced")
NO_STOCK = "no_stock"

# A handler's name is stored (`ProcessedEvent`, `HandlerFailure` rows) and travels in queued
# `handle_event` tasks. These keep the names they had while this package lived in
# `fulfillment`, so an event handled before a deploy is not handled again and a queued retry
# or a dead letter retried from the cockpit still finds its handler.
STORED_AS = "fulfillment.notifications.handlers"


def _notifies(*topics: str) -> Callable[[Handler], Handler]:
    """`on_event` for a handler of this module: run in the relay (it only writes rows), under
    its stored name."""

    def register(handler: Handler) -> Handler:
        return on_event(*topics, in_relay=True,
                        name=f"{STORED_AS}.{handler.__qualname__}")(handler)

    return register


def _order(event: OutboxEvent, key: str) -> Order | None:
    number = event.payload.get(key)
    order = Order.objects.select_related("customer").filter(number=str(number)).first()
    if order is None:
        logger.warning("no order %r for event %s (%s): nothing to notify",
                       number, event.id, event.topic)
    return order


@_notifies("order.confirmed")
def notify_order_confirmed(event: OutboxEvent) -> None:
    order = _order(event, "number")
    if order is not None:
        notifications_create(event=event, order=order, kind=NotificationKind.ORDER_CONFIRMATION,
                             context=lambda: content.order_confirmation_context(order))


def _is_pickup(event: OutboxEvent) -> bool:
    if "kind" in event.payload:
        return event.payload["kind"] == FulfillmentKind.PICKUP
    return FulfillmentOrder.objects.filter(pk=event.payload.get("id"),
                                           kind=FulfillmentKind.PICKUP).exists()


@_notifies("fulfillment.shipped")
def notify_shipped(event: OutboxEvent) -> None:
    if _is_pickup(event):
        return  # click-and-collect tells the customer when the order is ready for pickup
    order = _order(event, "order")
    if order is not None:
        notifications_create(event=event, order=order, kind=NotificationKind.SHIPPED,
                             context=lambda: content.shipped_context(order, event.payload))


@_notifies(*DELAY_TOPICS)
def notify_delay(event: OutboxEvent) -> None:
    order = _order(event, "order")
    if order is None:
        return
    delayed = content.delayed_units(event.payload)
    cancelled = content.units_of(event.payload.get("cancelled"))
    if delayed is not None and not delayed and cancelled:
        # nothing of this fulfilment order still comes: it is not late, it is unavailable
        notifications_create(
            event=event, order=order, kind=NotificationKind.ITEMS_UNAVAILABLE,
            context=lambda: content.items_unavailable_context(order, cancelled),
        )
    else:
        notifications_create(event=event, order=order, kind=NotificationKind.DELAY,
                             context=lambda: content.delay_context(order, event.payload))


def covered_by_fulfillment_event(event: OutboxEvent, order_number: str,
                                 cancelled: Counter[str]) -> bool:
    """Did a rejection or re-sourcing of the same order, written around the same time, already
    announce these cancelled units?"""
    window = settings.NOTIFICATION_INCIDENT_WINDOW
    announced: Counter[str] = Counter()
    for payload in OutboxEvent.objects.filter(
        topic__in=DELAY_TOPICS, payload__order=order_number,
        created_at__range=(event.created_at - window, event.created_at + window),
    ).values_list("payload", flat=True):
        announced += content.units_of(payload.get("cancelled"))
    return all(announced[sku] >= quantity for sku, quantity in cancelled.items())


@_notifies("order.lines_cancelled")
def notify_items_unavailable(event: OutboxEvent) -> None:
    detail: dict[str, Any] = event.payload.get("detail") or {}
    if detail.get("reason") != NO_STOCK:
        return  # the customer or the shop cancelled: they already know
    cancelled = content.units_of(detail.get("lines"))
    number = str(event.payload.get("number"))
    if not cancelled or covered_by_fulfillment_event(event, number, cancelled):
        return
    order = _order(event, "number")
    if order is not None:
        notifications_create(
            event=event, order=order, kind=NotificationKind.ITEMS_UNAVAILABLE,
            context=lambda: content.items_unavailable_context(order, cancelled),
        )


@_notifies("fulfillment.delivered")
def notify_delivered(event: OutboxEvent) -> None:
    order = _order(event, "order")
    if order is not None:
        notifications_create(event=event, order=order, kind=NotificationKind.DELIVERED,
                             context=lambda: content.delivered_context(order, event.payload))


def _pickup(event: OutboxEvent) -> FulfillmentOrder | None:
    fulfillment = (
        FulfillmentOrder.objects.select_related("order__customer", "location")
        .filter(pk=event.payload.get("id"), order__number=str(event.payload.get("order")),
                kind=FulfillmentKind.PICKUP)
        .first()
    )
    if fulfillment is None:
        logger.warning("no pickup %r of order %r for event %s (%s): nothing to notify",
                       event.payload.get("id"), event.payload.get("order"), event.id, event.topic)
    return fulfillment


def _still_waiting(fulfillment: FulfillmentOrder, event: OutboxEvent) -> bool:
    """Events are handled a little after they were written: by then the customer may have
    collected the order (or it was cancelled), and a reminder would only confuse."""
    if fulfillment.status == FulfillmentStatus.READY_FOR_PICKUP:
        return True
    logger.info("pickup %s is %s: no %s notice", fulfillment.pk, fulfillment.status, event.topic)
    return False


def _notify_waiting(event: OutboxEvent, kind: str) -> None:
    fulfillment = _pickup(event)
    if fulfillment is not None and _still_waiting(fulfillment, event):
        notifications_create(event=event, order=fulfillment.order, kind=kind,
                             fulfillment=fulfillment,
                             context=lambda: pickup.waiting_context(fulfillment, event.payload))


@_notifies("fulfillment.ready_for_pickup")
def notify_ready_for_pickup(event: OutboxEvent) -> None:
    _notify_waiting(event, NotificationKind.PICKUP_READY)


@_notifies("fulfillment.pickup_reminder")
def notify_pickup_reminder(event: OutboxEvent) -> None:
    _notify_waiting(event, NotificationKind.PICKUP_REMINDER)


@_notifies("fulfillment.pickup_expired")
def notify_pickup_expired(event: OutboxEvent) -> None:
    fulfillment = _pickup(event)
    if fulfillment is not None:
        notifications_create(event=event, order=fulfillment.order,
                             kind=NotificationKind.PICKUP_EXPIRED, fulfillment=fulfillment,
                             context=lambda: pickup.expired_context(fulfillment, event.payload))


def _return(event: OutboxEvent, key: str) -> Return | None:
    ret = (Return.objects.select_related("order__customer", "location", "exchange_order")
           .filter(number=str(event.payload.get(key))).first())
    if ret is None:
        logger.warning("no return %r for event %s (%s): nothing to notify",
                       event.payload.get(key), event.id, event.topic)
    return ret


@_notifies("return.requested")
def notify_return_requested(event: OutboxEvent) -> None:
    ret = _return(event, "number")
    if ret is None:
        return
    if ret.status == ReturnStatus.CANCELLED:
        logger.info("return %s was cancelled: no %s notice", ret.number, event.topic)
        return
    notifications_create(event=event, order=ret.order, kind=NotificationKind.RETURN_REQUESTED,
                         context=lambda: return_notices.requested_context(ret, event.payload))


@_notifies("return.label_created")
def notify_return_label(event: OutboxEvent) -> None:
    ret = _return(event, "number")
    if ret is not None and (event.payload.get("label_url") or ret.label_url):
        notifications_create(event=event, order=ret.order, kind=NotificationKind.RETURN_LABEL,
                             context=lambda: return_notices.label_context(ret, event.payload))


@_notifies("return.received")
def notify_return_received(event: OutboxEvent) -> None:
    ret = _return(event, "number")
    if ret is not None:
        notifications_create(event=event, order=ret.order,
                             kind=NotificationKind.RETURN_RECEIVED,
                             context=lambda: return_notices.received_context(ret, event.payload))


@_notifies("refund.issued")
def notify_refund_issued(event: OutboxEvent) -> None:
    reference = str(event.payload.get("reference") or "")
    # Refunds of other causes (none today) have their own notices, or none.
    ret = (Return.objects.select_related("order__customer", "location")
           .filter(number=reference).first()) if reference else None
    if ret is None:
        return
    refund = (Refund.objects.select_related("payment", "store_credit")
              .filter(pk=event.payload.get("id"), reference=ret.number).first())
    if refund is None:
        logger.warning("no refund %r of return %s for event %s: nothing to notify",
                       event.payload.get("id"), ret.number, event.id)
        return
    notifications_create(event=event, order=ret.order, kind=NotificationKind.REFUND_ISSUED,
                         refund=refund,
                         context=lambda: return_notices.refund_context(refund, ret,
                                                                       event.payload))


@_notifies("pickup_offer.made")
def notify_pickup_offer(event: OutboxEvent) -> None:
    """The customer is in the store and it has their parcel's goods: an app push only (it
    lasts minutes; a mail would arrive after it)."""
    order = _order(event, "order")
    if order is not None:
        payload = event.payload
        notifications_create(
            event=event, order=order, kind=NotificationKind.PICKUP_OFFER,
            only=[NotificationChannel.PUSH],
            context=lambda: {**content.base_context(order),
                             "store": payload.get("store_name") or payload.get("store"),
                             "items": content.items(content.units_of(payload.get("lines"))),
                             "expires_at": parse_datetime(str(payload.get("expires_at"))),
                             "offer": payload["id"]})


@_notifies("pickup_offer.withdrawn")
def notify_pickup_offer_withdrawn(event: OutboxEvent) -> None:
    """The customer accepted an offer, but the warehouse had already packed or shipped the
    parcel: the store pickup is off and the parcel comes as planned. Push and email, on every
    channel as usual: the customer may have left the store and should not come back for
    goods nobody is preparing."""
    order = _order(event, "order")
    if order is not None:
        payload = event.payload
        notifications_create(
            event=event, order=order, kind=NotificationKind.PICKUP_OFFER_WITHDRAWN,
            context=lambda: {**content.base_context(order),
                             "store": payload.get("store_name") or payload.get("store"),
                             "items": content.items(content.units_of(payload.get("lines")))})


@_notifies("dunning.notice")
def notify_dunning_notice(event: OutboxEvent) -> None:
    """An open item reached a dunning level: the customer gets it by email (a notice with
    amounts and dates, kept as sent). Not when the money came in or the item was disputed
    between the sweep and now: the notice would only confuse."""
    item = (OpenItem.objects.select_related("order__customer")
            .filter(pk=event.payload.get("open_item")).first())
    if item is None:
        logger.warning("no open item %r for event %s: nothing to notify",
                       event.payload.get("open_item"), event.id)
        return
    if item.status != OpenItemStatus.OVERDUE:
        logger.info("open item %s is %s: no %s notice", item.pk, item.status, event.topic)
        return
    notifications_create(
        event=event, order=item.order, kind=NotificationKind.DUNNING_NOTICE,
        only=[NotificationChannel.EMAIL],
        context=lambda: dunning_notices.notice_context(item.order, event.payload))
