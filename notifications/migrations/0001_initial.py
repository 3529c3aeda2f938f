"""The Notification model, until now registered under the `fulfillment` app (fulfillment
migrations 0003 to 0010 built its table), becomes this app's. Nothing in the database changes
but the model's content type: its table keeps the name `fulfillment_notification` (the model's
`db_table`), with its rows, indexes and constraints; the state below is the model as fulfillment
0010 left it. Moving the content type keeps the permissions granted on notifications and the
admin's history of them; on a new database there is none yet (Django creates content types after
migrating) and that step does nothing."""

import django.db.models.deletion
from django.db import migrations, models


def _move_content_type(apps, from_label: str, to_label: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label=to_label, model="notification").exists():
        content_type.objects.filter(app_label=from_label, model="notification").update(
            app_label=to_label)


def forward(apps, schema_editor):
    _move_content_type(apps, "fulfillment", "notifications")


def backward(apps, schema_editor):
    _move_content_type(apps, "notifications", "fulfillment")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("fulfillment", "0011_notification_moves_to_notifications_app"),
        ("orders", "0004_verbose_names_for_cockpit_columns"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('event_id', models.UUIDField(verbose_name='event')),
                        ('topic', models.CharField(max_length=100, verbose_name='topic')),
                        ('kind', models.CharField(choices=[('order_confirmation', 'Order confirmation'), ('shipped', 'Shipped'), ('delay', 'Delay'), ('items_unavailable', 'Items unavailable'), ('delivered', 'Delivered'), ('pickup_ready', 'Ready for pickup'), ('pickup_reminder', 'Pickup reminder'), ('pickup_expired', 'Not collected')], max_length=30, verbose_name='kind')),
                        ('channel', models.CharField(choices=[('email', 'Email'), ('push', 'App push')], max_length=10, verbose_name='channel')),
                        ('recipient', models.CharField(max_length=254, verbose_name='recipient')),
                        ('language', models.CharField(max_length=5, verbose_name='language')),
                        ('subject', models.CharField(max_length=255, verbose_name='subject')),
                        ('body_text', models.TextField(verbose_name='text')),
                        ('body_html', models.TextField(blank=True, default='', verbose_name='HTML')),
                        ('url', models.CharField(blank=True, default='', max_length=500, verbose_name='link')),
                        ('created_at', models.DateTimeField(verbose_name='created')),
                        ('fulfillment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='notifications', to='fulfillment.fulfillmentorder')),
                        ('order', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='notifications', to='orders.order')),
                    ],
                    options={
                        'verbose_name': 'customer notification',
                        'verbose_name_plural': 'customer notifications',
                        'db_table': 'fulfillment_notification',
                        'indexes': [models.Index(fields=['order', 'created_at'], name='notification_by_order')],
                        'constraints': [models.UniqueConstraint(fields=('event_id', 'kind', 'channel'), name='notification_once_per_event_kind_channel')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forward, backward),
    ]
