"""Migration operations shared by the apps' migrations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import migrations


def postgresql_only(forward_sql: str, reverse_sql: str) -> migrations.RunPython:
    """Raw SQL for PostgreSQL features (sequences, triggers, storage parameters); a no-op on the
    SQLite database of the embedded demo mode."""

    def run(sql: str) -> Callable[[Any, Any], None]:
        def apply(apps: Any, schema_editor: Any) -> None:
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(sql)

        return apply

    return migrations.RunPython(run(forward_sql), run(reverse_sql))
