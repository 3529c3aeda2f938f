"""The customer's public id (API.md, Customers), step 1 of 3: the column, nullable, so adding
it rewrites nothing and takes the table's lock only for a moment."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("orders", "0005_discount_shipping_returned_statuses")]

    operations = [
        migrations.AddField(
            model_name="customer", name="public_id",
            field=models.UUIDField(editable=False, null=True, verbose_name="public id")),
    ]
