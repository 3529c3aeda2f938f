"""Selling clients find a customer by external id (API.md, Customers): an index, built without
blocking new customers (orders keep coming in meanwhile)."""

from django.db import migrations, models

from oms.core.migration_ops import add_index_concurrently


class Migration(migrations.Migration):

    atomic = False
    dependencies = [("orders", "0009_consent")]

    operations = [
        add_index_concurrently("orders", "customer", models.Index(
            condition=~models.Q(external_id=""), fields=["external_id"],
            name="customer_external_id")),
    ]
