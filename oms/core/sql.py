"""The shared kernel's hand-written SQL (ARCHITECTURE.md rule 11): statements the ORM has no
expression for, one function each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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


def processed_event_insert(*, event_id: Any, handler: str, at: datetime) -> bool:
    """Record that `handler` processes the event, in the caller's transaction; False if a row
    exists already (or another transaction inserts it and commits first: the unique constraint
    makes this statement wait for it). One statement, no savepoint: every handler run of the
    relay and of the event tasks makes it, and the ORM's create-and-catch needs three round
    trips (SAVEPOINT, INSERT, RELEASE) for the same answer (bench/e2e: relay CPU)."""
    # Imported here: this module also serves the demo runner before Django is set up.
    from oms.core.models import ProcessedEvent

    event = ProcessedEvent._meta.get_field("event")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ProcessedEvent._meta.db_table} ({event.column}, handler, processed_at) "
            f"VALUES (%s, %s, %s) ON CONFLICT ({event.column}, handler) DO NOTHING RETURNING 1",
            [event.target_field.get_db_prep_value(event_id, connection), handler, at])
        return cursor.fetchone() is not None


def database_create_if_missing(*, maintenance_url: str, name: str) -> bool:
    """CREATE DATABASE `name` on the server of `maintenance_url` (a database that exists, such
    as `postgres`) unless it exists; whether it was created. Django creates no default
    database itself; the embedded demo server needs one (`oms.demo`). Its own connection:
    CREATE DATABASE cannot run inside a transaction, nor on the database being created."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(maintenance_url, autocommit=True) as maintenance:
        if maintenance.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                               [name]).fetchone() is not None:
            return False
        maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True
