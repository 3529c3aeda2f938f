"""Hand-written SQL lives only in an app's `sql.py` (or `sql/` package), one function per
statement; everything else uses the ORM as documented (ARCHITECTURE.md rule 11)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("oms", "inventory", "payments", "fulfillment", "crm_sync")
RAW_SQL = re.compile(r"cursor\.execute|\.raw\(|\bRawSQL\b|\.extra\(|connection\.cursor\(")

# Files outside sql.py that may run SQL by hand, each with the reason. Keep it short.
ALLOWED: dict[str, str] = {
    # The operations migrations run (CREATE INDEX CONCURRENTLY, sequences): schema, not data.
    "oms/core/migration_ops.py": "migration helpers",
}


def in_sql_module(path: Path) -> bool:
    return path.name == "sql.py" or "sql" in path.parent.relative_to(ROOT).parts


def test_hand_written_sql_appears_only_in_sql_modules():
    offenders = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "migrations" in path.parts or in_sql_module(path) or relative in ALLOWED:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if RAW_SQL.search(line) and not line.lstrip().startswith("#"):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == [], "hand-written SQL outside sql.py:\n" + "\n".join(offenders)


def test_the_guard_sees_what_it_looks_for():
    # The pattern itself is what stands between a newcomer's cursor.execute and review.
    for sample in ("with connection.cursor() as c:", "cursor.execute(sql)",
                   "Order.objects.raw('SELECT 1')", "annotate(x=RawSQL('1', []))",
                   "qs.extra(where=['1=1'])"):
        assert RAW_SQL.search(sample), sample
    assert not RAW_SQL.search("Order.objects.filter(raw=True)")
