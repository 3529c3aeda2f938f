"""Captures move onto the attempt mechanism (kind ``psp_capture``): the tries, backoff and
lease of each capture we execute become its attempt, its logged PSP calls become tries. Copied
in batches (oms.core.attempts.migration_support), then the old columns and log table are
dropped: catalogue changes, no table is rewritten."""

from django.db import migrations

from oms.core.attempts.migration_support import copy_to_attempts, noop

STATUS = {"pending": "pending", "succeeded": "succeeded", "failed": "dead"}
EXECUTED = ["shipment", "handover"]  # the captures we make; the others were never tried


def forward(apps, schema_editor):
    capture = apps.get_model("payments", "PaymentCapture")
    logged = apps.get_model("payments", "PaymentCaptureAttempt")

    def tries_of(ids):
        tries = {}
        for row in logged.objects.filter(capture_id__in=ids).order_by("number").values():
            tries.setdefault(row["capture_id"], []).append({
                "number": row["number"], "at": row["at"], "ok": row["ok"],
                "status_code": row["http_status"], "error": row["error"],
                "duration_ms": row["duration_ms"]})
        return tries

    def fields(row):
        status = STATUS.get(row["status"], "dead")
        if status == "pending" and row["lease_until"] is not None:
            status = "in_flight"  # claimed: the sweep takes it back once the lease is over
        return {"status": status, "tries": row["attempts"], "last_error": row["last_error"],
                "next_attempt_at": (row["lease_until"] or row["next_attempt_at"])
                if status in ("pending", "in_flight") else None,
                "created_at": row["created_at"],
                "finished_at": None if status in ("pending", "in_flight")
                else row["succeeded_at"] or row["updated_at"]}

    copy_to_attempts(
        apps, kind="psp_capture",
        source=capture.objects.filter(source__in=EXECUTED).values(
            "id", "status", "attempts", "last_error", "next_attempt_at", "lease_until",
            "created_at", "updated_at", "succeeded_at"),
        attempt_fields=fields, tries_of=tries_of)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("core", "0005_attempts"),
        ("payments", "0003_pickup_voids_refunds"),
    ]

    operations = [
        migrations.RunPython(forward, noop),
        migrations.RemoveIndex(model_name="paymentcapture", name="capture_due"),
        migrations.RemoveField(model_name="paymentcapture", name="attempts"),
        migrations.RemoveField(model_name="paymentcapture", name="last_error"),
        migrations.RemoveField(model_name="paymentcapture", name="next_attempt_at"),
        migrations.RemoveField(model_name="paymentcapture", name="lease_until"),
        migrations.DeleteModel(name="PaymentCaptureAttempt"),
    ]
