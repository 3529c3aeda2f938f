"""Domain events through the transactional outbox (ARCHITECTURE.md rule 4).

* :func:`event_emit` writes an :class:`OutboxEvent` in the caller's transaction and, once that
  transaction commits, kicks the relay: it queues a relay run unless one is queued already
  (`relay_wakeup`). An event no registered handler can want (no handler for its topic, or
  only handlers whose payload filter rules it out) is written already published, with no kick.
  Whether a handler's `interest` (webhook subscriptions) wants a topic changes at run time, so
  it is asked only by the relay, fresh for every batch: a subscription created a moment before
  an event receives it. Inside :func:`events_batched` the rows wait and go in with one INSERT
  when the block ends.
* :func:`outbox_relay` publishes unpublished events: for every handler registered for the topic
  (and wanted by its `when` filter) it enqueues one Celery task, then marks the event published,
  all under ``FOR UPDATE SKIP LOCKED`` so concurrent relays never publish the same row. A beat
  sweep runs it too, which is what publishes events whose kick was lost (a crash between commit
  and publish, a broker outage).
  Handlers registered ``in_relay`` (they only write to the database) are run by the relay itself
  in its transaction instead: no task, no broker round trip, and their writes commit together
  with the event's published mark. One that fails there is queued as a task like the others.
* :func:`event_handle` runs one handler for one event at most once: it records a
  :class:`ProcessedEvent` row in the same transaction as the handler's work, so a task delivered
  twice finds the row and does nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from oms.core.commit_hooks import CommitHook, commit_hook
from oms.core.models import HandlerFailure, OutboxEvent
from oms.core.relay_wakeup import relay_starting, relay_wanted
from oms.core.sql import processed_event_insert

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxEvent], None]
# Called once per relay batch; returns which topics the handler currently wants.
Interest = Callable[[], Callable[[str], bool]]
# Looks at one event's payload: does the handler want this event?
Filter = Callable[[dict[str, Any]], bool]
ALL_TOPICS = "*"
_handlers: dict[str, dict[str, Handler]] = defaultdict(dict)
_interests: dict[str, Interest] = {}
_filters: dict[str, Filter] = {}
_in_relay: set[str] = set()
_names: dict[Handler, str] = {}


def on_event(*topics: str, interest: Interest | None = None, when: Filter | None = None,
             in_relay: bool = False, name: str | None = None) -> Callable[[Handler], Handler]:
    """Register a handler for topics (``"*"`` for every topic). Handlers must be idempotent in
    effect; :func:`event_handle` already guarantees they commit at most once per event.
    `interest` lets the relay skip queueing the handler for events it would ignore anyway
    (webhook fan-out with no subscriber for the topic), asked once per relay batch; `when` does
    the same by the event's payload (as JSON: the relay reads it back from the table), and is
    asked when the event is written too. For an event they rule out the handler is as if not
    registered: not queued, not run, nothing recorded; an event every handler's `when` rules
    out is written already published.
    `in_relay` is for handlers that only write to the database and queue anything that talks to
    another system after commit: the relay runs them itself (see the module docstring). A
    handler calling a PSP, a WMS or a mail server must not be one: it would hold the relay's
    transaction open for the call.
    `name` is the handler's name, stored in `ProcessedEvent` and `HandlerFailure` rows and sent
    in queued tasks; by default its module and qualified name. Give it to keep a handler's name
    when its module moves: an event handled under the old name is not handled again, and a
    task queued with it still finds the handler."""

    def register(handler: Handler) -> Handler:
        registered = name or f"{handler.__module__}.{handler.__qualname__}"
        _names[handler] = registered
        for topic in topics:
            _handlers[topic][registered] = handler
        if interest is not None:
            _interests[registered] = interest
        if when is not None:
            _filters[registered] = when
        if in_relay:
            _in_relay.add(registered)
        return handler

    return register


def handler_registered_name(handler: Handler) -> str:
    """The name `handler` is registered, stored and queued under (see `on_event`)."""
    return _names[handler]


def handlers_for(topic: str) -> dict[str, Handler]:
    return {**_handlers.get(ALL_TOPICS, {}), **_handlers.get(topic, {})}


def runs_in_relay(name: str) -> bool:
    return name in _in_relay


Wants = dict[str, Callable[[str], bool]]


def _current_wants() -> Wants:
    """Which topics each handler with an `interest` wants right now (read once per batch)."""
    return {name: interest() for name, interest in _interests.items()}


def _wanted(name: str, topic: str, payload: dict[str, Any], wants: Wants) -> bool:
    if name in wants and not wants[name](topic):
        return False
    if name not in _filters:
        return True
    try:
        return _filters[name](payload)
    except Exception:
        # Failing here would fail the write that emits the event, or every relay run from
        # this (oldest) event on: the handler gets it, and decides itself.
        logger.exception("the event filter of %s failed on a %s event; handled anyway",
                         name, topic)
        return True


def _listened(topic: str, payload: dict[str, Any], wants: Wants) -> bool:
    return any(_wanted(name, topic, payload, wants) for name in handlers_for(topic))


def handler_by_name(name: str) -> Handler | None:
    for handlers in _handlers.values():
        if name in handlers:
            return handlers[name]
    return None


@dataclass(frozen=True)
class NewEvent:
    topic: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("Domain events are written inside the transaction of the change.")


class _RelayKick(CommitHook):
    """The on-commit kick of one transaction. Events emitted later in the same transaction join
    it, so an order placing five events kicks the relay once, not five times. A kick registered
    inside a savepoint that rolls back is dropped by Django with it and is no longer found."""

    label = "relay kick"

    def __init__(self, transaction_block: object) -> None:
        super().__init__(transaction_block)
        self.unpublished = 0  # an event no handler can want needs no relay run

    def run(self) -> None:
        if self.unpublished:
            relay_wanted()


def _relay_kick() -> _RelayKick:
    """This transaction's kick, registered on commit at its first event."""
    return commit_hook(_RelayKick, _RelayKick)


# The rows of the innermost `events_batched` block of this thread, written when it ends.
_batch: ContextVar[list[OutboxEvent] | None] = ContextVar("outbox_batch", default=None)


@contextmanager
def events_batched() -> Iterator[None]:
    """Write the events emitted in the block in one INSERT when it ends, in the same transaction,
    instead of one INSERT per emit: an order's intake emits four. Inside the block the rows are
    not in the table yet (nothing there reads them back), and a savepoint in it must not roll back
    while the block goes on: its events would still be written. If the block raises, its events
    are dropped with the rest of its work."""
    _require_transaction()
    if _batch.get() is not None:  # an outer block writes them
        yield
        return
    rows: list[OutboxEvent] = []
    token = _batch.set(rows)
    try:
        yield
    finally:
        _batch.reset(token)
    if rows:
        OutboxEvent.objects.bulk_create(rows, batch_size=1000)


def events_emit(events: Iterable[NewEvent]) -> list[OutboxEvent]:
    _require_transaction()
    kick = _relay_kick()
    now = timezone.now()
    rows = [_row(e, now) for e in events]
    batch = _batch.get()
    if batch is None:
        OutboxEvent.objects.bulk_create(rows, batch_size=1000)
    else:
        batch.extend(rows)
    kick.unpublished += sum(r.published_at is None for r in rows)
    return rows


def event_emit(*, topic: str, aggregate_type: str, aggregate_id: str | int,
               payload: dict[str, Any]) -> OutboxEvent:
    return events_emit([NewEvent(topic, aggregate_type, str(aggregate_id), payload)])[0]


def _row(event: NewEvent, now: datetime) -> OutboxEvent:
    """The unsaved row of an event; one no registered handler can want is born published.
    Handlers with an `interest` count as wanting it: the relay asks them (`_listened` with no
    `wants` known assumes they do)."""
    listened = _listened(event.topic, event.payload, {})
    return OutboxEvent(topic=event.topic, aggregate_type=event.aggregate_type,
                       aggregate_id=str(event.aggregate_id), payload=event.payload,
                       created_at=now, published_at=None if listened else now)


def outbox_row(*, topic: str, aggregate_type: str, aggregate_id: str | int,
               payload: dict[str, Any], now: datetime) -> OutboxEvent:
    """The row `event_emit` would write, unsaved, for a caller that writes it in a statement of
    its own outside any transaction (a cart hold: `inventory.sql.hold.hold_write`). Call
    `outbox_row_committed` once it is written."""
    return _row(NewEvent(topic, aggregate_type, str(aggregate_id), payload), now)


def outbox_row_committed(event: OutboxEvent) -> None:
    """An `outbox_row` is committed: kick the relay for it, if anyone wants it."""
    if event.published_at is None:
        # robust: with the broker down the write stands and the beat sweep publishes later
        transaction.on_commit(relay_wanted, robust=True)


def outbox_relay_queued() -> int:
    """A queued relay run (a commit's kick or the beat sweep): publish the oldest batch of
    unpublished events. If the batch was full, more are waiting: queue the next run."""
    relay_starting()
    published = outbox_relay()
    if published >= settings.OUTBOX_BATCH_SIZE:
        relay_wanted()
    return published


def outbox_relay(*, event_ids: Iterable[str | UUID] | None = None, limit: int | None = None) -> int:
    """Publish up to `limit` unpublished events (only those of `event_ids` if given), oldest
    first; returns the count."""
    from oms.core import tasks

    limit = limit or settings.OUTBOX_BATCH_SIZE
    with transaction.atomic():
        batch = _unpublished(event_ids, limit)
        wants = _current_wants() if batch else {}
        for event in batch:
            for name, handler in handlers_for(event.topic).items():
                if not _wanted(name, event.topic, event.payload, wants):
                    continue
                if runs_in_relay(name) and _handle_in_relay(event, name, handler):
                    continue
                tasks.handle_event.delay(event_id=str(event.id), handler=name)
        if batch:
            OutboxEvent.objects.filter(id__in=[e.id for e in batch]).update(
                published_at=timezone.now()
            )
    return len(batch)


def _unpublished(event_ids: Iterable[str | UUID] | None, limit: int) -> list[OutboxEvent]:
    """The oldest unpublished events (of `event_ids` if given), locked; rows another relay
    holds are skipped, so concurrent relays never publish the same event."""
    events = OutboxEvent.objects.filter(published_at__isnull=True)
    if event_ids is not None:
        events = events.filter(id__in=list(event_ids))
    return list(events.order_by("created_at").select_for_update(skip_locked=True)[:limit])


def _handle_in_relay(event: OutboxEvent, name: str, handler: Handler) -> bool:
    """Run an in-relay handler in a savepoint, at most once per event. False if it failed: its
    writes are undone and the caller queues it as a task, which retries it with backoff."""
    try:
        with transaction.atomic():
            if _mark_processed(event.id, name):
                handler(event)
    except Exception:
        logger.warning("handler %s failed in the relay on event %s (%s); queued as a task",
                       name, event.id, event.topic, exc_info=True)
        return False
    return True


def _mark_processed(event_id: str | UUID, handler_name: str) -> bool:
    """Record that `handler_name` processes the event in this transaction; False if it already
    did (or another transaction is doing it and commits first)."""
    return processed_event_insert(event_id=event_id, handler=handler_name, at=timezone.now())


def event_handle(*, event_id: str | UUID, handler_name: str) -> bool:
    """Run one handler for one event unless it already ran; True if it ran now."""
    handler = handler_by_name(handler_name)
    if handler is None:
        logger.error("no handler named %s for event %s", handler_name, event_id)
        return False
    with transaction.atomic():
        event = OutboxEvent.objects.filter(id=event_id).first()
        if event is None or not _mark_processed(event.id, handler_name):
            return False
        handler(event)
        HandlerFailure.objects.filter(event=event, handler=handler_name,
                                      resolved_at__isnull=True).update(resolved_at=timezone.now())
    return True


def event_handler_failed(*, event_id: str | UUID, handler_name: str, error: str) -> None:
    """Celery gave up on a handler: keep it as a dead letter for the cockpit to retry."""
    with transaction.atomic():
        if not OutboxEvent.objects.filter(id=event_id).exists():
            return
        HandlerFailure.objects.update_or_create(
            event_id=event_id, handler=handler_name,
            defaults={"error": error[:5000], "failed_at": timezone.now(), "resolved_at": None},
        )
    logger.error("handler %s gave up on event %s: %s", handler_name, event_id, error)


def event_handler_retry(*, failure: HandlerFailure) -> None:
    """Queue a dead-lettered handler again (it still runs at most once per event)."""
    from oms.core import tasks

    transaction.on_commit(lambda: tasks.handle_event.delay(
        event_id=str(failure.event_id), handler=failure.handler), robust=True)
