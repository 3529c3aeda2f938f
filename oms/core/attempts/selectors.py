"""Reads of attempts, for the domain pages and APIs that show how their calls went."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from oms.core.attempts.kinds import AttemptKind
from oms.core.attempts.models import Attempt


def attempt_of(*, kind: AttemptKind, target_id: int) -> Attempt | None:
    return Attempt.objects.filter(kind=kind.name, target_id=target_id).first()


def attempt_column(kind: AttemptKind, column: str, *, outer: str = "pk") -> Subquery:
    """A subquery for annotating domain rows with a column of their attempt (admin lists)."""
    return Subquery(Attempt.objects.filter(kind=kind.name, target_id=OuterRef(outer))
                    .values(column)[:1])


def targets_with_status(kind: AttemptKind, status: str) -> QuerySet[Attempt]:
    """The target ids of a kind's attempts in `status`, for filtering domain rows."""
    return Attempt.objects.filter(kind=kind.name, status=status).values("target_id")
