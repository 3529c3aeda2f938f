"""Webhook deliveries move onto the attempt mechanism: each delivery's status, tries and next
attempt become an attempt of kind ``webhook``, its logged attempts become tries. Copied in
batches (see oms.core.attempts.migration_support), then the old columns and the old log table
are dropped: a catalogue change, no table is rewritten."""

from django.db import migrations

from oms.core.attempts.migration_support import copy_to_attempts, noop

STATUS = {"pending": "pending", "delivered": "succeeded", "dead": "dead"}


def forward(apps, schema_editor):
    delivery = apps.get_model("core", "WebhookDelivery")
    logged = apps.get_model("core", "WebhookAttempt")

    def tries_of(ids):
        tries = {}
        for row in logged.objects.filter(delivery_id__in=ids).order_by("number").values():
            tries.setdefault(row["delivery_id"], []).append({
                "number": row["number"], "at": row["at"],
                "ok": row["response_status"] is not None and 200 <= row["response_status"] < 300,
                "status_code": row["response_status"], "error": row["error"],
                "duration_ms": row["duration_ms"]})
        return tries

    copy_to_attempts(
        apps, kind="webhook",
        source=delivery.objects.values("id", "status", "attempts", "next_attempt_at",
                                       "created_at", "finished_at"),
        attempt_fields=lambda row: {
            "status": STATUS.get(row["status"], "dead"), "tries": row["attempts"],
            "next_attempt_at": row["next_attempt_at"] if row["status"] == "pending" else None,
            "created_at": row["created_at"], "finished_at": row["finished_at"]},
        tries_of=tries_of)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("core", "0005_attempts")]

    operations = [
        migrations.RunPython(forward, noop),
        migrations.RemoveIndex(model_name="webhookdelivery", name="webhook_delivery_due"),
        migrations.RemoveField(model_name="webhookdelivery", name="status"),
        migrations.RemoveField(model_name="webhookdelivery", name="attempts"),
        migrations.RemoveField(model_name="webhookdelivery", name="next_attempt_at"),
        migrations.RemoveField(model_name="webhookdelivery", name="finished_at"),
        migrations.DeleteModel(name="WebhookAttempt"),
    ]
