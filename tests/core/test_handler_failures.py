"""A handler that keeps failing is dead-lettered, not lost, and can be run again."""

from __future__ import annotations

import pytest
from django.db import transaction

from oms.core.events import event_emit, event_handler_retry, on_event
from oms.core.models import HandlerFailure, OutboxEvent, ProcessedEvent
from oms.core.tasks import handle_event

FAILING_TOPIC = "test.failing"
broken = {"yes": True}
runs: list[str] = []


@on_event(FAILING_TOPIC)
def flaky_handler(event: OutboxEvent) -> None:
    if broken["yes"]:
        raise RuntimeError("downstream is down")
    runs.append(str(event.id))


HANDLER = f"{flaky_handler.__module__}.{flaky_handler.__qualname__}"


@pytest.mark.django_db
def test_a_handler_that_keeps_failing_is_dead_lettered_and_can_be_retried(
        django_capture_on_commit_callbacks):
    # Given an event whose handler fails every time
    broken["yes"], runs[:] = True, []
    with transaction.atomic():
        event = event_emit(topic=FAILING_TOPIC, aggregate_type="test", aggregate_id="1",
                           payload={})
    # When Celery has used up its retries (this is the last one)
    result = handle_event.apply(kwargs={"event_id": str(event.id), "handler": HANDLER},
                                retries=handle_event.max_retries, throw=False)
    # Then the failure is kept for the cockpit, and the handler did not count as done
    assert result.failed()
    failure = HandlerFailure.objects.get(event=event, handler=HANDLER)
    assert "downstream is down" in failure.error
    assert not ProcessedEvent.objects.filter(event=event, handler=HANDLER).exists()
    # When the downstream recovers and staff retry it
    broken["yes"] = False
    with django_capture_on_commit_callbacks(execute=True):
        event_handler_retry(failure=failure)
    # Then it ran once and the dead letter is resolved
    assert runs == [str(event.id)]
    failure.refresh_from_db()
    assert failure.resolved_at is not None
