"""Plain SQL written from a model's own field list, for the few hot writes that bypass the ORM's
query compiler (cart holds, the customer found or inserted at intake). Taking the columns from
the model means a field added later is written and read too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model


def quoted_columns(fields: Sequence[Field]) -> str:
    return ", ".join(connection.ops.quote_name(f.column) for f in fields)


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def db_values(instance: Model, fields: Sequence[Field] | None = None) -> list[Any]:
    """The instance's values of `fields` (default: every column) as the ORM would write them
    (UUIDs and datetimes are stored differently by PostgreSQL and SQLite)."""
    # The connection itself rather than the `connection` proxy: each field asks it a few things,
    # and every attribute read through the proxy is a thread-local lookup.
    db = connections[DEFAULT_DB_ALIAS]
    return [f.get_db_prep_save(getattr(instance, f.attname), db)
            for f in (fields if fields is not None else instance._meta.concrete_fields)]


def mark_loaded(instance: Model) -> None:
    """Mark an instance written by hand as one the ORM wrote (saving it again updates)."""
    instance._state.adding = False
    instance._state.db = connection.alias
