"""Telling the warehouse to stop a parcel whose goods a customer took at a store, through the
attempt mechanism (`oms.core.attempts`), kind ``wms_stop``, one attempt per accepted offer.

The stop goes to the parcel's location through its warehouse adapter
(`fulfillment.adapters.wms`, `WarehouseGateway.stop`): the same endpoint and signature as a
dispatch, payload type ``fulfillment.stop`` with the units to stop and what is left of the
parcel, message id ``stop_<offer id>`` (stable across retries: the warehouse drops
duplicates). The answer decides (`visits.stop_outcomes`):

- 2xx: stopped; 404 or 410: the warehouse does not know the parcel (its dispatch never
  arrived), as good as stopped;
- 409: too late, the warehouse already picked or shipped it (a definite answer, so the
  attempt succeeds and the accept is undone);
- any other 4xx: refused for good, the attempt is given up at once and staff are told;
- 5xx, 408, 429, timeouts: tried again with backoff (`WMS_BACKOFF_BASE_SECONDS`), given up
  after `WMS_MAX_ATTEMPTS`; a retry from the admin asks again.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from fulfillment.adapters.wms import Dispatch, WarehouseGateway, default_gateway
from fulfillment.dispatch import WarehouseCallKind
from fulfillment.models import FulfillmentOrder
from oms.core.attempts.kinds import Outcome, kind_register
from oms.core.attempts.models import Attempt
from oms.orders.models import Order
from oms.orders.services import order_lock
from visits.models import PickupOffer
from visits.states import ShipmentStop
from visits.stop_outcomes import (
    offer_units,
    shipment_stop_failed,
    shipment_stopped,
    shipment_too_late,
)

TOO_LATE_STATUS = 409
UNKNOWN_PARCEL = {404, 410}
RETRYABLE_4XX = {408, 425, 429}


def stop_payload(offer: PickupOffer, parcel: FulfillmentOrder) -> dict[str, Any]:
    """What the warehouse receives: which units of which parcel not to send, and what is left
    of the parcel (nothing when it is cancelled)."""
    return {
        "type": "fulfillment.stop",
        "id": parcel.pk,
        "order": parcel.order.number,
        "location": parcel.location.code,
        "status": parcel.status,
        "stop": [{"sku": sku, "quantity": n} for sku, n in offer_units(offer).items()],
        "lines": [{"sku": ln.order_line.product_id, "quantity": ln.open_quantity}
                  for ln in parcel.lines.select_related("order_line").order_by("pk")
                  if ln.open_quantity],
        "reason": "collected_in_store",
    }


def answer_outcome(status: int | None, error: str) -> Outcome:
    """The warehouse's answer as an outcome: `stopped` says which way it went."""
    if status is not None and 200 <= status < 300:
        return Outcome.succeeded(status, stopped=True)
    if status == TOO_LATE_STATUS:
        return Outcome.succeeded(status, stopped=False)
    if status in UNKNOWN_PARCEL:
        # The warehouse does not know the parcel (its dispatch never arrived): nothing there
        # can ship it, so it is as good as stopped.
        return Outcome.succeeded(status, stopped=True)
    permanent = status is not None and 400 <= status < 500 and status not in RETRYABLE_4XX
    return Outcome.failed(error or f"HTTP {status}", status_code=status,
                          retryable=not permanent)


class ShipmentStopKind(WarehouseCallKind):
    name = "wms_stop"
    label = _("Stop a parcel at the warehouse")

    def task(self) -> Any:
        from visits import tasks

        return tasks.stop_shipment

    def prepare(self, attempt: Attempt) -> Dispatch | None:
        offer = (PickupOffer.objects.select_related("visit__location", "order")
                 .filter(pk=attempt.target_id).first())
        if offer is None or offer.shipment_stop != ShipmentStop.REQUESTED:
            return None
        parcel = FulfillmentOrder.objects.select_related("location", "order").get(
            pk=offer.fulfillment_id)
        return Dispatch(url=parcel.location.wms_url, secret=parcel.location.wms_secret,
                        message_id=f"stop_{offer.pk}", payload=stop_payload(offer, parcel))

    def perform(self, call: Dispatch, adapter: WarehouseGateway | None = None) -> Outcome:
        result = (adapter or default_gateway()).stop(call)
        return answer_outcome(result.status, result.error)

    def lock_target(self, target_id: int) -> tuple[Order, PickupOffer] | None:
        # The fixed order: the order row, then the offer (then its fulfilments, stock rows).
        order_id = PickupOffer.objects.filter(pk=target_id).values_list(
            "order_id", flat=True).first()
        if order_id is None:
            return None
        order = order_lock(order=Order(pk=order_id))
        offer = PickupOffer.objects.select_for_update(of=("self",)).select_related(
            "visit__location", "order").get(pk=target_id)
        return order, offer

    def succeeded(self, attempt: Attempt, target: Any, outcome: Outcome) -> None:
        order, offer = target
        if offer.shipment_stop != ShipmentStop.REQUESTED:
            return  # settled another way meanwhile
        if outcome.detail.get("stopped"):
            shipment_stopped(order=order, offer=offer, held_at_warehouse=True)
        else:
            shipment_too_late(order=order, offer=offer)

    def dead(self, attempt: Attempt, target: Any, outcome: Outcome) -> None:
        order, offer = target
        shipment_stop_failed(order=order, offer=offer, error=outcome.error)

    def before_retry(self, attempt: Attempt, target: Any) -> bool:
        _order, offer = target
        if not can_proceed(offer.stop_request_again):
            return False
        offer.stop_request_again()
        offer.save(update_fields=["shipment_stop"])
        return True

    def describe(self, target_id: int) -> str:
        return str(_("parcel of pickup offer %(id)s") % {"id": target_id})

    def admin_url(self, target_id: int) -> str | None:
        return reverse("admin:visits_pickupoffer_change", args=[target_id])


WMS_STOP = kind_register(ShipmentStopKind())

