"""The orders app's hand-written SQL: one function per statement (ARCHITECTURE.md rule 11).

The ORM has no expression for taking the next value of a sequence, so this one statement is
written by hand.
"""

from __future__ import annotations

from django.db import connection

ORDER_NUMBER_SEQUENCE = "orders_order_number_seq"  # created by migration 0002


def order_number_next() -> str:
    """Human-friendly, unique and never reused: a PostgreSQL sequence does not hand out a value
    twice, even when the transaction that took it rolls back (gaps are allowed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [ORDER_NUMBER_SEQUENCE])
        return str(cursor.fetchone()[0])
