"""Order numbers come from a PostgreSQL sequence: unique, never reused, no hot counter row."""

from django.db import migrations


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [
        migrations.RunPython(
            _on_postgresql("CREATE SEQUENCE IF NOT EXISTS orders_order_number_seq START 1000001"),
            _on_postgresql("DROP SEQUENCE IF EXISTS orders_order_number_seq"),
        )
    ]
