"""The ledger as plain CSV for spreadsheets and BI: one line per journal line, UTF-8, comma
separated, CRLF line ends and a header line (RFC 4180, quoting as Python's csv module does it:
a field with a comma, a quote or a line break in double quotes, quotes doubled); dates ISO
8601, amounts with a decimal point, both sides given (the other one 0.00)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import islice

from ledger.selectors import ExportRow

HEADER = ("date", "entry", "reference", "text", "account", "account_name", "debit", "credit")
CONTENT_TYPE = "text/csv; charset=utf-8"
ROWS_PER_CHUNK = 5_000
CRLF = "\r\n"
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def field(value: str) -> str:
    """One text field: as it is, or quoted when it holds a comma, a quote or a line break."""
    if _NEEDS_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_chunks(rows: Iterable[ExportRow], *,
               rows_per_chunk: int = ROWS_PER_CHUNK) -> Iterator[bytes]:
    """The file in pieces of `rows_per_chunk` lines, the header line first: memory holds one
    piece, never the file. What a line shares with the one before (its entry's date,
    document and text; its account) is formatted once, not per line: a million lines take
    seconds (bench/ledger_export)."""
    yield (",".join(HEADER) + CRLF).encode()
    iterator = iter(rows)
    last_entry, prefix = None, ""
    accounts: dict[tuple[str, str], str] = {}
    while True:
        lines = []
        for day, entry, reference, text, number, name, debit, credit in islice(
                iterator, rows_per_chunk):
            if entry != last_entry:
                last_entry = entry
                prefix = f"{day.isoformat()},{entry},{field(reference)},{field(text)},"
            account = accounts.get((number, name))
            if account is None:
                account = accounts[number, name] = f"{field(number)},{field(name)},"
            lines.append(f"{prefix}{account}{debit},{credit}{CRLF}")
        if not lines:
            return
        yield "".join(lines).encode()
