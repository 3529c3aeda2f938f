"""The return label of a return by mail, asked from the carrier through the one attempt
mechanism (kind ``return_label``): written with the return, asked after the commit, retried
with backoff; the customer gets the label when it is there (``return.label_created``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.core.attempts.kinds import AttemptKind, Outcome, Run, kind_register
from oms.core.attempts.models import Attempt
from oms.core.events import event_emit
from oms.orders.services import order_event_record, order_lock
from returns.adapters.carrier import LabelRequest, ReturnLabelCarrier, carrier_adapter
from returns.models import Return
from returns.payloads import return_payload
from returns.states import ReturnMode, ReturnStatus


class ReturnLabelKind(AttemptKind):
    name = "return_label"
    label = _("Return label from the carrier")
    max_attempts_setting = "RETURN_LABEL_MAX_ATTEMPTS"
    backoff_base_setting = "RETURN_LABEL_BACKOFF_BASE_SECONDS"

    def lease(self) -> timedelta:
        return timedelta(seconds=2 * settings.CARRIER_TIMEOUT_SECONDS + 30)

    def queue(self, runs: list[Run]) -> None:
        from returns import tasks  # the task module imports this one

        for attempt_id, tries in runs:
            tasks.create_return_label.delay(attempt_id=attempt_id, tries=tries)

    def prepare(self, attempt: Attempt) -> LabelRequest | None:
        ret = (Return.objects.select_related("order", "location")
               .filter(pk=attempt.target_id, mode=ReturnMode.MAIL, label_url="",
                       status=ReturnStatus.REQUESTED).first())
        if ret is None:
            return None  # cancelled or received meanwhile, or labelled already
        return LabelRequest(reference=ret.number, sender=ret.order.delivery_address or {},
                            recipient={"name": ret.location.name, **(ret.location.address or {})})

    def perform(self, call: LabelRequest, adapter: ReturnLabelCarrier | None = None) -> Outcome:
        result = (adapter or carrier_adapter()).create_return_label(call)
        if result.ok:
            return Outcome.succeeded(result.http_status, label_url=result.label_url,
                                     tracking_number=result.tracking_number,
                                     carrier=result.carrier)
        return Outcome.failed(result.error, status_code=result.http_status,
                              retryable=result.retryable)

    def lock_target(self, target_id: int) -> tuple[Any, Return]:
        ret = Return.objects.select_related("order").get(pk=target_id)
        order = order_lock(order=ret.order)
        return order, Return.objects.select_for_update(no_key=True).select_related(
            "location").get(pk=target_id)

    def succeeded(self, attempt: Attempt, target: Any, outcome: Outcome) -> None:
        order, ret = target
        ret.label_url = outcome.detail.get("label_url", "")
        ret.tracking_number = outcome.detail.get("tracking_number", "")
        ret.carrier = outcome.detail.get("carrier", "")
        ret.updated_at = timezone.now()
        ret.save(update_fields=["label_url", "tracking_number", "carrier", "updated_at"])
        payload = return_payload(ret, order)
        order_event_record(order=order, type="return.label_created", actor="carrier",
                           data={"return": ret.number, "tracking_number": ret.tracking_number})
        event_emit(topic="return.label_created", aggregate_type="return",
                   aggregate_id=ret.pk, payload=payload)

    def dead(self, attempt: Attempt, target: Any, outcome: Outcome) -> None:
        order, ret = target
        data = {"return": ret.number, "error": outcome.error, "attempts": attempt.tries}
        order_event_record(order=order, type="return.label_failed", actor="carrier",
                           data=data)
        event_emit(topic="return.label_failed", aggregate_type="return", aggregate_id=ret.pk,
                   payload={**return_payload(ret, order), "detail": data})

    def describe(self, target_id: int) -> str:
        return str(_("return label %(id)s") % {"id": target_id})

    def admin_url(self, target_id: int) -> str | None:
        return reverse("admin:returns_return_change", args=[target_id])


RETURN_LABEL = kind_register(ReturnLabelKind())
