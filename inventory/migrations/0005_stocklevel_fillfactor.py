"""Leave room on each page of stock levels so updates of on_hand/reserved stay heap-only."""

from django.db import migrations

from oms.core.migration_ops import run_sql


class Migration(migrations.Migration):
    dependencies = [("inventory", "0004_lean_stock_indexes")]

    operations = [
        run_sql(
            "ALTER TABLE inventory_stocklevel SET (fillfactor = 70)",
            "ALTER TABLE inventory_stocklevel RESET (fillfactor)",
        )
    ]
