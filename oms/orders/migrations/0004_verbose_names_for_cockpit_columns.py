# Column headers of the cockpit's order pages in the staff's language: verbose names only, no
# change to the database.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0003_order_scope_indexes"),
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="customer",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="orders", to="orders.customer",
                                    verbose_name="customer"),
        ),
        migrations.AlterField(
            model_name="orderline",
            name="product",
            field=models.ForeignKey(db_column="sku", on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="catalog.product", to_field="sku",
                                    verbose_name="product"),
        ),
    ]
