"""What differs between the kinds of outbound call, behind one interface, and the registry the
apps above fill (this layer may not import them: ARCHITECTURE.md rule 1).

An app defines a subclass of `AttemptKind` for each kind of call it makes and registers one
instance with `kind_register` where the kind is defined, at import (`WMS_DISPATCH =
kind_register(...)`); the app's `AppConfig.ready` imports that module, so that every process
(web, worker, beat) knows every kind before the first attempt is run or swept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction

from oms.core.attempts.models import Attempt

# An attempt to run, with the number of tries it had when it was queued: a task carrying an
# outdated number is a duplicate and does nothing.
Run = tuple[int, int]


@dataclass(frozen=True)
class Outcome:
    """What one try of a call came to. `retryable` False is a permanent refusal: given up at
    once instead of after the last allowed try."""

    ok: bool
    status_code: int | None = None
    error: str = ""
    retryable: bool = True
    detail: dict[str, Any] = field(default_factory=dict)  # e.g. the PSP's capture reference

    @classmethod
    def succeeded(cls, status_code: int | None = None, **detail: Any) -> Outcome:
        return cls(ok=True, status_code=status_code, detail=detail)

    @classmethod
    def failed(cls, error: str, *, status_code: int | None = None,
               retryable: bool = True) -> Outcome:
        return cls(ok=False, status_code=status_code, error=error[:2000], retryable=retryable)


class AttemptKind:
    """One kind of outbound call. Subclasses set the names and override the steps they need.

    The engine (`oms.core.attempts.services`) calls, in this order:

    - `prepare` in the claim's transaction, the attempt row locked: build the call (read the
      payload as it stands now), or None when there is nothing to send any more;
    - `perform` with no transaction open (so no lock is held while the other side thinks),
      unless `in_transaction(call)` says the call is a database write: then inside the
      recording transaction, in a savepoint, so that it commits together with `succeeded`;
    - `lock_target` first thing in every transaction that records an outcome, settles or
      retries the attempt: the domain rows it changes are locked before the attempt row, the
      same order as a domain service that settles the attempt itself (no deadlock);
    - `succeeded` or `dead` in the recording transaction, to change the domain and write its
      events (through the outbox: they leave after the commit);
    - `before_retry` before a retry by hand.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    max_attempts_setting: ClassVar[str]
    backoff_base_setting: ClassVar[str]

    def max_attempts(self) -> int:
        return int(getattr(settings, self.max_attempts_setting))

    def backoff_base_seconds(self) -> float:
        return float(getattr(settings, self.backoff_base_setting))

    def lease(self) -> timedelta:
        """How long a claimed attempt may take before the sweep counts its worker as lost; also
        how long a queued attempt is left to its task before the sweep queues it again. Longer
        than the call's timeout."""
        return timedelta(minutes=2)

    def queue(self, runs: list[Run]) -> None:
        """Send the tasks that run these attempts (called after the commit)."""
        raise NotImplementedError

    def queue_after_commit(self, runs: list[Run]) -> None:
        """Queue the runs after the commit of the current transaction (nothing if it rolls
        back). Robust: with the broker down the commit stands and the sweep queues them later.
        A kind whose runs are many small ones may override this to gather a transaction's runs
        into fewer tasks."""
        if runs:
            transaction.on_commit(lambda: self.queue(runs), robust=True)

    def prepare(self, attempt: Attempt) -> Any | None:
        raise NotImplementedError

    def perform(self, call: Any, adapter: Any = None) -> Outcome:
        """Make the call through `adapter` (a fake in tests), or the configured one."""
        raise NotImplementedError

    def in_transaction(self, call: Any, adapter: Any = None) -> bool:
        return False

    def lock_target(self, target_id: int) -> Any:
        return None

    def succeeded(self, attempt: Attempt, target: Any, outcome: Outcome) -> None:
        """The call went through (for a settled attempt `outcome` is None-like: ok, no call)."""

    def dead(self, attempt: Attempt, target: Any, outcome: Outcome) -> None:
        """Given up: tell whoever has to act (an event through the outbox)."""

    def before_retry(self, attempt: Attempt, target: Any) -> bool:
        """Check and prepare the domain for one more try by hand (in the retry's
        transaction, `target` locked); False refuses the retry."""
        return True

    def describe(self, target_id: int) -> str:
        """What the attempt is about, for the admin."""
        return f"{self.name} #{target_id}"

    def admin_url(self, target_id: int) -> str | None:
        """The admin page of the row the attempt is about, if there is one."""
        return None


_kinds: dict[str, AttemptKind] = {}


def kind_register(kind: AttemptKind) -> AttemptKind:
    """Called where a kind is defined (imported by its app's `AppConfig.ready`); registering a
    name again replaces the kind."""
    _kinds[kind.name] = kind
    return kind


def kind_named(name: str) -> AttemptKind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"no attempt kind {name!r} is registered") from None


def kinds_registered() -> list[AttemptKind]:
    return list(_kinds.values())

