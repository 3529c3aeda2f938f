"""The inventory app's hand-written SQL (ARCHITECTURE.md rule 11): one function per statement,
each tested against what the ORM does, each kept for a benchmark figure:

- `hold`: the cart hold in one statement and the conditional reservation UPDATE — the hottest
  write path: through the ORM a cart hold cost ~7 ms of application CPU against ~2.5 ms, and
  the hot row's lock is held only inside the database (bench/hot_sku);
- `snapshot`: a stock snapshot applied set-based, two statements for 50,000 rows instead of a
  statement per row (bench/snapshots);
- `stock`: the availability and sourcing reads, plain rows for a few hundred locations and SKUs
  per request, where model instances cost more than the query (bench/availability).

Columns and values come from the models' own field lists (the helpers below), so a field added
later is written and read too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


def concrete_fields(model: type[Model]) -> list[Field]:
    return list(model._meta.concrete_fields)  # the documented Model _meta API


def quoted_columns(fields: Sequence[Field]) -> str:
    return ", ".join(connection.ops.quote_name(f.column) for f in fields)


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def db_values(instance: Model) -> list[Any]:
    """The instance's column values as the ORM would write them."""
    return [f.get_db_prep_save(getattr(instance, f.attname), connection)
            for f in concrete_fields(type(instance))]


def as_loaded(instance: M) -> M:
    """The instance written by hand, as the ORM would load it back (saving it again updates)."""
    fields = concrete_fields(type(instance))
    return type(instance).from_db(connection.alias, [f.attname for f in fields],
                                  [getattr(instance, f.attname) for f in fields])
