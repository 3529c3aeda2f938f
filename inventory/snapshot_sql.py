"""Applying a stock snapshot in set-based SQL: a few statements for the whole batch, never a
statement per row. PostgreSQL gets one locking, updating, journaling statement; SQLite (the
embedded demo mode, one writer at a time) gets a plain equivalent."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Sum

from inventory.models import Location, MovementKind, StockLevel, StockMovement


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

# Rows the location has never had are inserted with their counts (and journaled) in one go;
# existing rows are left to _PG_APPLY. DO NOTHING takes no lock on existing rows.
_PG_INSERT_NEW = f"""
WITH input AS ({_PG_INPUT}), inserted AS (
    INSERT INTO inventory_stocklevel
        (sku, location_id, on_hand, reserved, safety_stock, snapshot_as_of, updated_at)
    SELECT i.sku, %(location)s, i.on_hand, 0, COALESCE(i.safety_stock, 0), %(as_of)s, %(now)s
    FROM input i
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
SELECT COALESCE((SELECT array_agg(sku) FROM inserted), '{{}}'), (SELECT count(*) FROM moved)
"""

# A count is what was on the shelf at `as_of`; movements journaled after it (a shipment, a
# receipt) are added on top, so a count that arrives late does not bring shipped units back.
# Rows are locked in primary-key order, the order every stock writer uses, so a snapshot and
# concurrent reservations cannot deadlock. The stale check sits in the locking query, so under
# READ COMMITTED it is re-evaluated against the newest row version once the lock is granted.
# The location filter in `updated` lets the planner use the (location, sku) index instead of a
# hash join over the whole table.
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
           s.safety_stock AS old_safety, COALESCE(i.safety_stock, s.safety_stock) AS new_safety
    FROM inventory_stocklevel s JOIN input i ON i.sku = s.sku
    LEFT JOIN since n ON n.sku = s.sku
    WHERE s.location_id = %(location)s
      AND (s.snapshot_as_of IS NULL OR s.snapshot_as_of <= %(as_of)s)
    ORDER BY s.id
    FOR UPDATE OF s
), updated AS (
    UPDATE inventory_stocklevel s
    SET on_hand = l.new_on_hand, safety_stock = l.new_safety,
        snapshot_as_of = %(as_of)s, updated_at = %(now)s
    FROM locked l WHERE s.id = l.id AND s.location_id = %(location)s
    RETURNING s.id
), moved AS (
    INSERT INTO inventory_stockmovement
        (location_id, sku, quantity, kind, reference, on_hand_after, actor, created_at)
    SELECT %(location)s, l.sku, l.new_on_hand - l.old_on_hand, %(kind)s, %(reference)s,
           l.new_on_hand, %(actor)s, %(now)s
    FROM locked l WHERE l.new_on_hand <> l.old_on_hand
    RETURNING 1
)
SELECT
    (SELECT count(*) FROM updated),
    (SELECT count(*) FROM moved),
    (SELECT COALESCE(json_agg(json_build_object(
        'sku', l.sku, 'on_hand', l.new_on_hand, 'reserved', l.reserved,
        'safety_stock', l.new_safety)), '[]')
     FROM locked l WHERE l.reserved > 0 AND l.new_on_hand - l.new_safety < l.reserved
       AND (l.new_on_hand <> l.old_on_hand OR l.new_safety <> l.old_safety))
"""


def apply_snapshot(
    *, location: Location, as_of: datetime, rows: Sequence[LevelRow], reference: str,
    actor: str, now: datetime,
) -> SnapshotOutcome:
    """Must run inside a transaction."""
    if connection.vendor == "postgresql":
        return _apply_postgresql(location, as_of, rows, reference, actor, now)
    return _apply_portable(location, as_of, rows, reference, actor, now)


def _apply_postgresql(location: Location, as_of: datetime, rows: Sequence[LevelRow],
                      reference: str, actor: str, now: datetime) -> SnapshotOutcome:
    params = {
        "location": location.pk,
        "as_of": as_of,
        "now": now,
        "skus": [r.sku for r in rows],
        "on_hand": [r.on_hand for r in rows],
        "safety": [r.safety_stock for r in rows],
        "kind": MovementKind.COUNT.value,
        "reference": reference,
        "actor": actor,
    }
    with connection.cursor() as cursor:
        cursor.execute(_PG_INSERT_NEW, params)
        inserted, inserted_moves = cursor.fetchone()
        if len(inserted) == len(rows):
            return SnapshotOutcome(applied=len(rows), moved=inserted_moves, shortfalls=[])
        new = set(inserted)
        existing = [r for r in rows if r.sku not in new]
        params.update(skus=[r.sku for r in existing], on_hand=[r.on_hand for r in existing],
                      safety=[r.safety_stock for r in existing])
        cursor.execute(_PG_APPLY, params)
        applied, moved, shortfalls = cursor.fetchone()
    if isinstance(shortfalls, str):
        shortfalls = json.loads(shortfalls)
    return SnapshotOutcome(applied=len(inserted) + applied, moved=inserted_moves + moved,
                           shortfalls=shortfalls)


def _apply_portable(location: Location, as_of: datetime, rows: Sequence[LevelRow],
                    reference: str, actor: str, now: datetime) -> SnapshotOutcome:
    StockLevel.objects.bulk_create(
        [StockLevel(product_id=r.sku, location=location, updated_at=now) for r in rows],
        ignore_conflicts=True,
        batch_size=500,
    )
    by_sku = {r.sku: r for r in rows}
    since = dict(
        StockMovement.objects.filter(location=location, product_id__in=list(by_sku),
                                     created_at__gt=as_of)
        .exclude(kind=MovementKind.COUNT).values("product_id")
        .annotate(total=Sum("quantity")).values_list("product_id", "total")
    )
    levels = [
        level
        for level in StockLevel.objects.select_for_update().filter(
            location=location, product_id__in=list(by_sku)
        ).order_by("pk")
        if level.snapshot_as_of is None or level.snapshot_as_of <= as_of
    ]
    movements, shortfalls = [], []
    for level in levels:
        row = by_sku[level.product_id]
        counted = max(row.on_hand + since.get(level.product_id, 0), 0)
        previous = (level.on_hand, level.safety_stock)
        if counted != level.on_hand:
            movements.append(StockMovement(
                location=location, product_id=level.product_id,
                quantity=counted - level.on_hand, kind=MovementKind.COUNT,
                reference=reference, on_hand_after=counted, actor=actor, created_at=now,
            ))
        level.on_hand = counted
        if row.safety_stock is not None:
            level.safety_stock = row.safety_stock
        level.snapshot_as_of, level.updated_at = as_of, now
        changed = (level.on_hand, level.safety_stock) != previous
        if changed and level.reserved > 0 and level.on_hand - level.safety_stock < level.reserved:
            shortfalls.append({"sku": level.product_id, "on_hand": level.on_hand,
                               "reserved": level.reserved, "safety_stock": level.safety_stock})
    StockLevel.objects.bulk_update(
        levels, ["on_hand", "safety_stock", "snapshot_as_of", "updated_at"], batch_size=500
    )
    StockMovement.objects.bulk_create(movements, batch_size=500)
    return SnapshotOutcome(applied=len(levels), moved=len(movements), shortfalls=shortfalls)
