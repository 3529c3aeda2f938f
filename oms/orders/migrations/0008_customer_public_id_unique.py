"""Step 3 of 3: every customer has a public id; from now on it is unique and required, and a
new customer gets one at creation."""

import uuid

from django.db import migrations, models

from oms.core.migration_ops import run_sql

# A customer the previous release created after step 2 ran (it knows no public id) gets one
# here, in the transaction that makes the column required.
CATCH_UP = "UPDATE orders_customer SET public_id = gen_random_uuid() WHERE public_id IS NULL"


class Migration(migrations.Migration):

    dependencies = [("orders", "0007_customer_public_id_fill")]

    operations = [
        run_sql(CATCH_UP, "SELECT 1"),
        migrations.AlterField(
            model_name="customer", name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True,
                                   verbose_name="public id")),
    ]
