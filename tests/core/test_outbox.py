"""Domain events leave through the transactional outbox (ARCHITECTURE.md rule 4)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from oms.celery import app as celery_app
from oms.core.commit_hooks import CommitHook, commit_hook
from oms.core.events import (
    event_emit,
    event_handle,
    events_batched,
    handlers_for,
    outbox_relay,
    runs_in_relay,
)
from oms.core.models import OutboxEvent, ProcessedEvent, WebhookDelivery
from oms.core.tasks import relay_outbox
from oms.core.webhooks.services import webhook_subscription_create, webhook_subscription_delete
from tests.core.handlers import (
    FAILING_FILTER_TOPIC,
    FILTERED_TOPIC,
    FLAKY_TOPIC,
    IN_RELAY_FLAKY_TOPIC,
    IN_RELAY_TOPIC,
    MEANWHILE_TOPIC,
    SKIPPED,
    SLOW_TOPIC,
    TEST_TOPIC,
    WRITTEN_BEFORE_FAILING,
    committed_meanwhile,
    fail_the_first_time,
    flaky_attempts,
    handler_name,
    in_relay_flaky_attempts,
    in_relay_recorded,
    record_despite_a_broken_filter,
    record_in_relay,
    record_slowly,
    record_test_event,
    record_unless_skipped,
    recorded,
    slow_recorded,
    write_then_fail_the_first_time,
)
from tests.core.support import BrokerQueues, QueuedTask
from tests.factories import (
    ApiClientFactory,
    OutboxEventFactory,
    StockLevelFactory,
    WebhookSubscriptionFactory,
)

RELAY = "oms.core.tasks.relay_outbox"
HANDLE = "oms.core.tasks.handle_event"
RECORDER = handler_name(record_test_event)


def emit(topic: str = TEST_TOPIC, aggregate_id: str = "1") -> OutboxEvent:
    return event_emit(topic=topic, aggregate_type="test", aggregate_id=aggregate_id,
                      payload={"aggregate": aggregate_id})


def queued_handlers(topic: str) -> list[str]:
    """The handlers of `topic` the relay queues as tasks (the others it runs itself)."""
    return sorted(name for name in handlers_for(topic) if not runs_in_relay(name))


def handle_tasks_for(broker: BrokerQueues, event: OutboxEvent) -> list[str]:
    """The handler names of the `handle_event` tasks queued for `event`."""
    return sorted(t.kwargs["handler"] for t in broker.tasks(HANDLE)
                  if t.kwargs["event_id"] == str(event.id))


@pytest.mark.django_db(transaction=True)  # outside the test's own transaction
def test_an_event_is_only_written_inside_the_transaction_of_its_change() -> None:
    # when an event is emitted outside any transaction
    # then it is refused: it could be written without the change it describes
    with pytest.raises(RuntimeError, match="inside the transaction"):
        emit()
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_event_rolled_back_with_its_change_is_never_published(broker: BrokerQueues) -> None:
    # when the transaction writing an event fails
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        emit()
        1 / 0  # noqa: B018

    # then neither the event nor a relay kick exists
    assert not OutboxEvent.objects.exists()
    assert broker.tasks() == []


@pytest.mark.django_db(transaction=True)
def test_one_transaction_sends_one_kick_for_all_its_events(broker: BrokerQueues) -> None:
    # when one transaction emits three events, one in a released savepoint and one in a
    # savepoint that rolls back
    with transaction.atomic():
        first = emit(aggregate_id="1")
        with transaction.atomic():
            second = emit(aggregate_id="2")
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            emit(aggregate_id="3")
            1 / 0  # noqa: B018

    # then the broker got one kick; the rolled-back event is no longer there
    assert len(broker.tasks(RELAY)) == 1
    assert OutboxEvent.objects.count() == 2

    # and the kicked relay publishes the two that exist
    assert run_kicked_relay() == 2
    assert published_ids() == {first.id, second.id}


def commit_event(aggregate_id: str) -> OutboxEvent:
    """An event emitted in a transaction of its own, committed."""
    with transaction.atomic():
        return emit(aggregate_id=aggregate_id)


def run_kicked_relay() -> int:
    """What a worker does with a kick: run the task (in this process)."""
    return relay_outbox()


def published_ids() -> set[Any]:
    return set(OutboxEvent.objects.exclude(published_at=None).values_list("id", flat=True))


def outbox_inserts(queries: CaptureQueriesContext) -> int:
    return sum(q["sql"].startswith('INSERT INTO "core_outboxevent"') for q in queries)


@pytest.mark.django_db(transaction=True)
def test_events_emitted_in_a_batch_are_written_together_when_the_block_ends(
        broker: BrokerQueues) -> None:
    # when three events are emitted in a batch, one of them in a nested batch
    with transaction.atomic(), CaptureQueriesContext(connection) as queries, events_batched():
        first = emit(aggregate_id="1")
        with events_batched():
            second = emit(aggregate_id="2")
        third = emit(aggregate_id="3")
        # then none is in the table before the outermost block ends
        assert not OutboxEvent.objects.exists()
    # and its end wrote all three with one statement
    assert outbox_inserts(queries) == 1
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 3
    # and the commit kicked the relay once, which publishes all three
    assert len(broker.tasks(RELAY)) == 1
    assert run_kicked_relay() == 3
    assert published_ids() == {first.id, second.id, third.id}


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_fails_writes_none_of_its_events(broker: BrokerQueues) -> None:
    with transaction.atomic():
        kept = emit(aggregate_id="kept")
        # when a batched block raises after emitting two events
        with pytest.raises(ZeroDivisionError), transaction.atomic(), events_batched():
            emit(aggregate_id="1")
            emit(aggregate_id="2")
            1 / 0  # noqa: B018
        # then a later emit is written at once again
        after = emit(aggregate_id="after")
        assert OutboxEvent.objects.filter(id=after.id).exists()
    # and only the events outside the failed block exist and are published
    assert set(OutboxEvent.objects.values_list("aggregate_id", flat=True)) == {"kept", "after"}
    assert len(broker.tasks(RELAY)) == 1
    assert run_kicked_relay() == 2
    assert published_ids() == {kept.id, after.id}


@pytest.mark.django_db(transaction=True)
def test_a_batch_is_only_opened_inside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"), events_batched():
        pass


@pytest.mark.django_db(transaction=True)
def test_a_commit_while_a_relay_run_is_queued_adds_no_second_one(broker: BrokerQueues) -> None:
    # given a committed event whose kick waits in the broker
    first = commit_event("1")

    # when another transaction commits an event before that run starts
    second = commit_event("2")

    # then the broker still holds one kick, and that run publishes both events
    assert len(broker.tasks(RELAY)) == 1
    assert run_kicked_relay() == 2
    assert published_ids() == {first.id, second.id}


@pytest.mark.django_db(transaction=True)
def test_a_commit_after_the_queued_run_started_queues_the_next_one(broker: BrokerQueues) -> None:
    # given a kicked relay run that has started (and published the first event)
    commit_event("1")
    broker.take_all()  # a worker took the kick
    assert run_kicked_relay() == 1

    # when another transaction commits an event
    second = commit_event("2")

    # then it queues a run of its own, which publishes it
    assert len(broker.tasks(RELAY)) == 1
    assert run_kicked_relay() == 1
    assert second.id in published_ids()


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_while_a_run_is_under_way_queues_the_next_run(
    broker: BrokerQueues,
) -> None:
    # given a kicked relay run, taken by a worker, for an event whose in-relay handler lets
    # another transaction commit an event after the run has read the outbox
    with transaction.atomic():
        emit(topic=MEANWHILE_TOPIC)
    broker.take_all()
    committed_meanwhile.clear()

    # when that run goes through
    assert run_kicked_relay() == 1

    # then the event committed meanwhile, which the run could not see, queued a run of its own
    [meanwhile] = committed_meanwhile
    assert len(broker.tasks(RELAY)) == 1
    assert run_kicked_relay() == 1
    assert str(meanwhile) in {str(i) for i in published_ids()}


@pytest.mark.django_db(transaction=True)
def test_a_lost_relay_run_holds_back_new_kicks_only_until_its_mark_expires(
    broker: BrokerQueues, settings: Any,
) -> None:
    # given a kick that was lost with its worker, its mark living for two seconds
    settings.OUTBOX_RELAY_MARK_SECONDS = 2
    commit_event("1")
    broker.take_all()  # and lost it
    assert broker.tasks(RELAY) == []

    # when an event commits within those seconds, and another after them
    commit_event("2")
    assert broker.tasks(RELAY) == []
    time.sleep(2.5)
    commit_event("3")

    # then the last one queues a run, which publishes all three
    assert len(broker.tasks(RELAY)) == 1
    assert run_kicked_relay() == 3


@pytest.mark.django_db(transaction=True)
def test_a_kick_that_could_not_be_sent_leaves_no_mark_behind(
    broker: BrokerQueues, unreachable_broker: None,
) -> None:
    # given a commit whose kick failed: the broker was down
    first = commit_event("1")

    # when the broker is back and the next transaction commits an event
    celery_app.conf.broker_url = django_settings.REDIS_URL
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    commit_event("2")

    # then that commit queued a run (no mark of the failed kick held it back); it publishes both
    assert len(broker.tasks(RELAY)) == 1
    assert run_kicked_relay() == 2
    assert first.id in published_ids()


@pytest.mark.django_db(transaction=True)
def test_a_relay_run_that_finds_a_full_batch_queues_the_next_one(
    broker: BrokerQueues, settings: Any,
) -> None:
    # given three unpublished events and batches of two
    settings.OUTBOX_BATCH_SIZE = 2
    with transaction.atomic():
        for index in range(3):
            emit(aggregate_id=str(index))
    broker.take_all()  # a worker took the kick

    # when the kicked run publishes a full batch
    assert run_kicked_relay() == 2

    # then it queued the next run itself, which publishes the rest
    assert broker.tasks(RELAY) == [QueuedTask(RELAY, [], {})]
    broker.take_all()
    assert run_kicked_relay() == 1
    # and a run that found less than a batch queues nothing more
    assert broker.tasks(RELAY) == []


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_while_the_relay_is_down_is_published_once_by_the_relay(
    broker: BrokerQueues,
) -> None:
    # given a webhook subscriber (so every handler wants the event), and an event committed
    # while no worker consumes the broker: the kick waits there unread
    WebhookSubscriptionFactory(topics=["*"])
    with transaction.atomic():
        event = emit()
    assert len(broker.tasks(RELAY)) == 1
    event.refresh_from_db()
    assert event.published_at is None

    # when the relay runs (as the beat sweep does)
    published = outbox_relay()

    # then the event is published once: one handle task per handler that is not run in the
    # relay, and one processed mark per handler that is
    assert published == 1
    event.refresh_from_db()
    assert event.published_at is not None
    assert handle_tasks_for(broker, event) == queued_handlers(TEST_TOPIC)
    assert RECORDER in queued_handlers(TEST_TOPIC)
    in_relay = sorted(set(handlers_for(TEST_TOPIC)) - set(queued_handlers(TEST_TOPIC)))
    assert sorted(ProcessedEvent.objects.filter(event=event)
                  .values_list("handler", flat=True)) == in_relay

    # when the relay runs again
    again = outbox_relay()

    # then nothing is published a second time
    assert again == 0
    assert handle_tasks_for(broker, event) == queued_handlers(TEST_TOPIC)


@pytest.mark.django_db(transaction=True)
def test_a_write_during_a_broker_outage_succeeds_and_its_event_waits_for_the_sweep(
    api: Any, unreachable_broker: None, caplog: pytest.LogCaptureFixture
) -> None:
    # given stock of 10, a subscriber to stock movements, and a broker that cannot be reached
    level = StockLevelFactory(on_hand=10)
    WebhookSubscriptionFactory(topics=["stock.movement_recorded"])

    # when a warehouse records a receipt (the relay kick after commit fails)
    response = api("wms").post("/api/v1/stock/movements", {
        "location": level.location.code, "sku": level.product.sku, "quantity": 5,
        "kind": "receipt", "reference": "ASN-OUTAGE"}, headers={"Idempotency-Key": "outage"})

    # then the client gets its answer, the change stands and the failed kick is logged
    assert response.status_code == 201
    level.refresh_from_db()
    assert level.on_hand == 15
    event = OutboxEvent.objects.get(topic="stock.movement_recorded")
    assert event.published_at is None
    assert any("on_commit" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")

    # when the broker is back and the beat sweep relays (tasks in-process here)
    celery_app.conf.task_always_eager = True
    published = outbox_relay()

    # then the event is published after all
    assert published == 1
    event.refresh_from_db()
    assert event.published_at is not None


@pytest.mark.django_db
def test_the_relay_runs_the_handlers_of_a_published_event_in_process() -> None:
    # given an unpublished event whose kick was lost
    event = OutboxEventFactory()

    # when the relay runs with tasks executed in-process (demo mode, unit tests)
    outbox_relay()

    # then the handler ran once and the event is marked published
    assert recorded.of(event.id) == 1
    assert ProcessedEvent.objects.filter(event=event, handler=RECORDER).count() == 1
    event.refresh_from_db()
    assert event.published_at is not None


@pytest.mark.django_db
def test_a_kick_queued_by_an_earlier_release_relays_only_the_events_it_names() -> None:
    # given two unpublished events
    kicked, other = OutboxEventFactory(), OutboxEventFactory()

    # when a kick that names the first (as kicks did before runs were coalesced) is run
    assert relay_outbox(event_ids=[str(kicked.id)]) == 1

    # then the other waits for the next run
    other.refresh_from_db()
    assert other.published_at is None
    assert recorded.of(other.id) == 0


@pytest.mark.django_db
def test_the_relay_publishes_in_batches_oldest_first() -> None:
    # given three unpublished events
    events = [OutboxEventFactory() for _ in range(3)]

    # when the relay runs with a batch of two
    assert outbox_relay(limit=2) == 2

    # then the two oldest are published, the newest waits for the next run
    published = set(OutboxEvent.objects.filter(published_at__isnull=False)
                    .values_list("id", flat=True))
    assert published == {events[0].id, events[1].id}
    assert outbox_relay(limit=2) == 1


@pytest.mark.django_db(transaction=True)
def test_two_relays_running_concurrently_never_publish_the_same_event_twice(
    broker: BrokerQueues, run_concurrently: Any,
) -> None:
    WebhookSubscriptionFactory(topics=["*"])  # every handler wants the events
    # given 200 committed events no relay has seen
    events = OutboxEventFactory.create_batch(200)

    # when two relays drain the outbox at the same time, in small batches so they interleave
    def drain(_index: int) -> int:
        total = 0
        while (published := outbox_relay(limit=10)) > 0:
            total += published
        return total

    counts = run_concurrently(2, drain)

    # then between them they published every event exactly once
    assert sum(counts) == 200
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()
    queued = [(t.kwargs["event_id"], t.kwargs["handler"]) for t in broker.tasks(HANDLE)]
    assert len(queued) == len(set(queued)), "an event was handed to a handler twice"
    assert set(queued) == {(str(e.id), h) for e in events for h in queued_handlers(TEST_TOPIC)}


@pytest.mark.django_db
def test_handling_an_event_twice_runs_the_handler_once() -> None:
    # given a published event
    event = OutboxEventFactory()

    # when its handle task is delivered twice
    first = event_handle(event_id=event.id, handler_name=RECORDER)
    second = event_handle(event_id=event.id, handler_name=RECORDER)

    # then the handler ran once
    assert (first, second) == (True, False)
    assert recorded.of(event.id) == 1
    assert ProcessedEvent.objects.filter(event=event, handler=RECORDER).count() == 1


@pytest.mark.django_db(transaction=True)
def test_handling_an_event_twice_at_the_same_time_runs_the_handler_once(
    run_concurrently: Any,
) -> None:
    # given a published event with a handler that takes a while
    event = OutboxEventFactory(topic=SLOW_TOPIC)

    # when two workers receive its handle task at the same moment
    results = run_concurrently(2, lambda _i: event_handle(
        event_id=event.id, handler_name=handler_name(record_slowly)))

    # then one ran the handler and the other found it done
    assert sorted(results) == [False, True]
    assert slow_recorded.of(event.id) == 1


@pytest.mark.django_db
def test_a_handler_that_fails_runs_again_on_the_next_delivery() -> None:
    # given an event whose handler fails the first time
    event = OutboxEventFactory(topic=FLAKY_TOPIC)
    name = handler_name(fail_the_first_time)

    # when the first delivery fails
    with pytest.raises(RuntimeError):
        event_handle(event_id=event.id, handler_name=name)

    # then it is not marked as processed, so the retry runs it, and only the retry counts
    assert not ProcessedEvent.objects.filter(event=event).exists()
    assert event_handle(event_id=event.id, handler_name=name) is True
    assert event_handle(event_id=event.id, handler_name=name) is False
    assert flaky_attempts.of(event.id) == 2
    assert ProcessedEvent.objects.filter(event=event, handler=name).count() == 1


@pytest.mark.django_db
def test_handling_with_an_unknown_handler_does_nothing() -> None:
    # given an event
    event = OutboxEventFactory()

    # when a task names a handler that no longer exists (e.g. removed in a deploy)
    ran = event_handle(event_id=event.id, handler_name="gone.handler")

    # then nothing runs and nothing is marked
    assert ran is False
    assert not ProcessedEvent.objects.exists()


@pytest.mark.slow
def test_a_real_worker_runs_the_handler_of_a_committed_event(celery_worker: Any) -> None:
    # given a Celery worker consuming the real Redis broker (fixture)
    # when an event is committed
    with transaction.atomic():
        event = emit(aggregate_id="worker")

    # then, through the relay kick and the handle task, the handler runs within a few seconds
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if ProcessedEvent.objects.filter(event_id=event.id, handler=RECORDER).exists():
            break
        time.sleep(0.05)
    assert ProcessedEvent.objects.filter(event_id=event.id, handler=RECORDER).exists(), \
        "the worker did not run the handler within 10 s"
    assert recorded.of(event.id) == 1
    event.refresh_from_db()
    assert event.published_at is not None


@pytest.mark.django_db(transaction=True)
def test_an_event_no_webhook_subscriber_wants_is_not_queued_for_fan_out(
    broker: BrokerQueues,
) -> None:
    # given a subscriber to another topic only
    WebhookSubscriptionFactory(topics=["order.placed"])
    with transaction.atomic():
        event = emit()
    # when the relay publishes the event
    outbox_relay()
    # then only the handlers that want it are queued
    queued = handle_tasks_for(broker, event)
    assert "oms.core.webhooks.handlers.fan_out_to_webhooks" not in queued
    assert RECORDER in queued


@pytest.mark.django_db(transaction=True)
def test_the_relay_runs_an_in_relay_handler_itself_once_without_a_task(
    broker: BrokerQueues,
) -> None:
    # given a committed event of a topic whose handler runs in the relay
    with transaction.atomic():
        event = emit(topic=IN_RELAY_TOPIC)

    # when the relay runs twice (the kick and the sweep)
    assert outbox_relay() == 1
    assert outbox_relay() == 0

    # then the handler ran once, marked as processed, and no task was queued for it
    assert in_relay_recorded.of(event.id) == 1
    assert ProcessedEvent.objects.filter(event=event,
                                         handler=handler_name(record_in_relay)).count() == 1
    assert handle_tasks_for(broker, event) == []
    event.refresh_from_db()
    assert event.published_at is not None


@pytest.mark.django_db(transaction=True)
def test_an_in_relay_handler_that_fails_is_undone_and_queued_as_a_task(
    broker: BrokerQueues,
) -> None:
    # given a committed event whose in-relay handler writes something and then fails once
    with transaction.atomic():
        event = emit(topic=IN_RELAY_FLAKY_TOPIC)
    name = handler_name(write_then_fail_the_first_time)

    # when the relay publishes it
    assert outbox_relay(event_ids=[event.id]) == 1

    # then the event is published, the handler's write is gone, it is not marked processed,
    # and it waits in the broker as a task, which retries it with backoff
    event.refresh_from_db()
    assert event.published_at is not None
    assert not OutboxEvent.objects.filter(topic=WRITTEN_BEFORE_FAILING).exists()
    assert not ProcessedEvent.objects.filter(event=event, handler=name).exists()
    assert handle_tasks_for(broker, event) == [name]

    # when the worker runs that task
    assert event_handle(event_id=event.id, handler_name=name) is True

    # then the handler's work is there once
    assert in_relay_flaky_attempts.of(event.id) == 2
    assert OutboxEvent.objects.filter(topic=WRITTEN_BEFORE_FAILING).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_in_relay_handler_already_run_by_a_task_is_not_run_again_by_the_relay(
    broker: BrokerQueues,
) -> None:
    # given an event whose handler a task already ran, while the event is still unpublished
    # (a relay queued the task, then crashed before its commit)
    with transaction.atomic():
        event = emit(topic=IN_RELAY_TOPIC)
    assert event_handle(event_id=event.id, handler_name=handler_name(record_in_relay))

    # when the relay publishes the event
    assert outbox_relay() == 1

    # then the handler does not run a second time
    assert in_relay_recorded.of(event.id) == 1


@pytest.mark.django_db(transaction=True)
def test_a_relay_that_crashes_before_its_commit_leaves_in_relay_work_undone_for_the_next(
    broker: BrokerQueues,
) -> None:
    # given a committed event whose handler runs in the relay
    with transaction.atomic():
        event = emit(topic=IN_RELAY_TOPIC)

    # when a relay runs its handler but dies before committing
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        outbox_relay(event_ids=[event.id])
        1 / 0  # noqa: B018

    # then nothing of it stands: the event is unpublished and not marked processed
    event.refresh_from_db()
    assert event.published_at is None
    assert not ProcessedEvent.objects.filter(event=event).exists()

    # and the next relay runs the handler and publishes the event
    assert outbox_relay() == 1
    assert ProcessedEvent.objects.filter(event=event,
                                         handler=handler_name(record_in_relay)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_event_nobody_subscribed_to_is_relayed_and_published_without_a_task(
    broker: BrokerQueues,
) -> None:
    # given a topic no handler is registered for and no webhook subscription names
    # when a transaction emits an event of it
    with transaction.atomic():
        event = emit(topic="test.unheard")

    # then the relay is kicked (a subscription made in the meantime must get the event), and
    # the relay, finding nobody, publishes it without queueing anything
    assert len(broker.tasks(RELAY)) == 1
    assert run_kicked_relay() == 1
    event.refresh_from_db()
    assert event.published_at is not None
    assert broker.tasks(HANDLE) == []


@pytest.mark.django_db(transaction=True)
def test_an_event_a_handler_rules_out_by_its_payload_is_neither_queued_nor_waited_for(
    broker: BrokerQueues,
) -> None:
    # given a handler that wants every event of its topic but those about "skipped", and no
    # webhook subscriber
    name = handler_name(record_unless_skipped)
    # when one event it rules out and one it wants are committed
    with transaction.atomic():
        skipped = emit(topic=FILTERED_TOPIC, aggregate_id=SKIPPED)
    kicks_after_skipped = len(broker.tasks(RELAY))
    with transaction.atomic():
        wanted = emit(topic=FILTERED_TOPIC, aggregate_id="wanted")

    # then both go to the relay (webhook subscribers are asked there, when it runs), and the
    # relay queues the handler for the one it wants alone
    assert kicks_after_skipped == 1
    assert run_kicked_relay() == 2
    assert handle_tasks_for(broker, wanted) == [name]
    assert handle_tasks_for(broker, skipped) == []


@pytest.mark.django_db(transaction=True)
def test_the_relay_applies_the_filter_to_an_event_a_subscriber_still_wants(
    broker: BrokerQueues,
) -> None:
    # given a webhook subscriber to the topic of a handler that rules out "skipped" events
    WebhookSubscriptionFactory(topics=[FILTERED_TOPIC])
    # when such an event is committed and relayed
    with transaction.atomic():
        skipped = emit(topic=FILTERED_TOPIC, aggregate_id=SKIPPED)
    assert run_kicked_relay() == 1
    # then it was fanned out to the subscriber, while the handler was not queued for it
    assert WebhookDelivery.objects.filter(event=skipped).count() == 1
    assert handle_tasks_for(broker, skipped) == []


@pytest.mark.django_db(transaction=True)
def test_a_filter_that_fails_neither_fails_the_write_nor_stops_the_relay(
    broker: BrokerQueues, caplog: pytest.LogCaptureFixture,
) -> None:
    # when an event is committed whose handler's filter raises
    with transaction.atomic():
        event = emit(topic=FAILING_FILTER_TOPIC)
    # then the write stood, and the relay queues the handler for it: it decides itself
    assert run_kicked_relay() == 1
    assert handle_tasks_for(broker, event) == [handler_name(record_despite_a_broken_filter)]
    assert any("filter" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


def test_a_commit_hook_is_only_joined_inside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        commit_hook(CommitHook, CommitHook)


class Gathered(CommitHook):
    def __init__(self, transaction_block: object) -> None:
        super().__init__(transaction_block)
        self.items: list[int] = []
        self.handed_on: list[int] = []

    def run(self) -> None:
        self.handed_on = list(self.items)


@pytest.mark.django_db
def test_a_hook_that_already_ran_is_not_joined_by_a_later_write(
        django_capture_on_commit_callbacks: Any) -> None:
    # given a hook that ran when its callbacks were run by hand (as tests do; it stays listed)
    with django_capture_on_commit_callbacks(execute=True):
        first = commit_hook(Gathered, Gathered)
        first.items.append(1)
    assert first.handed_on == [1]
    # when a later write looks for the transaction's hook
    second = commit_hook(Gathered, Gathered)
    # then it gets a new one, which runs in its turn
    assert second is not first


@pytest.mark.django_db(transaction=True)
def test_an_event_a_webhook_subscriber_wants_waits_for_the_relay(broker: BrokerQueues) -> None:
    # given a webhook subscription for a topic that has no handler of its own
    WebhookSubscriptionFactory(topics=["test.unheard"])

    # when a transaction emits an event of it
    with transaction.atomic():
        event = emit(topic="test.unheard")

    # then the relay is kicked for it, and publishing it fans it out to the subscriber
    assert len(broker.tasks(RELAY)) == 1
    assert run_kicked_relay() == 1
    assert WebhookDelivery.objects.filter(event=event).count() == 1


@pytest.mark.django_db(transaction=True)
def test_subscribing_and_unsubscribing_take_effect_for_the_next_event(
    broker: BrokerQueues,
) -> None:
    # given an event relayed while nobody subscribed
    with transaction.atomic():
        emit(topic="test.unheard")
    run_kicked_relay()

    # when a client subscribes to the topic and an event follows
    subscription = webhook_subscription_create(
        owner=ApiClientFactory(), url="https://hooks.example/oms", topics=["test.unheard"])
    with transaction.atomic():
        subscribed = emit(topic="test.unheard")
    run_kicked_relay()

    # then the relay made it a delivery
    assert WebhookDelivery.objects.filter(event=subscribed).count() == 1

    # when the subscription is deactivated and another event follows
    webhook_subscription_delete(subscription=subscription)
    with transaction.atomic():
        after = emit(topic="test.unheard")
    run_kicked_relay()

    # then it is published and delivered to nobody
    after.refresh_from_db()
    assert after.published_at is not None
    assert not WebhookDelivery.objects.filter(event=after).exists()
