"""The shared kernel's hand-written SQL (ARCHITECTURE.md rule 11): statements the ORM has no
expression for, one function each."""

from __future__ import annotations

from django.db import connection


def advisory_xact_lock_try(lock_id: int) -> bool:
    """Take a transaction-scoped advisory lock without waiting; False if another transaction
    holds it. Released by the commit or rollback (oms.core.idempotency)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        return bool(cursor.fetchone()[0])


def database_answers() -> None:
    """One round trip to the database; raises if it does not answer (`/readyz`)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
