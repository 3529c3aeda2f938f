"""Applying a stock snapshot in set-based SQL: a few statements for the whole batch, never a
statement per row: one locking, updating, journaling statement for the rows that exist and one
inserting statement for those that do not."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from inventory.models import Location, MovementKind


@dataclass(frozen=True)
class LevelRow:
    sku: str
    on_hand: int
    safety_stock: int | None = None


@dataclass(frozen=True)
class SnapshotOutcome:
    applied: int
    moved: int
    # rows this snapshot changed so that on_hand no longer covers reserved + safety stock
    shortfalls: list[dict]


_PG_INPUT = """
    SELECT * FROM unnest(%(skus)s::text[], %(on_hand)s::int[], %(safety)s::int[])
        AS t(sku, on_hand, safety_stock)
"""

# Existing rows first, the common case of a daily count. A count is what was on the shelf at
# `as_of`; movements journaled after it (a shipment, a receipt) are added on top, so a count that
# arrives late does not bring shipped units back. Rows are locked in primary-key order, the order
# every stock writer uses, so a snapshot and concurrent reservations cannot deadlock; NO KEY
# UPDATE does not wait for reservation lines that reference the row. Staleness is computed in the
# locking query, so under READ COMMITTED it is judged on the newest row version once the lock is
# granted. The SKUs with no row yet are returned for _PG_INSERT_NEW.
_PG_APPLY = f"""
WITH input AS ({_PG_INPUT}), since AS (
    SELECT m.sku, SUM(m.quantity) AS quantity
    FROM inventory_stockmovement m
    WHERE m.location_id = %(location)s AND m.kind <> %(kind)s AND m.created_at > %(as_of)s
      AND m.sku = ANY(%(skus)s::text[])
    GROUP BY m.sku
), locked AS (
    SELECT s.id, s.sku, s.reserved, s.on_hand AS old_on_hand,
           GREATEST(i.on_hand + COALESCE(n.quantity, 0), 0) AS new_on_hand,
           s.safety_stock AS old_safety, COALESCE(i.safety_stock, s.safety_stock) AS new_safety,
           s.snapshot_as_of IS NOT NULL AND s.snapshot_as_of > %(as_of)s AS stale
    FROM inventory_stocklevel s JOIN input i ON i.sku = s.sku
    LEFT JOIN since n ON n.sku = s.sku
    WHERE s.location_id = %(location)s
    ORDER BY s.id
    FOR NO KEY UPDATE OF s
), counted AS (
    SELECT * FROM locked WHERE NOT stale
), updated AS (
    UPDATE inventory_stocklevel s
    SET on_hand = l.new_on_hand, safety_stock = l.new_safety,
        snapshot_as_of = %(as_of)s, updated_at = %(now)s
    FROM counted l WHERE s.id = l.id AND s.location_id = %(location)s
    RETURNING s.id
), moved AS (
    INSERT INTO inventory_stockmovement
        (location_id, sku, quantity, kind, reference, on_hand_after, actor, created_at)
    SELECT %(location)s, l.sku, l.new_on_hand - l.old_on_hand, %(kind)s, %(reference)s,
           l.new_on_hand, %(actor)s, %(now)s
    FROM counted l WHERE l.new_on_hand <> l.old_on_hand
    RETURNING 1
)
SELECT
    (SELECT count(*) FROM updated),
    (SELECT count(*) FROM moved),
    (SELECT COALESCE(json_agg(json_build_object(
        'sku', l.sku, 'on_hand', l.new_on_hand, 'reserved', l.reserved,
        'safety_stock', l.new_safety)), '[]')
     FROM counted l WHERE l.reserved > 0 AND l.new_on_hand - l.new_safety < l.reserved
       AND (l.new_on_hand <> l.old_on_hand OR l.new_safety <> l.old_safety)),
    (SELECT COALESCE(array_agg(i.sku), '{{}}') FROM input i
     WHERE NOT EXISTS (SELECT 1 FROM locked l WHERE l.sku = i.sku))
"""

# Rows the location has never had are inserted with their counts (and journaled) in one go. The
# product join doubles as the catalog check: the SKUs no product has come back instead of
# failing on the foreign key. A row another snapshot inserted meanwhile is skipped (DO NOTHING
# takes no lock) and comes back to the caller, who applies it as an existing row.
_PG_INSERT_NEW = f"""
WITH input AS ({_PG_INPUT}), inserted AS (
    INSERT INTO inventory_stocklevel
        (sku, location_id, on_hand, reserved, safety_stock, snapshot_as_of, updated_at)
    SELECT i.sku, %(location)s, i.on_hand, 0, COALESCE(i.safety_stock, 0), %(as_of)s, %(now)s
    FROM input i JOIN catalog_product p ON p.sku = i.sku
    ORDER BY i.sku  -- concurrent snapshots insert new rows in one order: no deadlock
    ON CONFLICT (sku, location_id) DO NOTHING
    RETURNING sku, on_hand
), moved AS (
    INSERT INTO inventory_stockmovement
        (location_id, sku, quantity, kind, reference, on_hand_after, actor, created_at)
    SELECT %(location)s, n.sku, n.on_hand, %(kind)s, %(reference)s, n.on_hand, %(actor)s, %(now)s
    FROM inserted n WHERE n.on_hand <> 0
    RETURNING 1
)
SELECT
    COALESCE((SELECT array_agg(sku) FROM inserted), '{{}}'),
    (SELECT count(*) FROM moved),
    COALESCE((SELECT array_agg(i.sku ORDER BY i.sku) FROM input i
              WHERE NOT EXISTS (SELECT 1 FROM catalog_product p WHERE p.sku = i.sku)), '{{}}')
"""


class UnknownSkus(Exception):
    """The snapshot names SKUs no product has; the caller's transaction must roll back."""

    def __init__(self, skus: list[str]) -> None:
        super().__init__(skus)
        self.skus = skus


def apply_snapshot(
    *, location: Location, as_of: datetime, rows: Sequence[LevelRow], reference: str,
    actor: str, now: datetime,
) -> SnapshotOutcome:
    """Must run inside a transaction. Raises UnknownSkus before it returns if any SKU is not in
    the catalog (after writing, so the transaction must be rolled back)."""
    fixed = {"location": location.pk, "as_of": as_of, "now": now, "reference": reference,
             "actor": actor, "kind": MovementKind.COUNT.value}

    def columns(batch: Sequence[LevelRow]) -> dict[str, Any]:
        return {**fixed, "skus": [r.sku for r in batch], "on_hand": [r.on_hand for r in batch],
                "safety": [r.safety_stock for r in batch]}

    applied = moved = 0
    shortfalls: list[dict] = []
    pending = list(rows)
    with connection.cursor() as cursor:
        # Twice at most: a row another snapshot inserts between our two statements is found by
        # the second pass over existing rows.
        while pending:
            cursor.execute(_PG_APPLY, columns(pending))
            updated, updated_moves, found_short, missing = cursor.fetchone()
            applied += updated
            moved += updated_moves
            shortfalls += json.loads(found_short) if isinstance(found_short, str) else found_short
            if not missing:
                break
            absent = set(missing)
            pending = [r for r in pending if r.sku in absent]
            cursor.execute(_PG_INSERT_NEW, columns(pending))
            inserted, inserted_moves, unknown = cursor.fetchone()
            if unknown:
                raise UnknownSkus(list(unknown))
            applied += len(inserted)
            moved += inserted_moves
            done = set(inserted)
            pending = [r for r in pending if r.sku not in done]
    return SnapshotOutcome(applied=applied, moved=moved, shortfalls=shortfalls)

