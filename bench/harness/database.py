"""A database of its own for each benchmark, Django pointed at it, and the raw statements the
fixtures use (COPY, VACUUM): fixture work, not the code under test."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from typing import Any

from bench.harness.config import BenchConfig

MAINTENANCE_DB = "postgres"
STOCK_COLUMNS = "sku, location_id, on_hand, reserved, safety_stock, updated_at"


def _maintenance(config: BenchConfig) -> Any:
    import psycopg

    return psycopg.connect(config.database_url(MAINTENANCE_DB), autocommit=True)


def database_drop(config: BenchConfig, name: str) -> None:
    from psycopg import sql

    with _maintenance(config) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def database_create(config: BenchConfig, name: str) -> None:
    """(Re)create `name`; a database left over by an earlier ``--keep`` run is dropped first."""
    from psycopg import sql

    database_drop(config, name)
    with _maintenance(config) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def bootstrap_django(config: BenchConfig, db_name: str) -> None:
    """Put the benchmark environment in place and set Django up against `db_name`."""
    os.environ.update(config.server_env(db_name))
    import django

    django.setup()


def django_use_database(name: str) -> None:
    """Point the already set-up Django at another database (as Django's test runner does)."""
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = name


@contextlib.contextmanager
def bench_database(config: BenchConfig, benchmark: str) -> Iterator[str]:
    """A fresh, migrated database for one benchmark, dropped afterwards unless ``--keep``."""
    from django.core.management import call_command
    from django.db import connections

    name = config.db_name(benchmark)
    database_create(config, name)
    try:
        django_use_database(name)
        call_command("migrate", interactive=False, verbosity=0)
        yield name
    finally:
        connections.close_all()
        if config.keep:
            print(f"  kept database {name} ({config.database_url(name)})")
        else:
            database_drop(config, name)


def raw_connection(config: BenchConfig, db_name: str) -> Any:
    """A psycopg connection of its own (for COPY and maintenance statements)."""
    import psycopg

    return psycopg.connect(config.database_url(db_name))


def postgres_version(config: BenchConfig) -> str:
    with _maintenance(config) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def stock_copy(config: BenchConfig, db: str, chunks: Iterable[str]) -> None:
    """COPY stock rows into ``inventory_stocklevel``: each chunk holds tab-separated lines of
    sku, location id, on_hand, reserved, safety_stock and updated_at (one chunk per location
    keeps a location's rows together, as a snapshot feed writes them)."""
    with raw_connection(config, db) as conn:
        with conn.cursor() as cursor, cursor.copy(
                f"COPY inventory_stocklevel ({STOCK_COLUMNS}) FROM STDIN") as copy:
            for chunk in chunks:
                copy.write(chunk.encode())
        conn.commit()


def vacuum_analyze(config: BenchConfig, db: str, *targets: str) -> None:
    """``VACUUM (ANALYZE)`` of `targets` (default: the whole database), outside a transaction."""
    with raw_connection(config, db) as conn:
        conn.autocommit = True
        conn.execute(f"VACUUM (ANALYZE) {', '.join(targets)}".rstrip())


def products_create(skus: list[str], name: str = "Bench product") -> None:
    """The catalogue through ``products_upsert``, 2,000 products per call."""
    from oms.catalog.services import ProductData, products_upsert

    for start in range(0, len(skus), 2000):
        products_upsert(products=[ProductData(sku=s, name=f"{name} {s}")
                                  for s in skus[start:start + 2000]])
