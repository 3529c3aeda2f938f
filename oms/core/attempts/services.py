"""Every write to attempts: create, claim, record, sweep, settle, cancel, retry by hand.

A run of an attempt is three short steps, so no lock is held while the other side thinks:

1. **claim** (`attempt_claim`), one transaction: lock the attempt with ``FOR UPDATE SKIP
   LOCKED`` while it is pending (and, for a queued task, still at the number of tries it was
   queued with), let the kind build the call from the domain rows as they stand, move it to
   `in_flight` with `tries + 1` and a lease (`next_attempt_at = now + lease`); commit. A second
   task for the same attempt finds it locked, in flight, finished or at another number of
   tries, and does nothing.
2. **perform** the call with no transaction open (`AttemptKind.perform`); an exception is a
   failed try like any other.
3. **record** (`attempt_record`), one transaction: the kind locks its domain rows, then the
   attempt; one `AttemptTry` row logs the try; the attempt moves to `succeeded`, back to
   `pending` with a backoff, or to `dead` after the kind's last allowed try or a permanent
   refusal; the kind changes the domain and writes its events (they leave after the commit,
   through the outbox).

A worker killed between 1 and 3 leaves the attempt `in_flight` with a passed lease: the beat
sweep (`attempts_requeue_due`) moves it back to `pending` and queues it again. The other side
may therefore see a call twice, always with the same message id or idempotency key, and drops
the duplicate. A call that is itself a database write (an outbox event) is made inside step 3
instead, so that it commits together with `succeeded`: exactly once.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.core.attempts.kinds import AttemptKind, Outcome, Run, kind_named
from oms.core.attempts.models import Attempt, AttemptTry
from oms.core.attempts.states import OPEN, AttemptStatus
from oms.core.backoff import exponential_backoff

logger = logging.getLogger(__name__)
S = AttemptStatus
SKIPPED = "skipped"  # what a run that did nothing returns (locked, in flight, finished, stale)


@dataclass(frozen=True)
class Claimed:
    """An attempt this worker holds the lease of, and the call it is to make."""

    attempt_id: int
    kind: AttemptKind
    target_id: int
    tries: int  # after the claim: the number of this try
    call: Any


def attempts_create(*, kind: AttemptKind, target_ids: Iterable[int], fresh: bool = False,
                    now: datetime | None = None) -> list[Run]:
    """One pending attempt per target, queued after the commit; returns the runs queued.
    A target that has its attempt already keeps it (it is queued again only while pending).
    `fresh`: the targets were created in this transaction, so none can have an attempt yet
    (one INSERT, no read back: the intake's path)."""
    target_ids = list(target_ids)
    if not target_ids:
        return []
    now = now or timezone.now()
    rows = [Attempt(kind=kind.name, target_id=target_id, created_at=now,
                    next_attempt_at=now + kind.lease())
            for target_id in target_ids]
    if fresh:
        runs = [(a.pk, 0) for a in Attempt.objects.bulk_create(rows)]
    else:
        Attempt.objects.bulk_create(rows, ignore_conflicts=True)
        runs = list(Attempt.objects.filter(kind=kind.name, target_id__in=target_ids,
                                           status=S.PENDING)
                    .order_by("pk").values_list("pk", "tries"))
    kind.queue_after_commit(runs)
    return runs


def attempt_run(*, attempt_id: int, tries: int | None = None, adapter: Any = None) -> str:
    """Claim, perform and record one try of an attempt. `tries` is the number of tries it had
    when its task was queued (None: whatever it has now, for a call by hand). Returns the
    attempt's status afterwards, or "skipped" if this run did nothing, or "cancelled"."""
    claimed = attempt_claim(attempt_id=attempt_id, tries=tries)
    if not isinstance(claimed, Claimed):
        return claimed
    kind = claimed.kind
    if kind.in_transaction(claimed.call, adapter):
        return attempt_record(claimed=claimed, adapter=adapter)
    started = time.monotonic()
    outcome = _perform(claimed, adapter)
    return attempt_record(claimed=claimed, outcome=outcome,
                          duration_ms=int((time.monotonic() - started) * 1000))


def attempt_run_for(*, kind: AttemptKind, target_id: int, adapter: Any = None) -> str:
    """Run the attempt of `target_id` now, whatever its number of tries (tests, a shell)."""
    attempt_id = Attempt.objects.filter(kind=kind.name, target_id=target_id).values_list(
        "pk", flat=True).first()
    if attempt_id is None:
        return SKIPPED
    return attempt_run(attempt_id=attempt_id, adapter=adapter)


def attempt_claim(*, attempt_id: int, tries: int | None = None) -> Claimed | str:
    """Step 1: take the attempt with a lease, or say why not ("skipped", "cancelled")."""
    now = timezone.now()
    with transaction.atomic():
        pending = Attempt.objects.select_for_update(skip_locked=True).filter(
            pk=attempt_id, status=S.PENDING)
        if tries is not None:
            pending = pending.filter(tries=tries)
        attempt = pending.first()
        if attempt is None:
            return SKIPPED  # in flight or locked elsewhere, finished, or a stale duplicate
        kind = kind_named(attempt.kind)
        call = kind.prepare(attempt)
        if call is None:
            attempt.cancel(now=now)
            attempt.save(update_fields=["status", "next_attempt_at", "finished_at"])
            logger.info("%s: nothing to send any more, cancelled", attempt)
            return S.CANCELLED
        attempt.claim(now=now, lease=kind.lease())
        attempt.save(update_fields=["status", "tries", "next_attempt_at"])
    return Claimed(attempt_id=attempt.pk, kind=kind, target_id=attempt.target_id,
                   tries=attempt.tries, call=call)


def _perform(claimed: Claimed, adapter: Any) -> Outcome:
    try:
        return claimed.kind.perform(claimed.call, adapter)
    except Exception as exc:
        # A bug in or around the adapter, or a notifier that raises by design: a failed try
        # like any other, so it shows in the admin and is given up on instead of looping.
        logger.warning("%s #%s, try %s raised", claimed.kind.name, claimed.target_id,
                       claimed.tries, exc_info=True)
        return Outcome.failed(f"{type(exc).__name__}: {exc}")


def attempt_record(*, claimed: Claimed, outcome: Outcome | None = None, duration_ms: int = 0,
                   adapter: Any = None) -> str:
    """Step 3: log the try and move the attempt on. Without `outcome` the call is made here,
    in a savepoint of this transaction (`AttemptKind.in_transaction`)."""
    kind = claimed.kind
    with transaction.atomic():
        target = kind.lock_target(claimed.target_id)
        attempt = Attempt.objects.select_for_update().get(pk=claimed.attempt_id)
        # Our try still counts while nobody has claimed the attempt again: in flight, or
        # pending again because the sweep found the lease over before we got here.
        current = attempt.tries == claimed.tries and attempt.is_open
        if outcome is None:
            if not current:
                return SKIPPED
            started = time.monotonic()
            try:
                with transaction.atomic():
                    outcome = kind.perform(claimed.call, adapter)
            except Exception as exc:
                logger.warning("%s, try %s raised", attempt, claimed.tries, exc_info=True)
                outcome = Outcome.failed(f"{type(exc).__name__}: {exc}")
            duration_ms = int((time.monotonic() - started) * 1000)
        now = timezone.now()
        AttemptTry.objects.create(attempt=attempt, number=claimed.tries, at=now, ok=outcome.ok,
                                  status_code=outcome.status_code, error=outcome.error,
                                  duration_ms=duration_ms)
        if not current:
            # settled meanwhile (the PSP's own event), or claimed again: theirs stands
            return SKIPPED
        if outcome.ok:
            attempt.succeed(now=now)
            kind.succeeded(attempt, target, outcome)
        elif not outcome.retryable or attempt.tries >= kind.max_attempts():
            attempt.give_up(error=outcome.error, now=now)
            kind.dead(attempt, target, outcome)
            logger.error("%s given up after %s tries: %s", attempt, attempt.tries, outcome.error)
        else:
            attempt.fail(error=outcome.error, retry_at=now + exponential_backoff(
                attempt.tries, kind.backoff_base_seconds()))
            logger.warning("%s failed (try %s), will retry: %s", attempt, attempt.tries,
                           outcome.error)
        attempt.save(update_fields=["status", "next_attempt_at", "last_error", "finished_at"])
    return attempt.status


def attempts_requeue_due(*, now: datetime | None = None, limit: int = 500,
                         kinds: Iterable[str] | None = None) -> int:
    """The beat sweep: queue every open attempt whose time has come — pending after its
    backoff, queued but its task lost, or in flight past its lease (the worker died; the lost
    try is logged) — leasing each so that the next sweep leaves it to its task. Returns how
    many."""
    now = now or timezone.now()
    due = Attempt.objects.select_for_update(skip_locked=True).filter(
        status__in=OPEN, next_attempt_at__lte=now)
    if kinds is not None:
        due = due.filter(kind__in=list(kinds))
    with transaction.atomic():
        attempts = list(due.order_by("next_attempt_at")[:limit])
        lost = []
        runs: dict[str, list[Run]] = defaultdict(list)
        for attempt in attempts:
            kind = kind_named(attempt.kind)
            if attempt.status == S.IN_FLIGHT:
                attempt.expire_lease(requeue_until=now + kind.lease())
                lost.append(AttemptTry(attempt=attempt, number=attempt.tries, at=now, ok=False,
                                       error="no outcome before the lease ended",
                                       duration_ms=0))
            else:
                attempt.next_attempt_at = now + kind.lease()
            runs[attempt.kind].append((attempt.pk, attempt.tries))
        if attempts:
            # The rows are locked and the transitions checked above: one statement saves all.
            Attempt.objects.bulk_update(attempts, ["status", "next_attempt_at"])
            AttemptTry.objects.bulk_create(lost)
            for name, kind_runs in runs.items():
                kind_named(name).queue_after_commit(kind_runs)
    return len(attempts)


def attempt_retry(*, attempt: Attempt) -> bool:
    """By hand (the admin): one more try now for a dead or a waiting attempt. False when it is
    not dead or pending, or its kind refuses (e.g. a capture whose amount is no longer open)."""
    kind = kind_named(attempt.kind)
    with transaction.atomic():
        target = kind.lock_target(attempt.target_id)
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.status not in (S.DEAD, S.PENDING) or not kind.before_retry(locked, target):
            return False
        locked.revive(requeue_until=timezone.now() + kind.lease())
        locked.save(update_fields=["status", "next_attempt_at", "finished_at"])
        kind.queue_after_commit([(locked.pk, locked.tries)])
    return True


def attempt_settle(*, kind: AttemptKind, target_id: int) -> bool:
    """The call's effect was learnt elsewhere (the PSP's own event for a capture): the open
    attempt succeeds without another try. Run inside the caller's transaction, after it locked
    the domain rows (`lock_target` order). True if an open attempt was settled."""
    attempt = Attempt.objects.select_for_update().filter(
        kind=kind.name, target_id=target_id, status__in=OPEN).first()
    if attempt is None:
        return False
    attempt.succeed(now=timezone.now())
    attempt.save(update_fields=["status", "next_attempt_at", "last_error", "finished_at"])
    return True
