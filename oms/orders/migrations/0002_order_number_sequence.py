"""Order numbers come from a PostgreSQL sequence: unique, never reused, no hot counter row."""

from django.db import migrations

from oms.core.migration_ops import run_sql


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [
        run_sql(
            "CREATE SEQUENCE IF NOT EXISTS orders_order_number_seq START 1000001",
            "DROP SEQUENCE IF EXISTS orders_order_number_seq",
        )
    ]
