"""The ledger export benchmark's journal: a year of balanced entries written by SQL, one
``INSERT ... SELECT`` from ``generate_series`` per table and transaction.

Entries follow a fixed cycle of eight (22 lines): a sale at 19 % (receivable against revenue
and VAT, 3 lines), a card capture (2), a sale at 19 %, a capture, a sale at 19 % and 7 % (5
lines), a bank transfer (2), a return at 19 % (returns and VAT against the receivable, 3), a
capture; the last few entries are captures and one sale so that the lines add up to exactly
the number asked for. Amounts come from a hash of the entry's id (10.00 to 509.99 gross),
so reruns write the same rows. Booking dates spread evenly over 2026, rising with the id;
texts carry an umlaut ("Müller") so the DATEV export's Windows-1252 encoding has work to do.

The ledger's triggers stay on: every transaction is checked at commit (each entry balanced,
at least two lines), as any posting is; the load runs in transactions of
:data:`ENTRIES_PER_TRANSACTION` entries so that each commit's deferred checks stay short."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bench.harness.config import BenchConfig
from bench.harness.database import raw_connection, vacuum_analyze

YEAR_START = date(2026, 1, 1)
YEAR_END = date(2026, 12, 31)
ENTRIES_PER_TRANSACTION = 50_000
FIRST_REFERENCE = 1_000_000

# kind: (name, [(role, side, amount)]) in posting order; amounts: g gross 19 %, n19 its net,
# v19 its VAT, h gross 7 %, n7 its net, v7 its VAT, gh = g + h
KINDS: dict[int, tuple[str, list[tuple[str, str, str]]]] = {
    0: ("Verkauf", [("receivables", "D", "g"), ("revenue:19", "C", "n19"),
                    ("vat:19", "C", "v19")]),
    1: ("Zahlung Karte", [("psp_clearing:card", "D", "g"), ("receivables", "C", "g")]),
    2: ("Verkauf", [("receivables", "D", "gh"), ("revenue:19", "C", "n19"),
                    ("vat:19", "C", "v19"), ("revenue:7", "C", "n7"), ("vat:7", "C", "v7")]),
    3: ("Rücksendung", [("returns:19", "D", "n19"), ("vat:19", "D", "v19"),
                        ("receivables", "C", "g")]),
    4: ("Überweisung", [("bank", "D", "g"), ("receivables", "C", "g")]),
}
CYCLE = [0, 1, 0, 1, 2, 4, 3, 1]
LINES = {kind: len(legs) for kind, (_, legs) in KINDS.items()}


@dataclass(frozen=True)
class Loaded:
    entries: int
    lines: int
    seconds: float


def plan(lines: int) -> list[int]:
    """The kinds of the entries, in id order, whose lines add up to exactly `lines` (>= 5)."""
    per_cycle = sum(LINES[k] for k in CYCLE)
    cycles, rest = divmod(lines, per_cycle)
    if rest % 2 and rest < 3:  # an odd rest needs a 3-line sale: borrow a cycle
        cycles, rest = cycles - 1, rest + per_cycle
    tail = [0] if rest % 2 else []
    tail += [1] * ((rest - 3 * len(tail)) // 2)
    kinds = CYCLE * cycles + tail
    assert sum(LINES[k] for k in kinds) == lines
    return kinds


TEMPLATE_SQL = """
CREATE TEMP TABLE bench_le_leg (kind smallint, seq smallint, account_id bigint, side "char",
                                amount text) ON COMMIT PRESERVE ROWS
"""

ENTRIES_SQL = """
INSERT INTO ledger_journalentry (id, booked_on, reference, text, source, reverses_id, created_at)
SELECT p.id,
       %(start)s::date + ((p.id - 1) * %(days)s / %(total)s)::int,
       (%(first_reference)s + p.id)::text,
       k.name || ' ' || (%(first_reference)s + p.id)::text || ' Müller',
       'bench:' || p.id::text, NULL, now()
  FROM (SELECT %(first_id)s + n - 1 AS id, kind
          FROM unnest(%(kinds)s::smallint[]) WITH ORDINALITY AS u(kind, n)) p
  JOIN (SELECT * FROM unnest(%(kind_ids)s::smallint[], %(kind_names)s::text[])
          AS t(kind, name)) k USING (kind)
 ORDER BY p.id
"""

LINES_SQL = """
INSERT INTO ledger_journalline (entry_id, account_id, debit, credit)
SELECT a.id, l.account_id,
       CASE WHEN l.side = 'D' THEN x.amount ELSE 0 END,
       CASE WHEN l.side = 'C' THEN x.amount ELSE 0 END
  FROM (SELECT e.*, round(e.g / 1.19, 2) AS n19, round(e.h / 1.07, 2) AS n7
          FROM (SELECT %(first_id)s + n - 1 AS id, kind,
                       (1000 + (hashint8extended(%(first_id)s + n - 1, 1) & 65535) %% 50000)
                           ::numeric / 100 AS g,
                       (500 + (hashint8extended(%(first_id)s + n - 1, 2) & 65535) %% 20000)
                           ::numeric / 100 AS h
                  FROM unnest(%(kinds)s::smallint[]) WITH ORDINALITY AS u(kind, n)) e) a
  JOIN bench_le_leg l ON l.kind = a.kind
 CROSS JOIN LATERAL (SELECT CASE l.amount WHEN 'g' THEN a.g WHEN 'n19' THEN a.n19
                                           WHEN 'v19' THEN a.g - a.n19 WHEN 'n7' THEN a.n7
                                           WHEN 'v7' THEN a.h - a.n7 WHEN 'gh' THEN a.g + a.h
                                      END AS amount) x
 ORDER BY a.id, l.seq
"""

SEQUENCE_SQL = ("SELECT setval(pg_get_serial_sequence('ledger_journalentry', 'id'), "
                "(SELECT max(id) FROM ledger_journalentry))")


def journal_load(config: BenchConfig, db: str, *, lines: int,
                 progress: Callable[[str], None]) -> Loaded:
    """Write `lines` journal lines (and their entries) into the migrated database `db`."""
    from ledger.chart import account_for

    started = time.perf_counter()
    roles = {role for _, legs in KINDS.values() for role, _, _ in legs}
    accounts = {role: account_for(role).pk for role in sorted(roles)}
    kinds = plan(lines)
    total = len(kinds)
    with raw_connection(config, db) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        conn.execute(TEMPLATE_SQL)
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_le_leg VALUES (%s, %s, %s, %s, %s)",
                [(kind, seq, accounts[role], side, amount)
                 for kind, (_, legs) in KINDS.items()
                 for seq, (role, side, amount) in enumerate(legs)])
        conn.commit()
        names = {"kind_ids": list(KINDS), "kind_names": [name for name, _ in KINDS.values()]}
        for first in range(0, total, ENTRIES_PER_TRANSACTION):
            chunk = kinds[first:first + ENTRIES_PER_TRANSACTION]
            params = {"first_id": first + 1, "kinds": chunk, "start": YEAR_START,
                      "days": (YEAR_END - YEAR_START).days + 1, "total": total,
                      "first_reference": FIRST_REFERENCE, **names}
            conn.execute(ENTRIES_SQL, params)
            conn.execute(LINES_SQL, params)
            conn.commit()  # the ledger's deferred triggers check every entry here
            progress(f"{first + len(chunk):,} of {total:,} entries written and checked")
        conn.execute(SEQUENCE_SQL)
        conn.commit()
    vacuum_analyze(config, db, "ledger_journalentry", "ledger_journalline", "ledger_account")
    with raw_connection(config, db) as conn:
        conn.autocommit = True
        conn.execute("CHECKPOINT")
    return Loaded(entries=total, lines=lines, seconds=time.perf_counter() - started)
