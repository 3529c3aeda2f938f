"""Order numbers come from a PostgreSQL sequence: unique, never reused, no hot counter row."""

from django.db import migrations

from oms.core.migration_ops import postgresql_only


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [
        postgresql_only(
            "CREATE SEQUENCE IF NOT EXISTS orders_order_number_seq START 1000001",
            "DROP SEQUENCE IF EXISTS orders_order_number_seq",
        )
    ]
