"""Moving an app's own retry columns onto attempts, for its migrations.

The copy runs in batches of `BATCH` rows in primary-key order, each batch a transaction of its
own (the migration says ``atomic = False``): the source table is only read, so it stays
writable, and no transaction holds many locks or runs long. Running it again after an
interruption skips what was copied (the unique (kind, target) and a check for logged tries)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

BATCH = 2000


def copy_to_attempts(apps: Any, *, kind: str, source: Any,
                     attempt_fields: Callable[[dict[str, Any]], dict[str, Any] | None],
                     tries_of: Callable[[list[int]], dict[int, list[dict[str, Any]]]] | None
                     = None) -> None:
    """One attempt of `kind` per row of `source` (a historical model's `.values()` queryset
    including ``id``) for which `attempt_fields(row)` gives fields (None: the row has no call
    to make); `tries_of(target ids)` gives each target's logged tries (number, at, ok,
    status_code, error, duration_ms)."""
    attempt_model = apps.get_model("core", "Attempt")
    try_model = apps.get_model("core", "AttemptTry")
    last = 0
    while True:
        with transaction.atomic():
            rows = list(source.filter(pk__gt=last).order_by("pk")[:BATCH])
            if not rows:
                return
            last = rows[-1]["id"]
            wanted = {row["id"]: fields for row in rows
                      if (fields := attempt_fields(row)) is not None}
            attempt_model.objects.bulk_create(
                [attempt_model(kind=kind, target_id=target, **fields)
                 for target, fields in wanted.items()], ignore_conflicts=True)
            if tries_of is None or not wanted:
                continue
            attempts = dict(attempt_model.objects.filter(kind=kind, target_id__in=list(wanted))
                            .values_list("target_id", "pk"))
            logged = set(try_model.objects.filter(attempt_id__in=list(attempts.values()))
                         .values_list("attempt_id", flat=True).distinct())
            tries = tries_of([t for t, a in attempts.items() if a not in logged])
            try_model.objects.bulk_create(
                [try_model(attempt_id=attempts[target], **entry)
                 for target, entries in tries.items() for entry in entries])


def noop(apps: Any, schema_editor: Any) -> None:
    """Going back keeps the attempts (the old columns are restored empty by the schema)."""


def update_in_batches(queryset: Any, values: dict[str, Any]) -> None:
    """`queryset.update(**values)` in primary-key ranges of `BATCH`, each its own transaction:
    only a batch's rows are locked at a time, and only briefly."""
    bounds = queryset.order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first(), queryset.order_by("-pk").values_list("pk", flat=True).first()
    if first is None:
        return
    for start in range(first, last + 1, BATCH):
        with transaction.atomic():
            queryset.filter(pk__gte=start, pk__lt=start + BATCH).update(**values)
