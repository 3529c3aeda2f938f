"""Plain SQL written from a model's own field list, for the few hot statements that bypass the
ORM's query compiler (cart holds, the customer found or inserted at intake, the lookups every
request makes). Taking the columns from the model means a field added later is written and read
too."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]
Converting = list[tuple[int, Any, list[Converter]]]  # column index, its expression, converters


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


@cache
def _select(model: type[Model], vendor: str) -> tuple[str, list[str], Converting]:
    """`SELECT <every column> FROM <table>`, the attribute names in that order, and the
    converters the ORM would apply to each column (JSON is read as text; SQLite returns dates,
    decimals and UUIDs as strings)."""
    db = connections[DEFAULT_DB_ALIAS]
    fields = list(model._meta.concrete_fields)
    converting = []
    for i, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        converters = db.ops.get_db_converters(column) + field.get_db_converters(db)
        if converters:
            converting.append((i, column, converters))
    sql = f"SELECT {quoted_columns(fields)} FROM {db.ops.quote_name(model._meta.db_table)}"
    return sql, [f.attname for f in fields], converting


def select_models(model: type[M], where: str, params: Sequence[Any]) -> list[M]:
    """The instances of `model` whose rows match `where` (SQL with ``%s`` placeholders), as the
    ORM would load them but without compiling a query: for lookups made on every request, where
    compiling costs more than running them."""
    db = connections[DEFAULT_DB_ALIAS]
    sql, names, converting = _select(model, db.vendor)
    with db.cursor() as cursor:
        cursor.execute(f"{sql} WHERE {where}", params)
        rows = cursor.fetchall()
    found = []
    for row in rows:
        if converting:
            row = list(row)
            for i, column, converters in converting:
                for convert in converters:
                    row[i] = convert(row[i], column, db)
        found.append(model.from_db(db.alias, names, row))
    return found


def models_by_pk(model: type[M], pks: Sequence[Any]) -> dict[Any, M]:
    """`in_bulk` without compiling a query."""
    if not pks:
        return {}
    found = select_models(model, f"{model._meta.pk.column} IN ({placeholders(len(pks))})", pks)
    return {instance.pk: instance for instance in found}
