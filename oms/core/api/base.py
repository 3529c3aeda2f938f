"""Small helpers every app's API uses, so views stay parse → service → render."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.request import Request

from oms.core.models import ApiClient

_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
# Text a person or another system names something with: any printable text, never control
# characters (tabs, line breaks, NUL) nor the bidirectional overrides that make a name display
# as something else.
PLAIN_TEXT_PATTERN = r"^[^\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]*$"
EXTERNAL_ID_PATTERN = PLAIN_TEXT_PATTERN


def validated(serializer_class: type[serializers.Serializer], data: Any, **context: Any) -> Any:
    """Validate request data or raise DRF's ValidationError (rendered as a 400)."""
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def client_of(request: Request) -> ApiClient:
    return request.user  # set by BearerTokenAuthentication; IsApiClient guarantees the type


class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorSerializer(serializers.Serializer):
    """The one error format, for the OpenAPI schema."""

    type = serializers.ChoiceField(["validation_error", "client_error", "server_error"])
    errors = ErrorItemSerializer(many=True)


MAX_PAGE_SIZE = 500
# A cursor is the short token of `next`/`previous` (an offset and a position), never more.
MAX_CURSOR_LENGTH = 200


class NoQuery(serializers.Serializer):
    """The query of a read that takes no parameters: any parameter is refused."""


class PageQuery(serializers.Serializer):
    """The query parameters of every cursor-paginated list (API.md, Conventions). The
    paginator validates them itself, so no list can forget them; a list with filters
    declares a subclass naming them too, which also documents them (the schema's parameters
    are this serializer's fields)."""

    cursor = serializers.CharField(required=False, max_length=MAX_CURSOR_LENGTH,
                                   help_text="Opaque cursor from `next` or `previous`.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE,
                                     help_text="Page size, 1 to 500 (default 50).")


def validated_query(request: Request,
                    serializer_class: type[serializers.Serializer] = NoQuery, *,
                    others: bool = False) -> Any:
    """The query parameters of `request`, validated by `serializer_class`, which names every
    parameter the endpoint takes (and, given to `extend_schema(parameters=[...])`, documents
    them). Any error answers 400 with the parameter's name as `attr`.

    Unknown, repeated and empty parameters are refused (`unknown_parameter`,
    `repeated_parameter`, `blank`) rather than ignored, as a strict public API does: a
    misspelt filter (`?stauts=open`) would otherwise answer an unfiltered list that looks
    right. Swagger UI sends only the parameters the schema declares, so it is not affected;
    neither is the `next`/`previous` link, which repeats the list's own parameters.
    `others=True` leaves parameters it does not name to another check (the paginator
    validates its own, whatever the view took)."""
    known = serializer_class().fields
    for name in request.query_params:
        if name not in known:
            if others:
                continue
            raise serializers.ValidationError({name: [serializers.ErrorDetail(
                str(_("Unknown query parameter.")), code="unknown_parameter")]})
        values = request.query_params.getlist(name)
        if len(values) > 1:
            raise serializers.ValidationError({name: [serializers.ErrorDetail(
                str(_("Give this query parameter once.")), code="repeated_parameter")]})
        if values == [""]:  # DRF would take `?limit=` for no limit at all, as in HTML forms
            raise serializers.ValidationError({name: [serializers.ErrorDetail(
                str(_("Give a value, or leave the parameter out.")), code="blank")]})
    return validated(serializer_class, request.query_params)


def unique_skus(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`validate_lines` for serializers of `[{"sku", ...}]`: each SKU once."""
    if len({ln["sku"] for ln in lines}) != len(lines):
        raise serializers.ValidationError(_("Each SKU may appear once."), code="duplicate_sku")
    return lines


class StrictCharField(serializers.CharField):
    """A string, and only a string: DRF's CharField would take the number 12 for "12"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class InstantField(serializers.DateTimeField):
    """An ISO 8601 timestamp that must carry its UTC offset (API.md): a bare local time from
    another system's clock is ambiguous, so it is refused rather than guessed."""

    default_error_messages = {"missing_offset": _("Give the time with a UTC offset, e.g. "
                                                  "+01:00 or Z.")}

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str) and not _OFFSET.search(value.strip()):
            self.fail("missing_offset")
        return super().to_internal_value(value)
