"""Free-form JSON with bounds: what the API stores as JSON (product attributes, and any other
JSON a client may send) must be something PostgreSQL's jsonb, the JSON renderer and every
reader downstream can handle, and small enough that one record cannot crowd out the rest.

`BoundedJSON` is the one validator; `BoundedJSONField` is it as a DRF field. A value out of
bounds answers 400 with the offending path as `attr` (`attributes.size.0`).

Numbers: JSON readers in browsers and many ETL tools hold numbers as IEEE doubles, exact only
within ±2^53; larger integers (and big decimals) must be sent as strings. Floats must be finite.
Strings and keys: no NUL character (PostgreSQL refuses it) and no unpaired surrogate (it has no
UTF-8 encoding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MAX_SAFE_INTEGER = 2**53


class JSONOutOfBounds(Exception):
    def __init__(self, path: str, code: str, message: str) -> None:
        super().__init__(message)
        self.path, self.code, self.message = path, code, message


@dataclass(frozen=True)
class BoundedJSON:
    """Limits of one JSON value. `top` restricts the outermost type ("object", "array" or None
    for any)."""

    max_depth: int = 5
    max_items: int = 500  # object keys and array elements, counted over the whole value
    max_bytes: int = 64 * 1024  # keys and strings, UTF-8, plus 8 per number
    max_string_length: int = 2_000
    max_key_length: int = 100
    top: str | None = "object"

    def check(self, value: Any) -> None:
        """Raise `JSONOutOfBounds` for the first problem found."""
        if self.top == "object" and not isinstance(value, dict):
            raise JSONOutOfBounds("", "not_an_object", _("Expected a JSON object."))
        if self.top == "array" and not isinstance(value, list):
            raise JSONOutOfBounds("", "not_a_list", _("Expected a JSON array."))
        budget = _Budget(self)
        budget.visit(value, "", 0)


class _Budget:
    def __init__(self, bounds: BoundedJSON) -> None:
        self.bounds = bounds
        self.items = 0
        self.bytes = 0

    def visit(self, value: Any, path: str, depth: int) -> None:
        bounds = self.bounds
        if isinstance(value, dict | list):
            if depth >= bounds.max_depth:
                raise JSONOutOfBounds(path, "too_deep", _(
                    "Nested deeper than %(max)d levels.") % {"max": bounds.max_depth})
            entries = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in entries:
                self.items += 1
                if self.items > bounds.max_items:
                    raise JSONOutOfBounds(path, "too_many_items", _(
                        "More than %(max)d keys and elements in all.")
                        % {"max": bounds.max_items})
                child_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str):
                    self.text(key, path, bounds.max_key_length, _("Key"))
                self.visit(child, child_path, depth + 1)
        elif isinstance(value, str):
            self.text(value, path, bounds.max_string_length, _("Text"))
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int | float):
            self.number(value, path)
        else:  # pragma: no cover - JSON has no other types
            raise JSONOutOfBounds(path, "invalid", _("Not a JSON value."))

    def text(self, text: str, path: str, max_length: int, what: str) -> None:
        if len(text) > max_length:
            raise JSONOutOfBounds(path, "too_long", _(
                "%(what)s longer than %(max)d characters.") % {"what": what, "max": max_length})
        if "\x00" in text:
            raise JSONOutOfBounds(path, "null_character",
                                  _("Text may not contain NUL characters."))
        try:
            self.bytes += len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise JSONOutOfBounds(path, "invalid_text", _(
                "Text holds an unpaired surrogate, which has no UTF-8 encoding.")) from None
        self.count_bytes(path)

    def number(self, number: float, path: str) -> None:
        if isinstance(number, float) and not math.isfinite(number):
            raise JSONOutOfBounds(path, "invalid_number", _("Numbers must be finite."))
        if not -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
            raise JSONOutOfBounds(path, "number_out_of_range", _(
                "Numbers must lie within ±2^53; send larger ones as decimal strings."))
        self.bytes += 8
        self.count_bytes(path)

    def count_bytes(self, path: str) -> None:
        if self.bytes > self.bounds.max_bytes:
            raise JSONOutOfBounds(path, "too_large", _(
                "More than %(max)d bytes of JSON in all.") % {"max": self.bounds.max_bytes})


@extend_schema_field({"type": "object", "additionalProperties": True,
                      "description": "Free-form JSON within bounds: at most 5 levels deep, "
                                     "500 keys and elements, 64 KiB, strings of up to 2,000 "
                                     "characters, keys of up to 100, numbers within ±2^53."})
class BoundedJSONField(serializers.JSONField):
    """A JSON object (by default) within `bounds`; errors carry the path below the field."""

    def __init__(self, *, bounds: BoundedJSON | None = None, **kwargs: Any) -> None:
        self.bounds = bounds or BoundedJSON()
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        try:
            self.bounds.check(value)
        except JSONOutOfBounds as problem:
            detail = serializers.ErrorDetail(problem.message, code=problem.code)
            raise serializers.ValidationError(
                {problem.path: [detail]} if problem.path else [detail]) from None
        return value
