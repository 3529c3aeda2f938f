"""The writes of holding stock, in plain SQL: a reservation row with its lines, and the
conditional UPDATE that moves units into (or out of) `StockLevel.reserved`.

They run for every cart hold and every order, many times a second on one hot stock row. Through
the ORM a cart hold cost ~7 ms of application CPU on the 2-core benchmark machine, most of it
query compilation; in plain SQL it is ~2.5 ms (bench/hot_sku.py). Each round trip costs another
0.1-0.3 ms of CPU, so the reservation and its lines go in one statement on PostgreSQL. The SQL
goes through Django's cursor (query logging and error translation stay) and its text depends only
on the number of lines, so each connection keeps it prepared (`DATABASE_PREPARE_THRESHOLD`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Model

from inventory.models import Reservation
from inventory.sql import as_loaded, concrete_fields, db_values, placeholders, quoted_columns
from oms.core.models import OutboxEvent

# A reservation line as it is written: stock level id, sku, location id, units.
NewLine = tuple[int, str, int, int]

# available = on_hand - reserved - safety_stock (ARCHITECTURE.md rule 5). Under READ COMMITTED
# the condition is checked again on the newest row version once the row lock is granted, so
# concurrent holds can never take more than there is.
_RESERVE = """
UPDATE inventory_stocklevel SET reserved = reserved + %s, updated_at = %s
WHERE id = %s AND on_hand - reserved - safety_stock >= %s
"""
# Units given back never wait for availability; CHECK (reserved >= 0) guards the count.
_RELEASE = """
UPDATE inventory_stocklevel SET reserved = reserved - %s, updated_at = %s WHERE id = %s
"""


@cache
def _insert_into(model: type[Model]) -> str:
    return f"INSERT INTO {model._meta.db_table} ({quoted_columns(concrete_fields(model))})"


@cache
def _placeholders(model: type[Model]) -> str:
    return placeholders(len(concrete_fields(model)))


@cache
def _reservation_insert_sql() -> str:
    return f"{_insert_into(Reservation)} VALUES ({_placeholders(Reservation)})"


@lru_cache(maxsize=64)  # one text per line count
def _lines_insert_sql(count: int) -> str:
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * count)
    return ("INSERT INTO inventory_reservationline "
            f"(reservation_id, stock_level_id, sku, location_id, quantity) VALUES {rows}")


def _line_values(reservation_id: Any, lines: Sequence[NewLine]) -> list[Any]:
    return [value for line in lines for value in (reservation_id, *line)]


def reservation_insert(reservation: Reservation, lines: Sequence[NewLine]) -> Reservation:
    """Write a reservation built in memory (its primary key set) with its lines; returns it as
    loaded from the database."""
    values = db_values(reservation)
    line_values = _line_values(values[0], lines)
    with connection.cursor() as cursor:
        if lines:
            # One round trip: the lines' foreign key to the reservation is checked at the end of
            # the statement, when the reservation row exists.
            cursor.execute(f"WITH reservation AS ({_reservation_insert_sql()}) "
                           f"{_lines_insert_sql(len(lines))}", values + line_values)
        else:
            cursor.execute(_reservation_insert_sql(), values)
    return as_loaded(reservation)


def lines_insert(reservation: Reservation, lines: Sequence[NewLine]) -> None:
    """Add lines to a reservation that has none at their stock levels (the database allows one
    line per reservation and stock level)."""
    if not lines:
        return
    reservation_id = Reservation._meta.pk.get_db_prep_save(reservation.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(_lines_insert_sql(len(lines)), _line_values(reservation_id, lines))


def reserved_change(changes: Iterable[tuple[int, int]], now: datetime) -> int | None:
    """Add (stock level id, units) to `reserved` in the order given, taking units only while
    they are available. Returns the id of the first level that did not have them and stops
    there (the caller rolls back); None once every change is made."""
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        for level_id, units in changes:
            if units > 0:
                cursor.execute(_RESERVE, [units, at, level_id, units])
            else:
                cursor.execute(_RELEASE, [-units, at, level_id])
            if cursor.rowcount != 1:
                return level_id
    return None


@cache
def hold_sql() -> str:
    """One stock row's UPDATE and everything the hold writes, as one statement. Each INSERT
    selects FROM the CTE before it, so if the UPDATE matches no row (the units are gone) nothing
    is inserted. (The parts of one statement run concurrently; the data flow through RETURNING
    is what orders them.)"""
    return (
        f"WITH held AS ({_RESERVE.strip()} RETURNING id), "
        f"reservation AS ({_insert_into(Reservation)} "
        f"SELECT {_placeholders(Reservation)} FROM held RETURNING id), "
        "line AS (INSERT INTO inventory_reservationline "
        "(reservation_id, stock_level_id, sku, location_id, quantity) "
        "SELECT id, %s, %s, %s, %s FROM reservation) "
        f"{_insert_into(OutboxEvent)} SELECT {_placeholders(OutboxEvent)} FROM reservation"
    )


def hold_params(reservation: Reservation, line: NewLine, event: OutboxEvent,
                now: datetime) -> list[Any]:
    """`hold_sql`'s parameters, in its placeholders' order: the UPDATE's four, the
    reservation's columns, the line's four, the event's columns."""
    level_id, _sku, _location_id, units = line
    return [units, connection.ops.adapt_datetimefield_value(now), level_id, units,
            *db_values(reservation), *line, *db_values(event)]


class HoldPositions(NamedTuple):
    """Where the values that differ from one hold to the next sit in `hold_params`."""

    reservation_id: int
    event_id: int
    event_aggregate_id: int  # the reservation's id, as text


@cache
def hold_param_positions() -> HoldPositions:
    reservation = [f.attname for f in concrete_fields(Reservation)]
    event = [f.attname for f in concrete_fields(OutboxEvent)]
    event_start = 4 + len(reservation) + 4  # after the UPDATE's four, the reservation, the line
    return HoldPositions(4 + reservation.index("id"), event_start + event.index("id"),
                         event_start + event.index("aggregate_id"))


def hold_write(reservation: Reservation, line: NewLine, event: OutboxEvent,
               now: datetime) -> tuple[Reservation, OutboxEvent] | None:
    """PostgreSQL, outside any transaction: take `line`'s units from its stock row and write the
    reservation (its primary key set) with that line and the outbox `event`, in one statement,
    which autocommit makes one transaction. None, with nothing written, if the row no longer has
    the units; otherwise both, as loaded from the database.

    The hot row's lock is held from the UPDATE to the end of the statement's commit, all inside
    the server: no round trip to an application process that may be waiting for a CPU."""
    with connection.cursor() as cursor:
        cursor.execute(hold_sql(), hold_params(reservation, line, event, now))
        if cursor.rowcount != 1:
            return None
    return as_loaded(reservation), as_loaded(event)
