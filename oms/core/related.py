"""Handing objects a service just wrote to the code that reads them next, without a query.

A service that creates an order with its lines already holds every line; reading them back
(for an event payload, then again for the API answer) cost a query and a model instance per row
each time. `remember_related` puts them where Django's `prefetch_related` would have: a queryset
whose results are filled in, in the instance's prefetch cache. `instance.<name>.all()` answers
from it; `.filter()`, `.exists()` and the like build a new query, as after a prefetch. Only for
objects the caller itself wrote in the current transaction, so they are exactly what a read
would return.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Model


def remember_related(instance: Model, name: str, objects: Iterable[Model]) -> None:
    """`instance.<name>.all()` returns `objects` from now on (until the instance is reloaded)."""
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache.pop(name, None)  # the manager would hand out the cached queryset instead of a new one
    queryset = getattr(instance, name).get_queryset()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    cache[name] = queryset
