"""One row per call the service owes the outside world, and one row per try of it.

Imported by `oms.core.models` (this package is not an app of its own), so the tables belong to
the `core` app."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from oms.core.attempts.states import OPEN, AttemptStatus

S = AttemptStatus


class Attempt(ConcurrentTransitionMixin, models.Model):
    """A call to an external system (a WMS dispatch, a webhook delivery, a customer notice, a
    PSP capture), tried until it succeeds or is given up.

    `target_id` is the primary key of the row the call is about, in the table the `kind`
    names (`oms.core.attempts.kinds`): a plain id rather than a foreign key, because this layer
    may not know the tables of the apps above it. One attempt per (kind, target)."""

    kind = models.CharField(_("kind"), max_length=40)
    target_id = models.PositiveBigIntegerField(_("about"))
    status = FSMField(_("status"), default=S.PENDING, choices=AttemptStatus.choices,
                      protected=True)
    tries = models.PositiveIntegerField(_("tries"), default=0)
    # pending: when the sweep may queue it (again); in flight: when the claim's lease ends.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    created_at = models.DateTimeField(_("created"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound call")
        verbose_name_plural = _("outbound calls")
        constraints = [
            models.UniqueConstraint(fields=["kind", "target_id"], name="attempt_once_per_target"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in AttemptStatus]),
                                   name="attempt_status_valid"),
        ]
        indexes = [
            # The beat sweep's read: only open rows, which are few.
            models.Index(fields=["next_attempt_at"], name="attempt_due",
                         condition=Q(status__in=OPEN)),
            # The admin's list filtered by kind and status (the dead letters of one kind).
            models.Index(fields=["kind", "status", "created_at"], name="attempt_by_kind_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.target_id} ({self.status})"

    # Transitions: the bodies set what belongs to the new status; `oms.core.attempts.services`
    # is the only caller (ARCHITECTURE.md rule 3).
    @transition(field=status, source=S.PENDING, target=S.IN_FLIGHT)
    def claim(self, *, now: datetime, lease: timedelta) -> None:
        self.tries += 1
        self.next_attempt_at = now + lease

    # From pending too: an answer that arrives after the lease ran out, while nobody has
    # claimed the attempt again, still counts; and a success may be learnt elsewhere (a PSP's
    # own `captured` event).
    @transition(field=status, source=[S.IN_FLIGHT, S.PENDING], target=S.SUCCEEDED)
    def succeed(self, *, now: datetime) -> None:
        self.next_attempt_at, self.finished_at, self.last_error = None, now, ""

    @transition(field=status, source=[S.IN_FLIGHT, S.PENDING], target=S.PENDING)
    def fail(self, *, error: str, retry_at: datetime) -> None:
        self.last_error, self.next_attempt_at = error, retry_at

    @transition(field=status, source=[S.IN_FLIGHT, S.PENDING], target=S.DEAD)
    def give_up(self, *, error: str, now: datetime) -> None:
        self.last_error, self.next_attempt_at, self.finished_at = error, None, now

    @transition(field=status, source=[S.PENDING, S.IN_FLIGHT], target=S.CANCELLED)
    def cancel(self, *, now: datetime) -> None:
        self.next_attempt_at, self.finished_at = None, now

    @transition(field=status, source=S.IN_FLIGHT, target=S.PENDING)
    def expire_lease(self, *, requeue_until: datetime) -> None:
        self.next_attempt_at = requeue_until

    # By hand, from the admin: one more try now (a pending one is only queued again).
    @transition(field=status, source=[S.DEAD, S.PENDING], target=S.PENDING)
    def revive(self, *, requeue_until: datetime) -> None:
        self.next_attempt_at, self.finished_at = requeue_until, None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


class AttemptTry(models.Model):
    """One call made for an attempt, successful or not: the audit of every try."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField(_("number"))
    at = models.DateTimeField(_("at"))
    ok = models.BooleanField(_("succeeded"))
    status_code = models.PositiveSmallIntegerField(_("answer"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))

    class Meta:
        verbose_name = _("try")
        verbose_name_plural = _("tries")
        ordering = ["attempt", "number", "pk"]

    def __str__(self) -> str:
        return f"#{self.number} {'ok' if self.ok else self.error}"
