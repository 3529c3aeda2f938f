"""Return and refund notices (issue 19): four new kinds, and the refund a refund notice is
about, so that the store credit's code, never stored, is put in when the email is sent. A new
nullable column: no table rewrite, existing rows keep NULL."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0001_initial'),
        ('payments', '0005_store_credit_refunds'),
    ]

    operations = [
        migrations.AddField(
            model_name='notification',
            name='refund',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='notifications', to='payments.refund', verbose_name='refund'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('order_confirmation', 'Order confirmation'), ('shipped', 'Shipped'), ('delay', 'Delay'), ('items_unavailable', 'Items unavailable'), ('delivered', 'Delivered'), ('pickup_ready', 'Ready for pickup'), ('pickup_reminder', 'Pickup reminder'), ('pickup_expired', 'Not collected'), ('return_requested', 'Return registered'), ('return_label', 'Return label'), ('return_received', 'Return received'), ('refund_issued', 'Refund issued')], max_length=30, verbose_name='kind'),
        ),
    ]
