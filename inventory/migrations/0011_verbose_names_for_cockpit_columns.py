# Column headers of the cockpit's stock lists in the staff's language: verbose names only, no
# change to the database.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("inventory", "0010_reservation_placed_by"),
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="stocklevel",
            name="product",
            field=models.ForeignKey(db_column="sku", db_index=False,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="stock_levels", to="catalog.product",
                                    to_field="sku", verbose_name="product"),
        ),
        migrations.AlterField(
            model_name="stocklevel",
            name="location",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="stock_levels", to="inventory.location",
                                    verbose_name="location"),
        ),
        migrations.AlterField(
            model_name="stocklevel",
            name="updated_at",
            field=models.DateTimeField(verbose_name="updated"),
        ),
        migrations.AlterField(
            model_name="stockmovement",
            name="location",
            field=models.ForeignKey(db_constraint=False, db_index=False,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="movements", to="inventory.location",
                                    verbose_name="location"),
        ),
        migrations.AlterField(
            model_name="stockmovement",
            name="product",
            field=models.ForeignKey(db_column="sku", db_constraint=False, db_index=False,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="movements", to="catalog.product",
                                    to_field="sku", verbose_name="product"),
        ),
        migrations.AlterField(
            model_name="reservationline",
            name="product",
            field=models.ForeignKey(db_column="sku", db_constraint=False, db_index=False,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="catalog.product", to_field="sku",
                                    verbose_name="product"),
        ),
        migrations.AlterField(
            model_name="reservationline",
            name="location",
            field=models.ForeignKey(db_constraint=False,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="inventory.location",
                                    verbose_name="location"),
        ),
    ]
