"""The attempt mechanism's tables (oms/core/attempts/): new tables, nothing else touched."""

import django_fsm
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("core", "0004_lean_hot_writes")]

    operations = [
        migrations.CreateModel(
            name="Attempt",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("kind", models.CharField(max_length=40, verbose_name="kind")),
                ("target_id", models.PositiveBigIntegerField(verbose_name="about")),
                ("status", django_fsm.FSMField(
                    choices=[("pending", "Waiting for its turn"), ("in_flight", "Being sent"),
                             ("succeeded", "Succeeded"), ("dead", "Gave up"),
                             ("cancelled", "Cancelled")],
                    default="pending", max_length=50, protected=True, verbose_name="status")),
                ("tries", models.PositiveIntegerField(default=0, verbose_name="tries")),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True,
                                                         verbose_name="next attempt")),
                ("last_error", models.TextField(blank=True, default="",
                                                verbose_name="last error")),
                ("created_at", models.DateTimeField(verbose_name="created")),
                ("finished_at", models.DateTimeField(blank=True, null=True,
                                                     verbose_name="finished")),
            ],
            options={
                "verbose_name": "outbound call",
                "verbose_name_plural": "outbound calls",
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "target_id"),
                                            name="attempt_once_per_target"),
                    models.CheckConstraint(
                        condition=models.Q(status__in=["pending", "in_flight", "succeeded",
                                                       "dead", "cancelled"]),
                        name="attempt_status_valid"),
                ],
                "indexes": [
                    models.Index(condition=models.Q(status__in=["pending", "in_flight"]),
                                 fields=["next_attempt_at"], name="attempt_due"),
                    models.Index(fields=["kind", "status", "created_at"],
                                 name="attempt_by_kind_status"),
                ],
            },
            bases=(django_fsm.ConcurrentTransitionMixin, models.Model),
        ),
        migrations.CreateModel(
            name="AttemptTry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("number", models.PositiveIntegerField(verbose_name="number")),
                ("at", models.DateTimeField(verbose_name="at")),
                ("ok", models.BooleanField(verbose_name="succeeded")),
                ("status_code", models.PositiveSmallIntegerField(blank=True, null=True,
                                                                 verbose_name="answer")),
                ("error", models.TextField(blank=True, default="", verbose_name="error")),
                ("duration_ms", models.PositiveIntegerField(verbose_name="duration (ms)")),
                ("attempt", models.ForeignKey(on_delete=models.deletion.CASCADE,
                                              related_name="log", to="core.attempt")),
            ],
            options={"verbose_name": "try", "verbose_name_plural": "tries",
                     "ordering": ["attempt", "number", "pk"]},
        ),
    ]
