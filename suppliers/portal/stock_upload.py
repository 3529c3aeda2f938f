"""The supplier portal's stock import: a CSV snapshot (`site,sku,on_hand`) with the `as_of` the
supplier gives in the form, checked row by row, then applied through the same service as
``POST /api/v1/stock/snapshots`` (`inventory.services.stock_snapshot_apply`, one call per site), so
the semantics are the API's: a row older than the last applied count is ignored, reserved stays,
every changed on-hand writes a ``count`` movement.

A file without errors is applied at once. A file with errors applies nothing; its report lists
every bad row, and the supplier may then choose to apply the valid rows.

Where the upload lives: in the cache (Redis in production), keyed by supplier and upload id, for
`UPLOAD_TTL` seconds, not in a model (suppliers/models.py is not this area's to change). The
price: an upload's report and its held valid rows are gone after an hour or a Redis flush (the
supplier uploads the file again; nothing half-applied is lost, because applying is one
transaction), and there is no history of uploads beyond the stock movements (reference
``portal upload <id>``) and the ``stock.snapshot_applied`` events.

Progress: the work runs inside the upload request (at most `MAX_UPLOAD_BYTES`, which checks and
applies in a few seconds), writing a small progress entry every `PROGRESS_EVERY` rows; the page
polls it while its request is in flight. No Celery worker is needed, so an upload can never sit
queued behind other work or be lost with a worker."""

from __future__ import annotations

import csv
import io
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import IO, Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inventory.models import Location
from inventory.services import stock_snapshot_apply
from inventory.sql.snapshot import LevelRow
from oms.catalog.models import SKU_PATTERN
from oms.catalog.selectors import unknown_skus
from oms.core.errors import InvalidInput

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # 5 MB: about 150,000 rows of typical codes
MAX_ROWS = 50_000  # as many as one API snapshot takes (SNAPSHOT_MAX_LEVELS)
MAX_QUANTITY = 2_000_000_000  # as the API (inventory.api.serializers)
UPLOAD_TTL = 60 * 60  # seconds an upload's report and held rows are kept
PROGRESS_EVERY = 5_000  # rows between progress entries
MAX_STORED_ERRORS = 1_000  # errors kept for the report; the rest are counted
COLUMNS = ("site", "sku", "on_hand")

_SKU = re.compile(SKU_PATTERN)


class UploadStatus:
    CHECKING = "checking"
    INVALID = "invalid"  # errors found; nothing applied; the valid rows are held
    APPLYING = "applying"
    APPLIED = "applied"
    FAILED = "failed"  # applying failed (a SKU or site vanished meanwhile); nothing applied


@dataclass
class UploadState:
    """What the report page shows; stored in the cache as a dict."""

    id: str
    supplier_id: int
    user: str
    file_name: str
    as_of: str  # ISO 8601
    created: str
    status: str = UploadStatus.CHECKING
    delimiter: str = ","
    rows: int = 0
    valid_rows: int = 0
    error_rows: int = 0
    error_count: int = 0
    # [(line, column, code, value, params)], the first MAX_STORED_ERRORS
    errors: list[list[Any]] = field(default_factory=list)
    file_errors: list[list[Any]] = field(default_factory=list)  # [(code, params)]
    sites: dict[str, int] = field(default_factory=dict)  # valid rows per site
    result: dict[str, int] | None = None  # applied, ignored, movements, shortfalls
    valid_only: bool = False  # applied the valid rows of a file with errors

    @property
    def as_of_time(self) -> datetime:
        return datetime.fromisoformat(self.as_of)


@dataclass(frozen=True)
class CheckedFile:
    state: UploadState
    levels: dict[str, list[LevelRow]]  # the valid rows per site code


# -- messages (rendered in the reader's language, so the state stores codes) -------------------

def error_message(code: str, params: dict[str, Any]) -> str:
    messages: dict[str, Callable[[], str]] = {
        "too_large": lambda: _("The file has %(size)s; at most %(max)s are accepted.") % params,
        "not_utf8": lambda: _("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload "
                              "it again."),
        "empty": lambda: _("The file is empty."),
        "missing_columns": lambda: _("Missing columns: %(columns)s. The first line must name "
                                     "the columns site, sku and on_hand.") % params,
        "unknown_columns": lambda: _("Unknown columns: %(columns)s. Only site, sku and "
                                     "on_hand are read.") % params,
        "duplicate_columns": lambda: _("Columns named twice: %(columns)s.") % params,
        "no_rows": lambda: _("The file has no rows below its header."),
        "too_many_rows": lambda: _("The file has more than %(max)s rows; split it.") % params,
        "field_count": lambda: ngettext("Expected %(expected)d value, found %(found)d.",
                                        "Expected %(expected)d values, found %(found)d.",
                                        params["expected"]) % params,
        "site_unknown": lambda: _("“%(value)s” is not one of your sites.") % params,
        "sku_invalid": lambda: _("“%(value)s” is not a valid SKU.") % params,
        "sku_unknown": lambda: _("Unknown SKU “%(value)s”.") % params,
        "on_hand_missing": lambda: _("Give the count on hand."),
        "on_hand_negative": lambda: _("The count may not be negative."),
        "on_hand_not_integer": lambda: _("“%(value)s” is not a whole number.") % params,
        "on_hand_too_large": lambda: _("The count may be at most %(max)s.") % params,
        "duplicate": lambda: _("Site and SKU also appear in line %(other)d.") % params,
        "site_gone": lambda: _("Site %(value)s is no longer one of your sites.") % params,
        "apply_failed": lambda: _("Nothing was applied: %(reason)s") % params,
    }
    return messages[code]() if code in messages else code


def size_text(size: int) -> str:
    """Megabytes, rounded up to a tenth so that a file just over the limit never reads as the
    limit itself; whole megabytes without decimals ("5 MB")."""
    tenths = math.ceil(size * 10 / 1024 / 1024)
    if tenths % 10 == 0:
        return f"{tenths // 10} MB"
    return f"{number_format(tenths / 10, 1)} MB"


# -- the cache ----------------------------------------------------------------------------------

def _key(supplier_id: int, upload_id: str, part: str = "state") -> str:
    return f"suppliers:stock-upload:{supplier_id}:{upload_id}:{part}"


def _save(state: UploadState) -> None:
    cache.set(_key(state.supplier_id, state.id), asdict(state), UPLOAD_TTL)


def _progress(state: UploadState, phase: str, done: int, total: int) -> None:
    cache.set(_key(state.supplier_id, state.id, "progress"),
              {"status": state.status, "phase": phase, "done": done, "total": total},
              UPLOAD_TTL)


def stock_upload_get(*, supplier_id: int, upload_id: str) -> UploadState | None:
    """The upload of this supplier (another supplier's id finds nothing)."""
    data = cache.get(_key(supplier_id, str(upload_id)))
    return UploadState(**data) if data else None


def stock_upload_progress(*, supplier_id: int, upload_id: str) -> dict[str, Any] | None:
    return cache.get(_key(supplier_id, str(upload_id), "progress"))


def new_upload_id() -> str:
    return str(uuid.uuid4())


# -- checking -----------------------------------------------------------------------------------

def _decode(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte order mark
    except UnicodeDecodeError:
        return None


def _delimiter(header_line: str) -> str:
    # Excel writes ";" where the decimal separator is a comma (German settings).
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _count(value: str) -> tuple[int | None, str | None]:
    """(count, None) or (None, error code)."""
    if not value:
        return None, "on_hand_missing"
    if value.isascii() and value.isdigit():
        number = int(value)
        return (number, None) if number <= MAX_QUANTITY else (None, "on_hand_too_large")
    if value[0] == "-" and value[1:].isascii() and value[1:].isdigit():
        return None, "on_hand_negative"
    return None, "on_hand_not_integer"


def stock_upload_check(*, sites: dict[str, Location], raw: bytes,
                       state: UploadState) -> CheckedFile:
    """Every problem of the file, by line (the header is line 1, as a spreadsheet counts), and
    the valid rows per site. Makes one query (the catalog look-up of the SKUs)."""
    levels: dict[str, list[LevelRow]] = {}

    def file_error(code: str, **params: Any) -> CheckedFile:
        state.file_errors.append([code, params])
        state.status = UploadStatus.INVALID
        return CheckedFile(state, {})

    if len(raw) > MAX_UPLOAD_BYTES:
        return file_error("too_large", size=size_text(len(raw)), max=size_text(MAX_UPLOAD_BYTES))
    text = _decode(raw)
    if text is None:
        return file_error("not_utf8")
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        return file_error("empty")
    state.delimiter = _delimiter(first_line)
    expected = text.count("\n")  # the progress total; quoted line breaks make it an estimate
    reader = csv.reader(io.StringIO(text), delimiter=state.delimiter)
    header = [name.strip().lower() for name in next(reader)]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    twice = sorted({c for c in header if header.count(c) > 1})
    if missing or unknown or twice:
        for code, columns in (("missing_columns", missing), ("unknown_columns", unknown),
                              ("duplicate_columns", twice)):
            if columns:
                state.file_errors.append([code, {"columns": ", ".join(columns)}])
        state.status = UploadStatus.INVALID
        return CheckedFile(state, {})
    i_site, i_sku, i_count = (header.index(c) for c in COLUMNS)
    width = len(header)

    errors = state.errors
    bad_lines: set[int] = set()
    # (site, sku) -> (line, count) of the rows valid so far
    valid: dict[tuple[str, str], tuple[int, int]] = {}
    first_line_of: dict[tuple[str, str], int] = {}

    def error(line: int, column: str, code: str, value: str = "", **params: Any) -> None:
        bad_lines.add(line)
        state.error_count += 1
        if len(errors) < MAX_STORED_ERRORS:
            errors.append([line, column, code, value, {"value": value, **params}])

    rows = 0
    for row in reader:
        line = reader.line_num
        if len(row) != width:
            if not any(cell.strip() for cell in row):
                continue  # blank lines, often at the end of a spreadsheet export
            rows += 1
            error(line, "", "field_count", state.delimiter.join(row)[:80], expected=width,
                  found=len(row))
        else:
            rows += 1
            site, sku, count_text = row[i_site].strip(), row[i_sku].strip(), row[i_count].strip()
            ok = True
            if site not in sites:
                error(line, "site", "site_unknown", site[:80])
                ok = False
            if not _SKU.match(sku):
                error(line, "sku", "sku_invalid", sku[:80])
                ok = False
            count, problem = _count(count_text)
            if problem:
                error(line, "on_hand", problem, count_text[:80], max=MAX_QUANTITY)
                ok = False
            key = (site, sku)
            first = first_line_of.setdefault(key, line)
            if first != line:
                error(line, "sku", "duplicate", sku[:80], other=first)
                if valid.pop(key, None) is not None:
                    error(first, "sku", "duplicate", sku[:80], other=line)
                ok = False
            if ok:
                valid[key] = (line, count)  # type: ignore[assignment]
        if rows > MAX_ROWS:
            state.errors.clear()
            state.error_count = 0
            return file_error("too_many_rows", max=MAX_ROWS)
        if rows % PROGRESS_EVERY == 0:
            _progress(state, "checking", rows, max(expected, rows))
    state.rows = rows
    if not rows:
        return file_error("no_rows")

    _progress(state, "catalog", rows, rows)
    missing_skus = set(unknown_skus([sku for _site, sku in valid]))
    if missing_skus:
        for key in [k for k in valid if k[1] in missing_skus]:
            line, _count_value = valid.pop(key)
            error(line, "sku", "sku_unknown", key[1])
    state.errors.sort(key=lambda e: (e[0], COLUMNS.index(e[1]) if e[1] in COLUMNS else -1))
    for (site, sku), (_line, count) in valid.items():
        levels.setdefault(site, []).append(LevelRow(sku, count))
    state.valid_rows = len(valid)
    state.error_rows = len(bad_lines)
    state.sites = {site: len(rows_) for site, rows_ in levels.items()}
    state.status = UploadStatus.INVALID if bad_lines else UploadStatus.CHECKING
    return CheckedFile(state, levels)


# -- applying -----------------------------------------------------------------------------------

def _apply(state: UploadState, supplier_sites: dict[str, Location],
           levels: dict[str, list[LevelRow]]) -> UploadState:
    """All sites in one transaction: a failure at the second site takes back the first."""
    state.status = UploadStatus.APPLYING
    _progress(state, "applying", 0, state.valid_rows)
    totals = {"applied": 0, "ignored": 0, "movements": 0, "shortfalls": 0}
    done = 0
    try:
        with transaction.atomic():
            for site, rows in levels.items():
                location = supplier_sites.get(site)
                if location is None:
                    raise InvalidInput([("site_gone", error_message("site_gone",
                                                                    {"value": site}), "site")])
                result = stock_snapshot_apply(
                    location=location, as_of=state.as_of_time, levels=rows,
                    actor=f"supplier portal: {state.user}"[:100],
                    reference=f"portal upload {state.id}",
                )
                for name in totals:
                    totals[name] += getattr(result, name)
                done += len(rows)
                _progress(state, "applying", done, state.valid_rows)
    except InvalidInput as refused:
        state.status = UploadStatus.FAILED
        state.file_errors.append(["apply_failed", {"reason": " ".join(
            e["detail"] for e in refused.errors())}])
        return state
    state.status = UploadStatus.APPLIED
    state.result = totals
    return state


def _supplier_sites(supplier_id: int) -> dict[str, Location]:
    # Read at each step, not kept: a site taken from the supplier meanwhile is refused.
    return {location.code: location
            for location in Location.objects.filter(supplier_site__supplier_id=supplier_id)}


def stock_upload_run(*, supplier_id: int, user: str, upload_id: str, file: IO[bytes],
                     size: int, file_name: str, as_of: datetime) -> UploadState:
    """Check an uploaded file and, if it has no errors, apply it. With errors nothing is
    applied; the valid rows are held (`UPLOAD_TTL`) for `stock_upload_apply_valid`."""
    state = UploadState(id=str(upload_id), supplier_id=supplier_id, user=user,
                        file_name=file_name[:200], as_of=as_of.isoformat(),
                        created=timezone.now().isoformat())
    _progress(state, "reading", 0, 0)
    sites = _supplier_sites(supplier_id)
    if size > MAX_UPLOAD_BYTES:  # not read at all
        state.file_errors.append(["too_large", {"size": size_text(size),
                                                "max": size_text(MAX_UPLOAD_BYTES)}])
        state.status = UploadStatus.INVALID
        checked = CheckedFile(state, {})
    else:
        checked = stock_upload_check(sites=sites, raw=file.read(MAX_UPLOAD_BYTES + 1),
                                     state=state)
    if state.status == UploadStatus.INVALID:
        if checked.levels:
            cache.set(_key(supplier_id, state.id, "rows"),
                      {site: [[r.sku for r in rows], [r.on_hand for r in rows]]
                       for site, rows in checked.levels.items()}, UPLOAD_TTL)
    else:
        _apply(state, sites, checked.levels)
    _save(state)
    _progress(state, "done", state.rows, state.rows)
    return state


def stock_upload_apply_valid(*, supplier_id: int, upload_id: str,
                             user: str) -> UploadState | None:
    """Apply the held valid rows of a file with errors, once (a second click, or a second tab,
    finds the upload applied or being applied). None: no such upload (expired, or not this
    supplier's)."""
    state = stock_upload_get(supplier_id=supplier_id, upload_id=upload_id)
    if state is None:
        return None
    if state.status != UploadStatus.INVALID or not state.valid_rows:
        return state
    lock = _key(supplier_id, state.id, "lock")
    if not cache.add(lock, user, UPLOAD_TTL):
        return state
    held = cache.get(_key(supplier_id, state.id, "rows"))
    if not held:
        cache.delete(lock)
        return None
    levels = {site: [LevelRow(sku, n) for sku, n in zip(skus, counts, strict=True)]
              for site, (skus, counts) in held.items()}
    state.valid_only = True
    _apply(state, _supplier_sites(supplier_id), levels)
    # Applied or failed, the upload is finished (the lock stays until it expires with it); after
    # a failure (a site or SKU gone meanwhile) the supplier uploads a corrected file.
    cache.delete(_key(supplier_id, state.id, "rows"))
    _save(state)
    _progress(state, "done", state.valid_rows, state.valid_rows)
    return state
