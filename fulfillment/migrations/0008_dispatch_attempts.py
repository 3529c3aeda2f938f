"""Dispatches move onto the attempt mechanism (kind ``wms_dispatch``): each pushed fulfilment
order's status, tries, due time and last error become its attempt; the fulfilment order keeps
only how it goes out (held, pushed, polled). The copy and the relabelling run in batches of
their own transactions (oms.core.attempts.migration_support), then four columns are dropped
and one renamed: catalogue changes, the table is not rewritten and stays writable."""

from django.db import migrations, models

from oms.core.attempts.migration_support import copy_to_attempts, noop, update_in_batches

STATUS = {"pending": "pending", "sent": "succeeded", "dead": "dead"}


def forward(apps, schema_editor):
    fulfillment = apps.get_model("fulfillment", "FulfillmentOrder")
    copy_to_attempts(
        apps, kind="wms_dispatch",
        source=fulfillment.objects.filter(dispatch_status__in=list(STATUS)).values(
            "id", "dispatch_status", "dispatch_attempts", "dispatch_due_at", "dispatched_at",
            "dispatch_error", "created_at", "updated_at"),
        attempt_fields=lambda row: {
            "status": STATUS[row["dispatch_status"]], "tries": row["dispatch_attempts"],
            "next_attempt_at": row["dispatch_due_at"]
            if row["dispatch_status"] == "pending" else None,
            "last_error": row["dispatch_error"], "created_at": row["created_at"],
            "finished_at": row["dispatched_at"] if row["dispatch_status"] == "sent"
            else row["updated_at"] if row["dispatch_status"] == "dead" else None})
    update_in_batches(fulfillment.objects.filter(dispatch_status__in=list(STATUS)),
                      {"dispatch_status": "pushed"})


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("core", "0006_webhook_deliveries_to_attempts"),
        ("fulfillment", "0007_transfer_destination"),
    ]

    operations = [
        migrations.AlterField(
            model_name="fulfillmentorder", name="dispatch_status",
            field=models.CharField(
                choices=[("held", "Waiting for the payment"), ("pending", "To be sent"),
                         ("sent", "Sent"), ("dead", "Gave up"), ("pushed", "Pushed"),
                         ("polled", "No push endpoint: the location polls")],
                default="pending", max_length=10, verbose_name="dispatch"),
        ),
        migrations.RunPython(forward, noop),
        migrations.RemoveIndex(model_name="fulfillmentorder", name="fulfillment_dispatch_due"),
        migrations.RemoveField(model_name="fulfillmentorder", name="dispatch_attempts"),
        migrations.RemoveField(model_name="fulfillmentorder", name="dispatch_due_at"),
        migrations.RemoveField(model_name="fulfillmentorder", name="dispatched_at"),
        migrations.RemoveField(model_name="fulfillmentorder", name="dispatch_error"),
        migrations.RenameField(model_name="fulfillmentorder", old_name="dispatch_status",
                               new_name="dispatch_mode"),
        migrations.AlterField(
            model_name="fulfillmentorder", name="dispatch_mode",
            field=models.CharField(
                choices=[("held", "Waiting for the payment"), ("pushed", "Pushed to the location"),
                         ("polled", "No push endpoint: the location polls")],
                default="pushed", max_length=10, verbose_name="dispatch"),
        ),
    ]
