"""A reservation line keeps the database checks that say something (its reservation, its stock
level) and drops those its stock level already makes: the SKU and the location are the stock
level's own, and checking them again locked the product's and the location's rows in every cart
hold. Its indexes on SKU (two) and on reservation_id go: nothing reads lines by SKU, and the
unique (reservation_id, stock_level_id) index serves look-ups by reservation.

The table only grows and every cart hold and order writes it, so the database side is written
by hand rather than by Django's AlterField (which would drop and re-check the reservation
foreign key over every row and drop the indexes under a table lock, all in one transaction):
each constraint is dropped in a transaction of its own, the indexes CONCURRENTLY; going back
builds them CONCURRENTLY and adds the constraints NOT VALID before validating them.
"""

import django.db.models.deletion
from django.db import migrations, models

from oms.core.migration_ops import drop_index_concurrently, run_sql

TABLE = "inventory_reservationline"
FOREIGN_KEYS = [
    ("inventory_reservationline_sku_e9d61b9f_fk_catalog_product_sku",
     "FOREIGN KEY (sku) REFERENCES catalog_product (sku)"),
    ("inventory_reservatio_location_id_276237e2_fk_inventory",
     "FOREIGN KEY (location_id) REFERENCES inventory_location (id)"),
]
INDEXES = [
    ("inventory_reservationline_sku_e9d61b9f", "(sku)"),
    ("inventory_reservationline_sku_e9d61b9f_like", "(sku varchar_pattern_ops)"),
    ("inventory_reservationline_reservation_id_3333fa7b", "(reservation_id)"),
]


def drop_foreign_key(name: str, definition: str) -> migrations.RunPython:
    return run_sql(
        f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {name}",
        [f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition} "
         "DEFERRABLE INITIALLY DEFERRED NOT VALID",
         f"ALTER TABLE {TABLE} VALIDATE CONSTRAINT {name}"],
    )


class Migration(migrations.Migration):
    atomic = False  # DROP/CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("catalog", "0001_initial"),
        ("inventory", "0008_stock_by_sku_covering"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="reservationline",
                    name="location",
                    field=models.ForeignKey(
                        db_constraint=False, on_delete=django.db.models.deletion.PROTECT,
                        related_name="+", to="inventory.location"),
                ),
                migrations.AlterField(
                    model_name="reservationline",
                    name="product",
                    field=models.ForeignKey(
                        db_column="sku", db_constraint=False, db_index=False,
                        on_delete=django.db.models.deletion.PROTECT, related_name="+",
                        to="catalog.product", to_field="sku"),
                ),
                migrations.AlterField(
                    model_name="reservationline",
                    name="reservation",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE,
                        related_name="lines", to="inventory.reservation"),
                ),
            ],
            database_operations=[
                *(drop_foreign_key(name, definition) for name, definition in FOREIGN_KEYS),
                *(drop_index_concurrently(TABLE, name, columns) for name, columns in INDEXES),
            ],
        ),
    ]
