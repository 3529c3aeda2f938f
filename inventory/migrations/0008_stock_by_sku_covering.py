"""An index that answers availability reads (every location's on_hand, reserved and safety
stock for a few SKUs) without visiting the table.

One SKU's rows are spread over the table, one per location page, as snapshot feeds load
location after location: 20 SKUs x 200 locations touched 4,000 heap pages per call (15-20 ms
with 2M rows). From this index they are ~90 index pages (~1.5 ms; bench/availability.py).

The price, paid by writes: on_hand, reserved and safety_stock are now indexed, so changing one
of them is no longer a heap-only (HOT) update (migration 0005) and writes a new entry into each
of the table's four indexes; rows a snapshot leaves unchanged stay HOT. The availability
section of bench/README.md has the measured cost.

Raw SQL, so the migration state does not know the index (StockLevel.Meta does not declare it);
CONCURRENTLY keeps reservations and snapshots writing while it is built on a large table.
"""

from django.db import migrations

from oms.core.migration_ops import run_sql


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("inventory", "0007_location_pickup_hold_days_staff")]

    operations = [
        run_sql(
            "CREATE INDEX CONCURRENTLY stock_by_sku_covering "
            "ON inventory_stocklevel (sku) INCLUDE (location_id, on_hand, reserved, safety_stock)",
            "DROP INDEX CONCURRENTLY IF EXISTS stock_by_sku_covering",
        ),
        # An index-only scan skips the table only on pages the visibility map marks all-visible,
        # and any update clears its page's bit until the next vacuum. At the default (20% of
        # rows changed) a 2M-row table is vacuumed after 400,000 updates, long after nearly every
        # page was cleared and the read is back to one heap page per row. At 0.5% (10,000
        # random updates, ~5 s of vacuum) about 20% of the rows read come from the table just
        # before a vacuum.
        run_sql(
            "ALTER TABLE inventory_stocklevel SET (autovacuum_vacuum_scale_factor = 0.005)",
            "ALTER TABLE inventory_stocklevel RESET (autovacuum_vacuum_scale_factor)",
        ),
    ]
