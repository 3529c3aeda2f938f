"""Leave room on each page of stock levels so updates of on_hand/reserved stay heap-only."""

from django.db import migrations

from oms.core.migration_ops import postgresql_only


class Migration(migrations.Migration):
    dependencies = [("inventory", "0004_lean_stock_indexes")]

    operations = [
        postgresql_only(
            "ALTER TABLE inventory_stocklevel SET (fillfactor = 70)",
            "ALTER TABLE inventory_stocklevel RESET (fillfactor)",
        )
    ]
