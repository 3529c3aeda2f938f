"""Step 2 of 3: a random public id for every existing customer, in batches, each its own
transaction (the migration is not atomic), so a large table is never locked as a whole and an
interrupted run resumes where it stopped (it only fills rows still without one)."""

import uuid
from typing import Any

from django.db import migrations, transaction

BATCH = 2000


def fill(apps: Any, schema_editor: Any) -> None:
    customer = apps.get_model("orders", "Customer")
    while True:
        with transaction.atomic(using=schema_editor.connection.alias):
            rows = list(customer.objects.filter(public_id__isnull=True)
                        .order_by("pk").select_for_update()[:BATCH])
            if not rows:
                return
            for row in rows:
                row.public_id = uuid.uuid4()
            customer.objects.bulk_update(rows, ["public_id"])


class Migration(migrations.Migration):

    atomic = False
    dependencies = [("orders", "0006_customer_public_id")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
