"""The Notification model moves to the `notifications` app (notifications/migrations/0001).
Only Django's record of the models changes: the table `fulfillment_notification` and its rows,
indexes and constraints stay as they are, and the new app's model keeps that table name."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("fulfillment", "0010_notifications_to_attempts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")],
            database_operations=[],
        ),
    ]
