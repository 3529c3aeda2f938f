"""Event handlers that exist only for the tests of the outbox. They register on import (the core
conftest imports this module), like real handlers do when their app loads."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from oms.core.events import handler_registered_name, on_event
from oms.core.models import OutboxEvent

TEST_TOPIC = "test.topic"
SLOW_TOPIC = "test.slow"
FLAKY_TOPIC = "test.flaky"


class Calls:
    """Thread-safe tally of handler calls by event id (handlers also run in worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, event_id: object) -> None:
        with self._lock:
            self._counts[str(event_id)] += 1

    def of(self, event_id: object) -> int:
        with self._lock:
            return self._counts[str(event_id)]


recorded = Calls()
slow_recorded = Calls()
flaky_attempts = Calls()


@on_event(TEST_TOPIC)
def record_test_event(event: OutboxEvent) -> None:
    recorded.add(event.id)


@on_event(SLOW_TOPIC)
def record_slowly(event: OutboxEvent) -> None:
    """Keeps its transaction open a while, so a concurrent second run overlaps with it."""
    time.sleep(0.3)
    slow_recorded.add(event.id)


@on_event(FLAKY_TOPIC)
def fail_the_first_time(event: OutboxEvent) -> None:
    flaky_attempts.add(event.id)
    if flaky_attempts.of(event.id) == 1:
        raise RuntimeError("the first attempt fails")


def handler_name(handler: Any) -> str:
    """The name `on_event` registered a handler under."""
    return handler_registered_name(handler)


IN_RELAY_TOPIC = "test.in_relay"
IN_RELAY_FLAKY_TOPIC = "test.in_relay_flaky"
WRITTEN_BEFORE_FAILING = "test.written_before_failing"
in_relay_recorded = Calls()
in_relay_flaky_attempts = Calls()


@on_event(IN_RELAY_TOPIC, in_relay=True)
def record_in_relay(event: OutboxEvent) -> None:
    in_relay_recorded.add(event.id)


@on_event(IN_RELAY_FLAKY_TOPIC, in_relay=True)
def write_then_fail_the_first_time(event: OutboxEvent) -> None:
    """Writes an event of its own, then fails on the first attempt: that write must not stay."""
    from oms.core.events import event_emit

    in_relay_flaky_attempts.add(event.id)
    event_emit(topic=WRITTEN_BEFORE_FAILING, aggregate_type="test",
               aggregate_id=str(event.id), payload={})
    if in_relay_flaky_attempts.of(event.id) == 1:
        raise RuntimeError("the first attempt fails")


FILTERED_TOPIC = "test.filtered"
SKIPPED = "skipped"
filtered_recorded = Calls()


@on_event(FILTERED_TOPIC, when=lambda payload: payload.get("aggregate") != SKIPPED)
def record_unless_skipped(event: OutboxEvent) -> None:
    filtered_recorded.add(event.id)


MEANWHILE_TOPIC = "test.meanwhile"
committed_meanwhile: list[str] = []


@on_event(MEANWHILE_TOPIC, in_relay=True)
def commit_another_event_meanwhile(event: OutboxEvent) -> None:
    """While the relay run handling this event is under way (after it read the outbox), another
    transaction, on a connection of its own, commits an event."""
    from django.db import connection, transaction

    from oms.core.events import event_emit

    def commit() -> None:
        try:
            with transaction.atomic():
                committed_meanwhile.append(str(event_emit(
                    topic=TEST_TOPIC, aggregate_type="test", aggregate_id="meanwhile",
                    payload={}).id))
        finally:
            connection.close()

    thread = threading.Thread(target=commit)
    thread.start()
    thread.join()


FAILING_FILTER_TOPIC = "test.failing_filter"
failing_filter_recorded = Calls()


def _broken_filter(payload: dict) -> bool:
    raise KeyError("a field the filter expected")


@on_event(FAILING_FILTER_TOPIC, when=_broken_filter)
def record_despite_a_broken_filter(event: OutboxEvent) -> None:
    failing_filter_recorded.add(event.id)
