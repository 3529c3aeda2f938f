"""The finance app's hand-written SQL (ARCHITECTURE.md rule 11), one function per statement.

The dunning sweep changes six columns of up to 500 items per batch, each item its own values.
Django's `bulk_update` writes that as one CASE WHEN per column and row and spends about 2 s of
CPU per batch building it (bench/dunning: 9 of the 22 s of a 2,000-item sweep under the
profiler); the same UPDATE from one JSON document of the rows is one short statement."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection

from finance.models import OpenItem, OpenItemEvent

# What the sweep changes on an item (finance.services.dunning).
DUNNING_COLUMNS = ("status", "dunning_level", "fees", "for_collection", "next_dunning_at",
                   "updated_at")


def open_items_dunning_update(items: Sequence[OpenItem]) -> int:
    """Write the sweep's columns of `items` (as they are in memory) in one UPDATE; returns the
    rows changed. The caller holds the rows' locks. The values travel as one JSON document:
    psycopg escapes the elements of text arrays one regular expression at a time, which cost
    more than the statement itself."""
    if not items:
        return 0
    rows = [{"id": i.pk, "status": i.status, "dunning_level": i.dunning_level,
             "fees": str(i.fees), "for_collection": i.for_collection,
             "next_dunning_at": i.next_dunning_at.isoformat() if i.next_dunning_at else None,
             "updated_at": i.updated_at.isoformat()} for i in items]
    table = OpenItem._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS i SET status = v.status, dunning_level = v.dunning_level, "
            "fees = v.fees, for_collection = v.for_collection, "
            "next_dunning_at = v.next_dunning_at, updated_at = v.updated_at "
            "FROM jsonb_to_recordset(%s::jsonb) AS v (id bigint, status varchar, "
            "dunning_level smallint, fees numeric, for_collection boolean, "
            "next_dunning_at timestamptz, updated_at timestamptz) WHERE i.id = v.id",
            [json.dumps(rows)])
        return cursor.rowcount


def open_item_events_insert(rows: Sequence[dict[str, Any]]) -> int:
    """Insert history rows (`{"open_item_id", "type", "at", "actor", "data"}`, `at` an ISO
    timestamp) in one statement from one JSON document. `bulk_create` sends each column as an
    array, and psycopg escapes every quote of every row's JSON `data` with a regular
    expression: a sixth of the sweep's CPU (bench/dunning)."""
    if not rows:
        return 0
    table = OpenItemEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (open_item_id, type, at, actor, data) "
            "SELECT v.open_item_id, v.type, v.at, v.actor, v.data "
            "FROM jsonb_to_recordset(%s::jsonb) AS v (open_item_id bigint, type varchar, "
            "at timestamptz, actor varchar, data jsonb)", [json.dumps(rows)])
        return cursor.rowcount
