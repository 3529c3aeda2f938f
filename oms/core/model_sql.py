"""Plain SQL written from a model's own field list, for the few hot statements that bypass the
ORM's query compiler (cart holds, the customer found or inserted at intake, the lookups every
request makes). Taking the columns from the model means a field added later is written and read
too."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property
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


@dataclass(frozen=True)
class _Part:
    """One model's columns in a hand-written SELECT: from which position, loaded as which model,
    and for a joined one, on which instance (by path) and foreign key it hangs."""
    model: type[Model]
    start: int
    names: list[str]
    converting: Converting
    parent: str | None = None  # path of the instance it hangs on ("" is the selected model)
    field: Any = None  # that instance's foreign key

    @cached_property
    def pk_at(self) -> int:
        return self.start + self.names.index(self.model._meta.pk.attname)


@cache
def _select(model: type[Model], related: tuple[str, ...],
            vendor: str) -> tuple[str, dict[str, _Part]]:
    """``SELECT <every column> FROM <table>``, joined along each foreign-key path in `related`
    (``"order__customer"``; the joined table is aliased by its path) as ``select_related``
    joins: INNER for a key that cannot be null, LEFT from the first one that can; and how to
    cut a row into instances, with the converters the ORM would apply to each column (JSON is
    read as text; SQLite returns dates, decimals and UUIDs as strings)."""
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    table = model._meta.db_table
    parts = {"": _part(model, table, 0, db)}
    columns = [_qualified(table, model)]
    joins = []
    nullable = {"": False}
    for path in related:
        parent = ""
        for name in path.split("__"):
            here = f"{parent}__{name}" if parent else name
            if here not in parts:
                field = parts[parent].model._meta.get_field(name)
                target = field.related_model
                start = sum(len(p.names) for p in parts.values())
                parts[here] = replace(_part(target, here, start, db), parent=parent,
                                      field=field)
                columns.append(_qualified(here, target))
                nullable[here] = nullable[parent] or field.null
                join = "LEFT JOIN" if nullable[here] else "INNER JOIN"
                joins.append(
                    f" {join} {quote(target._meta.db_table)} {quote(here)}"
                    f" ON {quote(here)}.{quote(field.target_field.column)}"
                    f" = {quote(parent or table)}.{quote(field.column)}")
            parent = here
    sql = f"SELECT {', '.join(columns)} FROM {quote(table)}{''.join(joins)}"
    return sql, parts


def _qualified(alias: str, model: type[Model]) -> str:
    quote = connection.ops.quote_name
    return ", ".join(f"{quote(alias)}.{quote(f.column)}" for f in model._meta.concrete_fields)


def _part(model: type[Model], alias: str, start: int, db: Any) -> _Part:
    fields = list(model._meta.concrete_fields)
    converting = []
    for i, field in enumerate(fields):
        column = field.get_col(alias)
        # as the compiler does: a foreign key also gets its target field's converters
        converters = db.ops.get_db_converters(column) + column.get_db_converters(db)
        if converters:
            converting.append((start + i, column, converters))
    return _Part(model, start, [f.attname for f in fields], converting)


def select_models(model: type[M], where: str, params: Sequence[Any], *,
                  related: Sequence[str] = ()) -> list[M]:
    """The instances of `model` whose rows match `where` (SQL with ``%s`` placeholders; it may
    go on with ORDER BY, LIMIT, FOR UPDATE), as the ORM would load them but without compiling a
    query: for lookups made on every request or event, where compiling costs more than running
    them. `related` works like ``select_related`` (foreign-key paths); with it, name columns
    by table (``orders_order.number``) or by path, quoted (``"customer".email``), and lock
    with ``for_update(of=<table>)``: a row on the nullable side of a LEFT JOIN cannot be locked."""
    db = connections[DEFAULT_DB_ALIAS]
    sql, parts = _select(model, tuple(related), db.vendor)
    with db.cursor() as cursor:
        cursor.execute(f"{sql} WHERE {where}", params)
        rows = cursor.fetchall()
    found = []
    for row in rows:
        row = list(row)
        loaded: dict[str, Model | None] = {}
        for path, part in parts.items():
            for i, column, converters in part.converting:
                for convert in converters:
                    row[i] = convert(row[i], column, db)
            # a LEFT JOIN that found nothing: no related instance
            instance = None if row[part.pk_at] is None else part.model.from_db(
                db.alias, part.names, row[part.start:part.start + len(part.names)])
            loaded[path] = instance
            if part.parent is not None and loaded[part.parent] is not None:
                part.field.set_cached_value(loaded[part.parent], instance)
        found.append(loaded[""])
    return found


def select_model(model: type[M], where: str, params: Sequence[Any], *,
                 related: Sequence[str] = ()) -> M | None:
    """The first of `select_models`, or None: ``.first()`` without compiling a query."""
    found = select_models(model, where, params, related=related)
    return found[0] if found else None


def for_update(*, of: str = "", skip_locked: bool = False) -> str:
    """The locking clause that ends a `select_models` WHERE, the backend's own (as the ORM's
    select_for_update writes it): nothing on SQLite (demo mode), which locks the whole database
    anyway."""
    if not connection.features.has_select_for_update:
        return ""
    locked = (connection.ops.quote_name(of),) if of else ()
    return " " + connection.ops.for_update_sql(skip_locked=skip_locked, of=locked)


def db_param(model: type[Model], field_name: str, value: Any) -> Any:
    """`value` as the ORM would pass it for `field_name` in a query (a UUID is text on SQLite)."""
    return model._meta.get_field(field_name).get_db_prep_value(value, connection)


def models_by_pk(model: type[M], pks: Sequence[Any]) -> dict[Any, M]:
    """`in_bulk` without compiling a query."""
    if not pks:
        return {}
    column = connection.ops.quote_name(model._meta.pk.column)
    found = select_models(model, f"{column} IN ({placeholders(len(pks))})",
                          [db_param(model, model._meta.pk.name, pk) for pk in pks])
    return {instance.pk: instance for instance in found}
