"""Handing new fulfilment orders to their location's system, at least once and without a lock
held while we wait for it.

A dispatch is claimed, sent, then recorded, in three steps:

1. claim: one conditional UPDATE bumps `dispatch_attempts` and sets `dispatch_due_at = now +
   lease` only while the attempt token still matches, and the payload is read under the row
   lock it took; commit. A duplicate task (same token) waits for the row lock, finds the counter
   moved on and does nothing.
2. send over HTTP with no transaction open: the WMS may call `accept` before it answers.
3. record the outcome: sent (one conditional UPDATE), or, under the row lock, due again after a
   backoff, or dead after WMS_MAX_ATTEMPTS.

A worker killed between 1 and 3 leaves the row pending with a passed lease; the beat sweep
(`dispatches_requeue_due`, every 10 s) queues it again. The receiver may therefore see a
dispatch twice, always with the same `webhook-id` (``fo_<id>``): it drops the duplicate.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from fulfillment.adapters.wms import Dispatch, WarehouseGateway, default_gateway
from fulfillment.models import FulfillmentLine, FulfillmentOrder
from fulfillment.states import ENDED, DispatchStatus
from oms.core.backoff import exponential_backoff
from oms.core.events import event_emit
from oms.core.model_sql import db_param, placeholders, select_models
from oms.orders.models import Order
from oms.orders.services import order_lock
from oms.orders.states import OrderStatus

logger = logging.getLogger(__name__)


def _lease() -> timedelta:
    return timedelta(seconds=settings.WMS_DISPATCH_LEASE_SECONDS)


def wms_payload(fo: FulfillmentOrder) -> dict[str, Any]:
    """What the location's system receives: enough to pick, pack and ship without calling us."""
    order = fo.order
    delivery: dict[str, Any] = {"method": order.delivery_method}
    if fo.destination_id is not None:  # a transfer goes to the store, not to the customer
        delivery = {"method": "ship", "address": fo.destination.address,
                    "location": fo.destination.code}
    elif order.delivery_method == "pickup":
        delivery["location"] = order.pickup_location
    else:
        delivery["address"] = order.delivery_address
    return {
        "id": fo.pk,
        "order": order.number,
        "location": fo.location.code,
        "kind": fo.kind,
        "status": fo.status,
        "customer": {"name": order.customer.name, "email": order.customer.email,
                     "phone": order.customer.phone},
        "delivery": delivery,
        "lines": [{"sku": ln.order_line.product_id, "quantity": ln.open_quantity}
                  for ln in _lines(fo) if ln.open_quantity],
        "created_at": fo.created_at.isoformat(),
    }


def _lines(fo: FulfillmentOrder) -> list[FulfillmentLine]:
    # Read for every dispatch: written by hand, without compiling a query.
    return select_models(
        FulfillmentLine,
        "fulfillment_fulfillmentline.fulfillment_id = %s ORDER BY fulfillment_fulfillmentline.id",
        [fo.pk], related=["order_line"])


def _enqueue(pairs: list[tuple[int, int]]) -> None:
    from fulfillment import tasks

    def send() -> None:
        for fulfillment_id, attempt in pairs:
            tasks.dispatch_fulfillment.delay(fulfillment_id=fulfillment_id, attempt=attempt)

    transaction.on_commit(send, robust=True)


def dispatch_plan(fulfillments: list[FulfillmentOrder], *, order_status: str,
                  now: datetime) -> list[FulfillmentOrder]:
    """Set how each fulfilment order goes out, on the instances: the ones whose location has
    a push endpoint are pushed (returned: queue them after commit with `dispatches_enqueue`),
    the others wait to be polled. While the order is on hold (payment not secured) nothing goes
    out: `dispatches_release_held` sends them on confirm."""
    if order_status == OrderStatus.ON_HOLD:
        for fo in fulfillments:
            fo.dispatch_status = DispatchStatus.HELD
        return []
    pushed = []
    for fo in fulfillments:
        if fo.location.wms_url:
            fo.dispatch_status, fo.dispatch_due_at = DispatchStatus.PENDING, now + _lease()
            pushed.append(fo)
        else:
            fo.dispatch_status = DispatchStatus.POLLED
    return pushed


def dispatches_enqueue(pushed: list[FulfillmentOrder]) -> None:
    """Queue the first attempt of each planned push after commit."""
    _enqueue([(fo.pk, 0) for fo in pushed])


def _held() -> QuerySet[FulfillmentOrder]:
    return (FulfillmentOrder.objects.filter(dispatch_status=DispatchStatus.HELD)
            .exclude(status__in=ENDED))


def dispatches_release_held(*, order_number: str) -> int:
    """The order's payment is secured: send the fulfilment orders that waited for it."""
    # Most orders are paid at intake: one read finds nothing, and nothing is locked.
    order_id = _held().filter(order__number=order_number).values_list(
        "order_id", flat=True).first()
    if order_id is None:
        return 0
    with transaction.atomic():
        # the fixed order: order row, then its fulfilment rows
        order = order_lock(order=Order(pk=order_id))
        held = list(_held().filter(order_id=order_id)
                    .select_for_update(of=("self",), no_key=True).select_related("location"))
        pushed = dispatch_plan(held, order_status=order.status, now=timezone.now())
        FulfillmentOrder.objects.bulk_update(held, ["dispatch_status", "dispatch_due_at"])
        dispatches_enqueue(pushed)
    return len(held)


def _claim(fulfillment_id: int, attempt: int) -> Dispatch | None:
    with transaction.atomic():
        # One conditional UPDATE claims the attempt: the row lock and the re-check of the token
        # under it let exactly one of two duplicate tasks through.
        if not _dispatch_update(
                fulfillment_id, {"dispatch_attempts": attempt + 1,
                                 "dispatch_due_at": timezone.now() + _lease()},
                attempt=attempt, open_only=True):
            # cancelled or re-sourced before it went out: nothing to send, ever
            FulfillmentOrder.objects.filter(
                pk=fulfillment_id, dispatch_status=DispatchStatus.PENDING,
                dispatch_attempts=attempt, status__in=ENDED,
            ).update(dispatch_status=DispatchStatus.POLLED)
            return None
        # Read while the claim holds the row: a cancel waits until the payload is built, so what
        # is sent is the fulfilment as it stood when the attempt was taken.
        # Not the destination: only a transfer has one, and `wms_payload` reads it then.
        [fo] = select_models(FulfillmentOrder, "fulfillment_fulfillmentorder.id = %s",
                             [fulfillment_id], related=["location", "order__customer"])
        return Dispatch(url=fo.location.wms_url, secret=fo.location.wms_secret,
                        message_id=f"fo_{fo.pk}", payload=wms_payload(fo))


def _sent(fulfillment_id: int, now: datetime) -> bool:
    """The location took it: one UPDATE, if nobody changed the dispatch meanwhile."""
    return _dispatch_update(fulfillment_id, {"dispatch_status": DispatchStatus.SENT,
                                             "dispatched_at": now, "dispatch_error": ""})


def _dispatch_update(fulfillment_id: int, values: dict[str, Any], *, attempt: int | None = None,
                     open_only: bool = False) -> bool:
    """Set `values` on a pending dispatch (at `attempt`; of a fulfilment order that has not
    ended): True if it was. Every dispatch makes two of these, so they are written by hand
    instead of compiled."""
    def column(name: str) -> str:
        return connection.ops.quote_name(FulfillmentOrder._meta.get_field(name).column)

    where = [f"{column('id')} = %s", f"{column('dispatch_status')} = %s"]
    params: list[Any] = [fulfillment_id, DispatchStatus.PENDING]
    if attempt is not None:
        where.append(f"{column('dispatch_attempts')} = %s")
        params.append(attempt)
    if open_only:
        where.append(f"NOT ({column('status')} IN ({placeholders(len(ENDED))}))")
        params.extend(ENDED)
    assignments = ", ".join(f"{column(name)} = %s" for name in values)
    new = [db_param(FulfillmentOrder, name, value) for name, value in values.items()]
    table = connection.ops.quote_name(FulfillmentOrder._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignments} WHERE {' AND '.join(where)}",
                       [*new, *params])
        return cursor.rowcount == 1


def fulfillment_dispatch(*, fulfillment_id: int, attempt: int,
                         gateway: WarehouseGateway | None = None) -> str:
    """Send one fulfilment order to its location if `attempt` is still the current one."""
    dispatch = _claim(fulfillment_id, attempt)
    if dispatch is None:
        return "skipped"
    result = (gateway or default_gateway()).send(dispatch)
    now = timezone.now()
    if result.ok:
        if _sent(fulfillment_id, now):
            logger.info("dispatch of fulfilment %s: %s", fulfillment_id, DispatchStatus.SENT)
            return DispatchStatus.SENT
        # someone ended or retried the dispatch meanwhile: theirs is the status that stands
        return FulfillmentOrder.objects.values_list("dispatch_status", flat=True).get(
            pk=fulfillment_id)
    with transaction.atomic():
        fo = (FulfillmentOrder.objects.select_for_update(of=("self",), no_key=True)
              .select_related("order", "location").get(pk=fulfillment_id))
        if fo.dispatch_status != DispatchStatus.PENDING:
            return fo.dispatch_status
        fo.dispatch_error = result.error or f"HTTP {result.status}"
        if fo.dispatch_attempts >= settings.WMS_MAX_ATTEMPTS:
            fo.dispatch_status = DispatchStatus.DEAD
            event_emit(topic="fulfillment.dispatch_failed", aggregate_type="fulfillment",
                       aggregate_id=fo.pk,
                       payload={"id": fo.pk, "order": fo.order.number,
                                "location": fo.location.code, "error": fo.dispatch_error})
        else:
            fo.dispatch_due_at = now + exponential_backoff(
                fo.dispatch_attempts, settings.WMS_BACKOFF_BASE_SECONDS)
        fo.save(update_fields=["dispatch_status", "dispatch_error", "dispatch_due_at"])
        if fo.dispatch_status != DispatchStatus.PENDING:
            logger.info("dispatch of fulfilment %s: %s", fo.pk, fo.dispatch_status)
    return fo.dispatch_status


def dispatches_requeue_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """The beat sweep: queue every pending dispatch whose due time has passed (a failed attempt
    after its backoff, or a claim whose worker died); returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            FulfillmentOrder.objects.select_for_update(skip_locked=True)
            .filter(dispatch_status=DispatchStatus.PENDING, dispatch_due_at__lte=now)
            .order_by("dispatch_due_at").values_list("pk", "dispatch_attempts")[:limit]
        )
        if due:
            FulfillmentOrder.objects.filter(pk__in=[pk for pk, _ in due]).update(
                dispatch_due_at=now + _lease())
            _enqueue(due)
    return len(due)


def dispatch_retry(*, fulfillment: FulfillmentOrder) -> None:
    """From the cockpit: try a dead (or stuck) dispatch again now."""
    with transaction.atomic():
        fo = FulfillmentOrder.objects.select_for_update(no_key=True).get(pk=fulfillment.pk)
        fo.dispatch_status = DispatchStatus.PENDING
        fo.dispatch_due_at = timezone.now() + _lease()
        fo.save(update_fields=["dispatch_status", "dispatch_due_at"])
        _enqueue([(fo.pk, fo.dispatch_attempts)])
