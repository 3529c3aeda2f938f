# Indexes for the order scope of store- and supplier-confined clients (fulfillment.order_scope),
# built CONCURRENTLY so a large orders table stays writable during the deploy.

from django.db import migrations, models

from oms.core.migration_ops import add_index_concurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('orders', '0002_order_number_sequence'),
    ]

    operations = [
        add_index_concurrently(
            'orders', 'order', models.Index(fields=['placed_by'], name='order_placed_by')),
        add_index_concurrently(
            'orders', 'order',
            models.Index(condition=models.Q(('pickup_location', ''), _negated=True),
                         fields=['pickup_location'], name='order_pickup_location')),
    ]
