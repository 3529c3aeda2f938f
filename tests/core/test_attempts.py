"""The one attempt mechanism (oms.core.attempts): claim with a lease, backoff with jitter, dead
letter, the beat sweep, retry by hand — with a recording kind of its own."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from oms.core.attempts.kinds import AttemptKind, Outcome, Run, kind_register
from oms.core.attempts.models import Attempt
from oms.core.attempts.services import (
    attempt_claim,
    attempt_run,
    attempts_create,
    attempts_requeue_due,
)
from oms.core.backoff import CAP_SECONDS, exponential_backoff
from tests.factories import AttemptFactory


@dataclass
class RecordingKind(AttemptKind):
    """Calls nobody: answers from `script` (then ok), records calls, queued runs, dead letters."""

    name = "test_recording"
    label = "Test calls"
    max_attempts_setting = "TEST_ATTEMPT_MAX_ATTEMPTS"
    backoff_base_setting = "TEST_ATTEMPT_BACKOFF_BASE_SECONDS"
    script: list[Outcome] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    queued: list[Run] = field(default_factory=list)
    dead_letters: list[int] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, runs: list[Run]) -> None:
        self.queued.extend(runs)

    def prepare(self, attempt: Attempt) -> int:
        return attempt.target_id

    def perform(self, call: int, adapter: Any = None) -> Outcome:
        time.sleep(self.delay)
        with self.lock:
            self.calls.append(call)
            return self.script.pop(0) if self.script else Outcome.succeeded(200)

    def dead(self, attempt: Attempt, target: Any, outcome: Outcome) -> None:
        self.dead_letters.append(attempt.target_id)


@pytest.fixture
def kind(settings: Any) -> RecordingKind:
    settings.TEST_ATTEMPT_MAX_ATTEMPTS = 3
    settings.TEST_ATTEMPT_BACKOFF_BASE_SECONDS = 10
    return kind_register(RecordingKind())


def an_attempt(kind: RecordingKind, **fields: Any) -> Attempt:
    return AttemptFactory(kind=kind.name, **fields)


def reloaded(attempt: Attempt) -> Attempt:
    return Attempt.objects.get(pk=attempt.pk)


@pytest.mark.django_db(transaction=True)
def test_a_claim_is_exclusive_when_workers_race_for_one_attempt(kind, run_concurrently):
    # Given a pending attempt whose call takes a while
    kind.delay = 0.3
    attempt = an_attempt(kind)
    # When four workers run its queued task at the same moment
    results = run_concurrently(4, lambda _i: attempt_run(attempt_id=attempt.pk, tries=0))
    # Then exactly one made the call and the others left it alone
    assert sorted(results) == ["skipped", "skipped", "skipped", "succeeded"]
    assert kind.calls == [attempt.target_id]
    assert (reloaded(attempt).tries, reloaded(attempt).log.count()) == (1, 1)


@pytest.mark.django_db
def test_a_task_that_runs_twice_calls_once(kind):
    # Given a pending attempt, queued once
    attempt = an_attempt(kind)
    # When the broker delivers its task twice, one after the other
    first = attempt_run(attempt_id=attempt.pk, tries=0)
    second = attempt_run(attempt_id=attempt.pk, tries=0)
    # Then the call was made once
    assert (first, second) == ("succeeded", "skipped")
    assert kind.calls == [attempt.target_id]


@pytest.mark.django_db
def test_a_stale_task_does_not_retry_before_the_backoff(kind):
    # Given an attempt whose first try failed and waits for its backoff
    kind.script = [Outcome.failed("HTTP 503", status_code=503)]
    attempt = an_attempt(kind)
    assert attempt_run(attempt_id=attempt.pk, tries=0) == "pending"
    # When a duplicate of the first task arrives
    # Then it does nothing: the sweep queues the retry when it is due
    assert attempt_run(attempt_id=attempt.pk, tries=0) == "skipped"
    assert len(kind.calls) == 1


@pytest.mark.django_db
def test_an_expired_lease_is_swept_and_tried_again(kind, django_capture_on_commit_callbacks):
    # Given an attempt claimed by a worker that then died (no outcome recorded)
    attempt = an_attempt(kind)
    assert not isinstance(attempt_claim(attempt_id=attempt.pk, tries=0), str)
    claimed = reloaded(attempt)
    assert (claimed.status, claimed.tries) == ("in_flight", 1)
    # When the sweep runs before the lease ends, then after it
    early = attempts_requeue_due(kinds=[kind.name])
    with django_capture_on_commit_callbacks(execute=True):
        late = attempts_requeue_due(kinds=[kind.name],
                                    now=claimed.next_attempt_at + timedelta(seconds=1))
    # Then only the second sweep takes it back, logs the lost try and queues it again
    assert (early, late) == (0, 1)
    swept = reloaded(attempt)
    assert swept.status == "pending"
    assert [(t.number, t.ok) for t in swept.log.all()] == [(1, False)]
    assert kind.queued == [(attempt.pk, 1)]
    # When the queued task runs
    assert attempt_run(attempt_id=attempt.pk, tries=1) == "succeeded"
    # Then the second try succeeded
    assert reloaded(attempt).tries == 2


def test_the_backoff_doubles_with_jitter_within_half_and_full_step():
    # When the backoff is drawn many times for each number of tries
    for tries in range(1, 8):
        step = 10 * 2 ** (tries - 1)
        delays = {exponential_backoff(tries, 10).total_seconds() for _ in range(50)}
        # Then each lies within [step / 2, step], and they differ (jitter)
        assert all(step / 2 <= d <= step for d in delays), (tries, delays)
        assert len(delays) > 1
    # and it never exceeds the cap
    assert exponential_backoff(40, 10).total_seconds() <= CAP_SECONDS


@pytest.mark.django_db
def test_a_failed_try_waits_for_a_growing_backoff(kind):
    # Given a call that fails twice
    kind.script = [Outcome.failed("HTTP 500", status_code=500)] * 2
    attempt = an_attempt(kind)
    # When it is tried twice
    started = timezone.now()
    attempt_run(attempt_id=attempt.pk)
    first = reloaded(attempt).next_attempt_at - started
    started = timezone.now()
    attempt_run(attempt_id=attempt.pk)
    second = reloaded(attempt).next_attempt_at - started
    # Then it waits 5-10 s, then 10-20 s
    assert timedelta(seconds=5) <= first <= timedelta(seconds=10, milliseconds=500)
    assert timedelta(seconds=10) <= second <= timedelta(seconds=20, milliseconds=500)


@pytest.mark.django_db
def test_an_attempt_is_dead_lettered_after_its_last_allowed_try(kind):
    # Given a call that always fails and three tries allowed
    kind.script = [Outcome.failed("HTTP 500", status_code=500)] * 5
    attempt = an_attempt(kind)
    # When it is tried three times
    statuses = [attempt_run(attempt_id=attempt.pk) for _ in range(3)]
    # Then the third failure is the dead letter, told to the kind once, with every try logged
    assert statuses == ["pending", "pending", "dead"]
    dead = reloaded(attempt)
    assert (dead.tries, dead.next_attempt_at, dead.last_error) == (3, None, "HTTP 500")
    assert dead.finished_at is not None
    assert kind.dead_letters == [attempt.target_id]
    assert [t.number for t in dead.log.all()] == [1, 2, 3]
    # and the sweep never queues it again
    assert attempts_requeue_due(kinds=[kind.name],
                                now=timezone.now() + timedelta(days=1)) == 0


@pytest.mark.django_db
def test_a_permanent_refusal_is_dead_at_once(kind):
    kind.script = [Outcome.failed("HTTP 422: expired", status_code=422, retryable=False)]
    attempt = an_attempt(kind)
    assert attempt_run(attempt_id=attempt.pk) == "dead"
    assert reloaded(attempt).tries == 1


@pytest.mark.django_db
def test_an_answer_after_the_lease_counts_while_nobody_claimed_the_attempt_again(kind):
    # Given a claimed attempt whose lease the sweep found over
    attempt = an_attempt(kind)
    claimed = attempt_claim(attempt_id=attempt.pk, tries=0)
    attempts_requeue_due(kinds=[kind.name], now=timezone.now() + timedelta(hours=1))
    # When the slow worker's answer arrives
    from oms.core.attempts.services import attempt_record

    status = attempt_record(claimed=claimed, outcome=Outcome.succeeded(200))
    # Then it counts, and the task the sweep queued finds nothing to do
    assert status == "succeeded"
    assert attempt_run(attempt_id=attempt.pk, tries=1) == "skipped"


@pytest.mark.django_db
def test_creating_attempts_twice_for_the_same_targets_creates_them_once(
        kind, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = attempts_create(kind=kind, target_ids=[7, 8])
        second = attempts_create(kind=kind, target_ids=[7, 8])
    assert Attempt.objects.filter(kind=kind.name).count() == 2
    assert first == second
    # queued after the commit, and again only while still pending (the task token drops a
    # duplicate)
    assert kind.queued == first + second


@pytest.mark.django_db
def test_staff_retry_a_dead_attempt_from_the_admin(kind, admin_client,
                                                   django_capture_on_commit_callbacks):
    # Given a dead attempt and a finished one
    dead = an_attempt(kind, status="dead", tries=3, next_attempt_at=None,
                      finished_at=timezone.now())
    done = an_attempt(kind, status="succeeded", tries=1, next_attempt_at=None)
    # When staff select both in the list and run the retry action
    assert admin_client.get("/admin/core/attempt/?status__exact=dead").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/core/attempt/", {
            "action": "retry", "_selected_action": [dead.pk, done.pk]})
    # Then the dead one is pending again and queued, the finished one left as it is
    assert response.status_code == 302
    assert reloaded(dead).status == "pending"
    assert reloaded(done).status == "succeeded"
    assert kind.queued == [(dead.pk, 3)]
    # and its next try is made
    assert attempt_run(attempt_id=dead.pk, tries=3) == "succeeded"
    assert reloaded(dead).tries == 4
