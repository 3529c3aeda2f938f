"""A reservation line keeps the database checks that say something (its reservation, its stock
level) and drops those its stock level already makes: the SKU and the location are the stock
level's own, and checking them again locked the product's and the location's rows in every cart
hold. Of its indexes only the primary key, the unique (reservation_id, stock_level_id), which
serves look-ups by reservation, and stock_level_id stay: nothing reads lines by SKU or location
alone."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0001_initial'),
        ('inventory', '0008_stock_by_sku_covering'),
    ]

    operations = [
        migrations.AlterField(
            model_name='reservationline',
            name='location',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='inventory.location'),
        ),
        migrations.AlterField(
            model_name='reservationline',
            name='product',
            field=models.ForeignKey(db_column='sku', db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='catalog.product', to_field='sku'),
        ),
        migrations.AlterField(
            model_name='reservationline',
            name='reservation',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='inventory.reservation'),
        ),
    ]
