"""The API's one request parser: JSON, decoded by orjson, refusing what nothing downstream can
store or answer (issue 17).

DRF's JSONParser hands Python's `json` module whatever arrives: a body nested a few thousand
levels deep raises RecursionError (a 500), `1e999` becomes an infinite float, an unpaired
surrogate (`"\\ud800"`) becomes a string PostgreSQL cannot encode, and a NUL character is
accepted by the parser and refused by PostgreSQL only after the view has done its work. Each
of these is bad input and answers 400 here, before any view runs:

- not UTF-8 JSON, a non-finite number, an unpaired surrogate (orjson refuses all three), or a
  charset other than UTF-8 in the Content-Type: 400 `parse_error` (415 for the charset);
- nesting deeper than `API_MAX_JSON_DEPTH`: 400 `parse_error`;
- a NUL character in any string or key: 400 `null_character`, `attr` naming where it is.

How large a body may be is decided before it is read (`oms.core.request_limits`).
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import BaseParser

_NUL = b"\\u0000"
_UTF8 = frozenset({"utf-8", "utf8"})


class JSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: dict[str, Any] | None = None) -> Any:
        charset = _charset(media_type or "")
        if charset is not None and charset not in _UTF8:
            raise exceptions.UnsupportedMediaType(media_type or "")
        body = stream.read() if stream is not None else b""
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise exceptions.ParseError(_("The body is not valid JSON: %(reason)s")
                                        % {"reason": exc}) from None
        if too_deep(data, settings.API_MAX_JSON_DEPTH):
            raise exceptions.ParseError(
                _("The body nests deeper than %(depth)d levels.")
                % {"depth": settings.API_MAX_JSON_DEPTH})
        # JSON may carry NUL only escaped; a scan of the bytes is cheap and almost never hits
        # (an escaped backslash followed by "u0000" is a false alarm the walk below clears).
        if _NUL in body:
            path = nul_path(data)
            if path is not None:
                raise exceptions.ValidationError(
                    {path or "non_field_errors": [exceptions.ErrorDetail(
                        _("Text may not contain NUL characters."), code="null_character")]})
        return data


def _charset(media_type: str) -> str | None:
    for param in media_type.split(";")[1:]:
        name, _sep, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def too_deep(data: Any, limit: int) -> bool:
    """Whether containers nest deeper than `limit` (a scalar at the top is depth 0, `[]` is 1).
    Iterative, so a deep body cannot exhaust the stack; only containers are visited."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if type(value) is dict else value if type(value) is list \
            else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if type(child) is dict or type(child) is list)
    return False


def nul_path(data: Any, path: str = "") -> str | None:
    """The dotted path of the first key or string holding a NUL character ("" for the body
    itself), or None if there is none. Depth is already bounded by `too_deep`."""
    if isinstance(data, str):
        return path if "\x00" in data else None
    items: Any = data.items() if isinstance(data, dict) else \
        enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        child = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and "\x00" in key:
            return path or ""
        found = nul_path(value, child)
        if found is not None:
            return found
    return None
