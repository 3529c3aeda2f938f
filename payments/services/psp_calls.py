"""What a capture and a refund at the PSP share as attempt kinds (`oms.core.attempts`): the
call's arguments, the lease, the task that runs it, and how the PSP's answer becomes the
attempt's outcome. `captures` and `refunds` say what the call is about and what its success or
failure does to the payment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import ClassVar

from django.conf import settings

from oms.core.attempts.kinds import AttemptKind, Outcome, Run
from payments.adapters.psp import PaymentServiceProvider, psp_adapter


@dataclass(frozen=True)
class PspRequest:
    psp_reference: str
    amount: Decimal
    currency: str
    idempotency_key: str


class PspCallKind(AttemptKind):
    operation: ClassVar[str]  # the adapter's method: "capture" | "refund"
    task: ClassVar[str]  # the task in `payments.tasks` that runs one try

    def lease(self) -> timedelta:
        """Longer than one PSP call can take; a claim older than this belongs to a dead
        worker."""
        return timedelta(seconds=2 * settings.PSP_TIMEOUT_SECONDS + 30)

    def queue(self, runs: list[Run]) -> None:
        from payments import tasks  # the task module imports this one

        for attempt_id, tries in runs:
            getattr(tasks, self.task).delay(attempt_id=attempt_id, tries=tries)

    def perform(self, call: PspRequest,
                adapter: PaymentServiceProvider | None = None) -> Outcome:
        if not call.psp_reference:
            return Outcome.failed("the payment has no PSP reference", retryable=False)
        result = getattr(adapter or psp_adapter(), self.operation)(
            psp_reference=call.psp_reference, amount=call.amount, currency=call.currency,
            idempotency_key=call.idempotency_key)
        if result.ok:
            return Outcome.succeeded(result.http_status, reference=result.reference)
        return Outcome.failed(result.error, status_code=result.http_status,
                              retryable=result.retryable)
