"""The outbox keeps only the indexes something reads: every event of every write maintains them.

Gone: the index on (aggregate_type, aggregate_id), which no query of the service uses, and the
two on topic alone (a btree and its LIKE twin). New: (topic, created_at), for the delay notice's
look-up of one order's recent rejections and the cockpit's topic filter. The outbox is large and
written by every transaction, so every index is built and dropped CONCURRENTLY (the new one
first).
"""

from django.db import migrations, models

from oms.core.migration_ops import add_index_concurrently, drop_index_concurrently

TABLE = "core_outboxevent"
DROPPED = [
    ("outbox_aggregate", "(aggregate_type, aggregate_id)"),
    ("core_outboxevent_topic_6512ae7c", "(topic)"),
    ("core_outboxevent_topic_6512ae7c_like", "(topic varchar_pattern_ops)"),
]


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("core", "0003_idempotency_key_response_headers"),
    ]

    operations = [
        add_index_concurrently(
            "core", "outboxevent",
            models.Index(fields=["topic", "created_at"], name="outbox_by_topic"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="outboxevent", name="outbox_aggregate"),
                migrations.AlterField(
                    model_name="outboxevent",
                    name="topic",
                    field=models.CharField(max_length=100),
                ),
            ],
            database_operations=[
                drop_index_concurrently(TABLE, name, columns) for name, columns in DROPPED
            ],
        ),
    ]
