# Column headers of the cockpit's fulfilment pages in the staff's language: verbose names only,
# no change to the database.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("fulfillment", "0008_dispatch_attempts"),
        ("orders", "0003_order_scope_indexes"),
        ("inventory", "0010_reservation_placed_by"),
    ]

    operations = [
        migrations.AlterField(
            model_name="fulfillmentorder",
            name="order",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="fulfillments", to="orders.order",
                                    verbose_name="order"),
        ),
        migrations.AlterField(
            model_name="fulfillmentorder",
            name="location",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="fulfillments", to="inventory.location",
                                    verbose_name="location"),
        ),
        migrations.AlterField(
            model_name="fulfillmentline",
            name="order_line",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="orders.orderline",
                                    verbose_name="order line"),
        ),
    ]
