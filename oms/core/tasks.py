"""Thin Celery tasks: each calls one service."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from oms.core import events, idempotency
from oms.core.attempts.services import attempt_run, attempts_requeue_due


@shared_task(ignore_result=True)
def relay_outbox(event_ids: list[str] | None = None) -> int:
    # A kick queued by the release before, which named its events. Deploy workers before web
    # servers: an old worker taking a new kick would not clear the mark (new kicks then wait for
    # the beat sweep). This branch can go once no such kick can still be queued.
    if event_ids is not None:
        return events.outbox_relay(event_ids=event_ids)
    return events.outbox_relay_queued()


class HandlerTask(Task):
    """Retries a failing handler with backoff; once Celery gives up, dead-letters it."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any,
                   einfo: Any) -> None:
        events.event_handler_failed(event_id=kwargs["event_id"], handler_name=kwargs["handler"],
                                    error=f"{type(exc).__name__}: {exc}")


@shared_task(
    base=HandlerTask,
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=12,
)
def handle_event(event_id: str, handler: str) -> bool:
    return events.event_handle(event_id=event_id, handler_name=handler)


@shared_task(ignore_result=True)
def deliver_webhook(attempt_id: int, tries: int) -> str:
    return attempt_run(attempt_id=attempt_id, tries=tries)


@shared_task(ignore_result=True)
def requeue_due_attempts() -> int:
    """The one beat sweep of every kind of outbound call (oms.core.attempts)."""
    return attempts_requeue_due()


@shared_task(ignore_result=True)
def sweep_idempotency_keys() -> int:
    return idempotency.idempotency_keys_sweep()
