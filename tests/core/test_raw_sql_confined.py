"""Hand-written SQL lives only in an app's `sql.py` (or `sql/` package), one function per
statement; everything else uses the ORM and DRF as documented, never their private attributes
(ARCHITECTURE.md rule 11)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("oms", "inventory", "payments", "fulfillment", "returns", "visits", "ledger", "finance",
        "notifications", "crm_sync")
RAW_SQL = re.compile(r"\.execute\(|\.raw\(|\bRawSQL\b|\.extra\(|connection\.cursor\(")
# Django's and DRF's internals a second ORM reaches into (`_meta` is Django's documented API).
PRIVATE = re.compile(r"\._state\b|_prefetched_objects_cache|_declared_fields|\._result_cache|"
                     r"_prefetch_done|\._validators\b|get_compiler\(")

# Files outside sql.py that may run SQL by hand, each with the reason. Keep it short.
ALLOWED: dict[str, str] = {
    # The operations migrations run through the schema editor (CREATE INDEX CONCURRENTLY,
    # sequences): schema changes, not data, and migrations are exempt anyway.
    "oms/core/migration_ops.py": "migration helpers",
}


def in_sql_module(path: Path) -> bool:
    return path.name == "sql.py" or "sql" in path.parent.relative_to(ROOT).parts


def test_hand_written_sql_appears_only_in_sql_modules():
    offenders = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")) if (ROOT / app).exists() else []:
            relative = path.relative_to(ROOT).as_posix()
            if "migrations" in path.parts or in_sql_module(path) or relative in ALLOWED:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if RAW_SQL.search(line) and not line.lstrip().startswith("#"):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == [], "hand-written SQL outside sql.py:\n" + "\n".join(offenders)


def test_no_module_reaches_into_django_or_drf_internals():
    offenders = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")) if (ROOT / app).exists() else []:
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if PRIVATE.search(line):
                    offenders.append(f"{path.relative_to(ROOT).as_posix()}:{number}: "
                                     f"{line.strip()}")
    assert offenders == [], "private attributes of Django or DRF:\n" + "\n".join(offenders)


def test_the_guard_sees_what_it_looks_for():
    # The pattern itself is what stands between a newcomer's cursor.execute and review.
    for sample in ("with connection.cursor() as c:", "cursor.execute(sql)",
                   "psycopg_connection.execute('CREATE DATABASE x')",
                   "Order.objects.raw('SELECT 1')", "annotate(x=RawSQL('1', []))",
                   "qs.extra(where=['1=1'])"):
        assert RAW_SQL.search(sample), sample
    assert not RAW_SQL.search("Order.objects.filter(raw=True)")
    assert PRIVATE.search("instance._state.adding = False")
    assert PRIVATE.search("Serializer._declared_fields")
