"""Small helpers every app's API uses, so views stay parse → service → render."""

from __future__ import annotations

import copy
import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.request import Request

from oms.core.models import ApiClient

_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
# Another system's identifier: any printable text, never control characters (tabs, line breaks).
EXTERNAL_ID_PATTERN = r"^[^\x00-\x1f\x7f]+$"


class LeanSerializer(serializers.Serializer):
    """DRF's Serializer, cheaper to instantiate: DRF deep-copies every declared field for every
    serializer instance, which builds each field anew (its validators included). A plain field
    is only configured at declaration and bound to its parent later, so a shallow copy serves:
    the copy's binding (name, parent, source) is its own, and so are its validator list and
    error messages; what it still shares (choices, style) is only read. Fields that hold other
    fields (nested serializers, `child`) or a mutable default are deep-copied, as DRF does."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: copy.deepcopy(field) if _deep(field) else _shallow_copy(field)
                for name, field in self._declared_fields.items()}


def _deep(field: serializers.Field) -> bool:
    return isinstance(field, serializers.BaseSerializer) or hasattr(field, "child") \
        or hasattr(field, "child_relation") \
        or any(isinstance(value, (list, dict, set)) for value in (field.default, field.initial))


def _shallow_copy(field: serializers.Field) -> serializers.Field:
    clone = copy.copy(field)
    if "_validators" in field.__dict__:
        clone._validators = list(field._validators)
    clone.error_messages = dict(field.error_messages)
    return clone


def validated(serializer_class: type[serializers.Serializer], data: Any, **context: Any) -> Any:
    """Validate request data or raise DRF's ValidationError (rendered as a 400)."""
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def client_of(request: Request) -> ApiClient:
    return request.user  # set by BearerTokenAuthentication; IsApiClient guarantees the type


class ErrorItemSerializer(LeanSerializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorSerializer(LeanSerializer):
    """The one error format, for the OpenAPI schema."""

    type = serializers.ChoiceField(["validation_error", "client_error", "server_error"])
    errors = ErrorItemSerializer(many=True)


MAX_PAGE_SIZE = 500
# A cursor is the short token of `next`/`previous` (an offset and a position), never more.
MAX_CURSOR_LENGTH = 200


class NoQuery(LeanSerializer):
    """The query of a read that takes no parameters: any parameter is refused."""


class PageQuery(LeanSerializer):
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


def paginated(request: Request, view: Any, queryset: Any,
              serializer_class: type[serializers.BaseSerializer],
              ordering: str | None = None, context: dict[str, Any] | None = None) -> Any:
    """A cursor-paginated response of `queryset` rendered with `serializer_class` (newest
    first unless `ordering` says otherwise)."""
    from oms.core.pagination import CursorPagination

    paginator = CursorPagination()
    if ordering:
        paginator.ordering = ordering
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(
        serializer_class(page, many=True, context=context or {}).data)


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
