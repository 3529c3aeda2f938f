"""Handing new fulfilment orders to their location's system, at least once and without a lock
held while we wait for it: through the attempt mechanism (`oms.core.attempts`), kind
``wms_dispatch``.

A fulfilment order whose location has a push endpoint gets an attempt when it is created (or,
for an order on hold, when its payment is secured); the attempt is claimed with a lease, the
payload is read under that claim, sent with no transaction open (the WMS may call `accept`
before it answers), and the outcome recorded: sent, due again after a backoff, or dead after
`WMS_MAX_ATTEMPTS` (then ``fulfillment.dispatch_failed`` is published). A worker killed
mid-send leaves the attempt in flight; the beat sweep queues it again once
`WMS_DISPATCH_LEASE_SECONDS` have passed. The receiver may therefore see a dispatch twice,
always with the same `webhook-id` (``fo_<id>``): it drops the duplicate.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fulfillment.adapters.wms import Dispatch, WarehouseGateway, default_gateway
from fulfillment.models import FulfillmentOrder
from fulfillment.states import ENDED, DispatchMode
from oms.core.attempts.kinds import AttemptKind, Outcome, Run, kind_register
from oms.core.attempts.models import Attempt
from oms.core.attempts.selectors import attempt_column, attempt_of
from oms.core.attempts.services import attempt_retry, attempt_run_for, attempts_create
from oms.core.attempts.states import AttemptStatus
from oms.core.events import event_emit
from oms.orders.models import Order
from oms.orders.services import order_lock
from oms.orders.states import OrderStatus


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
        "type": "fulfillment.dispatch",  # a stop (visits.stop) is "fulfillment.stop"
        "id": fo.pk,
        "order": order.number,
        "location": fo.location.code,
        "kind": fo.kind,
        "status": fo.status,
        "customer": {"name": order.customer.name, "email": order.customer.email,
                     "phone": order.customer.phone},
        "delivery": delivery,
        "lines": [{"sku": ln.order_line.product_id, "quantity": ln.open_quantity}
                  for ln in fo.lines.select_related("order_line").order_by("pk")
                  if ln.open_quantity],
        "created_at": fo.created_at.isoformat(),
    }


class WarehouseCallKind(AttemptKind):
    """A call to a location's system (a dispatch here, a parcel stop in `visits.stop`): tried,
    backed off and leased by the WMS settings, one Celery task per try."""

    max_attempts_setting = "WMS_MAX_ATTEMPTS"
    backoff_base_setting = "WMS_BACKOFF_BASE_SECONDS"

    def lease(self) -> timedelta:
        return timedelta(seconds=settings.WMS_DISPATCH_LEASE_SECONDS)

    def task(self) -> Any:
        """The Celery task that runs one try (imported late: the task module imports the
        kind's)."""
        raise NotImplementedError

    def queue(self, runs: list[Run]) -> None:
        task = self.task()
        for attempt_id, tries in runs:
            task.delay(attempt_id=attempt_id, tries=tries)


class WmsDispatchKind(WarehouseCallKind):
    name = "wms_dispatch"
    label = _("Dispatch to a location's system")

    def task(self) -> Any:
        from fulfillment import tasks

        return tasks.dispatch_fulfillment

    def prepare(self, attempt: Attempt) -> Dispatch | None:
        # Not the destination: only a transfer has one, and `wms_payload` reads it then.
        fo = (FulfillmentOrder.objects.select_related("location", "order__customer")
              .filter(pk=attempt.target_id).first())
        if fo is None or fo.status in ENDED:
            return None  # cancelled or re-sourced before it went out: nothing to send, ever
        return Dispatch(url=fo.location.wms_url, secret=fo.location.wms_secret,
                        message_id=f"fo_{fo.pk}", payload=wms_payload(fo))

    def perform(self, call: Dispatch, adapter: WarehouseGateway | None = None) -> Outcome:
        result = (adapter or default_gateway()).send(call)
        if result.ok:
            return Outcome.succeeded(result.status)
        return Outcome.failed(result.error or f"HTTP {result.status}", status_code=result.status)

    def dead(self, attempt: Attempt, target: Any, outcome: Outcome) -> None:
        fo = FulfillmentOrder.objects.select_related("order", "location").get(
            pk=attempt.target_id)
        event_emit(topic="fulfillment.dispatch_failed", aggregate_type="fulfillment",
                   aggregate_id=fo.pk,
                   payload={"id": fo.pk, "order": fo.order.number,
                            "location": fo.location.code, "error": outcome.error})

    def describe(self, target_id: int) -> str:
        return str(_("fulfilment order %(id)s") % {"id": target_id})

    def admin_url(self, target_id: int) -> str | None:
        return reverse("admin:fulfillment_fulfillmentorder_change", args=[target_id])


WMS_DISPATCH = kind_register(WmsDispatchKind())


def dispatch_plan(fulfillments: list[FulfillmentOrder], *, order_status: str,
                  now: datetime) -> list[FulfillmentOrder]:
    """Set how each fulfilment order goes out, on the instances: the ones whose location has
    a push endpoint are pushed (returned: create their attempts with `dispatches_enqueue` once
    they are saved), the others wait to be polled. While the order is on hold (payment not
    secured) nothing goes out: `dispatches_release_held` sends them on confirm."""
    if order_status == OrderStatus.ON_HOLD:
        for fo in fulfillments:
            fo.dispatch_mode = DispatchMode.HELD
        return []
    pushed = []
    for fo in fulfillments:
        if fo.location.wms_url:
            fo.dispatch_mode = DispatchMode.PUSHED
            pushed.append(fo)
        else:
            fo.dispatch_mode = DispatchMode.POLLED
    return pushed


def dispatches_enqueue(pushed: list[FulfillmentOrder]) -> None:
    """The dispatch attempts of the planned pushes (saved in this transaction), queued after
    the commit."""
    attempts_create(kind=WMS_DISPATCH, target_ids=[fo.pk for fo in pushed], fresh=True)


def _held() -> QuerySet[FulfillmentOrder]:
    return (FulfillmentOrder.objects.filter(dispatch_mode=DispatchMode.HELD)
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
        held = list(_held().filter(order_id=order_id).order_by("pk")
                    .select_for_update(of=("self",), no_key=True).select_related("location"))
        pushed = dispatch_plan(held, order_status=order.status, now=timezone.now())
        FulfillmentOrder.objects.bulk_update(held, ["dispatch_mode"])
        dispatches_enqueue(pushed)
    return len(held)


def fulfillment_dispatch(*, fulfillment_id: int, gateway: WarehouseGateway | None = None) -> str:
    """Send one fulfilment order to its location now, whatever its number of tries (a shell,
    a test); returns its attempt's status afterwards, or "skipped"."""
    return attempt_run_for(kind=WMS_DISPATCH, target_id=fulfillment_id, adapter=gateway)


def dispatch_retry(*, fulfillment: FulfillmentOrder) -> bool:
    """From the cockpit: try a dead (or waiting) dispatch again now."""
    attempt = attempt_of(kind=WMS_DISPATCH, target_id=fulfillment.pk)
    return attempt is not None and attempt_retry(attempt=attempt)


def with_dispatch_attempt(fulfillments: QuerySet[FulfillmentOrder]) -> QuerySet[FulfillmentOrder]:
    """`fulfillments` annotated with their dispatch attempt's status, tries and finish time,
    for lists that show `dispatch_summary`: read with the list, not one query per row."""
    return fulfillments.annotate(
        dispatch_attempt_status=attempt_column(WMS_DISPATCH, "status"),
        dispatch_attempt_tries=attempt_column(WMS_DISPATCH, "tries"),
        dispatch_attempt_finished_at=attempt_column(WMS_DISPATCH, "finished_at"))


def dispatch_summary(fo: FulfillmentOrder) -> dict[str, Any]:
    """How the fulfilment order went out, for the API: held, polled, or its attempt's status
    (pending, in_flight, succeeded, dead, cancelled) with the tries and when it succeeded.
    Uses the annotations of `with_dispatch_attempt` when the row has them."""
    if fo.dispatch_mode != DispatchMode.PUSHED:
        return {"status": fo.dispatch_mode, "attempts": 0, "dispatched_at": None}
    if hasattr(fo, "dispatch_attempt_status"):
        status, tries, finished = (fo.dispatch_attempt_status, fo.dispatch_attempt_tries,
                                   fo.dispatch_attempt_finished_at)
    else:
        attempt = attempt_of(kind=WMS_DISPATCH, target_id=fo.pk)
        status, tries, finished = (attempt.status, attempt.tries, attempt.finished_at) \
            if attempt is not None else (None, 0, None)
    if status is None:  # the attempt is created in the same transaction; not yet there
        return {"status": AttemptStatus.PENDING, "attempts": 0, "dispatched_at": None}
    return {"status": status, "attempts": tries,
            "dispatched_at": finished if status == AttemptStatus.SUCCEEDED else None}
