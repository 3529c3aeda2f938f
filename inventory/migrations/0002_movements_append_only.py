"""Stock movements are a journal: PostgreSQL refuses to update or delete them."""

from django.db import migrations

from oms.core.migration_ops import run_sql

CREATE = """
CREATE OR REPLACE FUNCTION inventory_refuse_movement_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stock movements are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER inventory_stockmovement_append_only
    BEFORE UPDATE OR DELETE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_refuse_movement_change();
"""
DROP = """
DROP TRIGGER IF EXISTS inventory_stockmovement_append_only ON inventory_stockmovement;
DROP FUNCTION IF EXISTS inventory_refuse_movement_change();
"""


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [run_sql(CREATE, DROP)]
