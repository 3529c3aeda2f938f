"""Customer notifications move onto the attempt mechanism (kind ``notification``): each
notification's status, tries, next attempt and last error become its attempt. Copied in
batches (oms.core.attempts.migration_support), then the columns are dropped: catalogue
changes, the table is not rewritten and stays writable."""

from django.db import migrations

from oms.core.attempts.migration_support import copy_to_attempts, noop

STATUS = {"pending": "pending", "sent": "succeeded", "failed": "dead"}


def forward(apps, schema_editor):
    notification = apps.get_model("fulfillment", "Notification")
    copy_to_attempts(
        apps, kind="notification",
        source=notification.objects.values("id", "status", "attempts", "next_attempt_at",
                                           "error", "created_at", "sent_at"),
        attempt_fields=lambda row: {
            "status": STATUS.get(row["status"], "dead"), "tries": row["attempts"],
            "next_attempt_at": row["next_attempt_at"] if row["status"] == "pending" else None,
            "last_error": row["error"], "created_at": row["created_at"],
            "finished_at": row["sent_at"] if row["status"] == "sent"
            else row["created_at"] if row["status"] == "failed" else None})


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("core", "0005_attempts"),
        ("fulfillment", "0009_verbose_names_for_cockpit_columns"),
    ]

    operations = [
        migrations.RunPython(forward, noop),
        migrations.RemoveConstraint(model_name="notification", name="notification_status_valid"),
        migrations.RemoveConstraint(model_name="notification",
                                    name="notification_sent_has_sent_at"),
        migrations.RemoveIndex(model_name="notification", name="notification_due"),
        migrations.RemoveField(model_name="notification", name="attempts"),
        migrations.RemoveField(model_name="notification", name="error"),
        migrations.RemoveField(model_name="notification", name="next_attempt_at"),
        migrations.RemoveField(model_name="notification", name="sent_at"),
        migrations.RemoveField(model_name="notification", name="status"),
    ]
