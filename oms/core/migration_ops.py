"""Migration operations shared by the apps' migrations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from django.db import migrations
from django.db.models import Index


def run_sql(forward_sql: str | Sequence[str],
            reverse_sql: str | Sequence[str]) -> migrations.RunPython:
    """Raw SQL for PostgreSQL features (sequences, triggers, storage parameters, CONCURRENTLY).
    Several statements run one by one: in a migration with ``atomic = False`` each is then a
    transaction of its own."""

    def run(sql: str | Sequence[str]) -> Callable[[Any, Any], None]:
        statements = [sql] if isinstance(sql, str) else list(sql)

        def apply(apps: Any, schema_editor: Any) -> None:
            # Raw SQL by design (schema changes the ORM cannot say), allow-listed in
            # tests/core/test_raw_sql_confined.py.
            for statement in statements:
                schema_editor.execute(statement)

        return apply

    return migrations.RunPython(run(forward_sql), run(reverse_sql))


def add_index_concurrently(app_label: str, model_name: str,
                           index: Index) -> migrations.SeparateDatabaseAndState:
    """`AddIndex` that keeps a large table writable while the index is built (CREATE INDEX
    CONCURRENTLY, so the migration must say ``atomic = False``), and that can run again after
    an interruption, which django.contrib.postgres's AddIndexConcurrently cannot."""

    def build(apps: Any, schema_editor: Any, *, create: bool) -> None:
        model = apps.get_model(app_label, model_name)
        change = schema_editor.add_index if create else schema_editor.remove_index
        # An interrupted CREATE INDEX CONCURRENTLY leaves an invalid index of that name
        # behind, which would make running the migration again fail: start afresh.
        schema_editor.execute(_drop_index_sql(schema_editor.quote_name(index.name)))
        if create:
            change(model, index, concurrently=True)

    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AddIndex(model_name=model_name, index=index)],
        database_operations=[migrations.RunPython(partial(build, create=True),
                                                  partial(build, create=False))],
    )


def _drop_index_sql(name: str) -> str:
    return f"DROP INDEX CONCURRENTLY IF EXISTS {name}"


def drop_index_concurrently(table: str, name: str, definition: str) -> migrations.RunPython:
    """Drop an index without blocking writes to `table` (the migration must say ``atomic =
    False``); going back builds it again the same way from `definition`, e.g. ``(topic)``."""
    create = f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} {definition}"
    return run_sql(_drop_index_sql(name), create)
