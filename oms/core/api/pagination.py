"""Cursor pagination for every list of the API, and `paginated`, the one call a list view makes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor
from rest_framework.pagination import CursorPagination as DrfCursorPagination
from rest_framework.request import Request

from oms.core.api.base import MAX_PAGE_SIZE, PageQuery, validated_query


class CursorPagination(DrfCursorPagination):
    """``{"next", "previous", "results"}`` with opaque cursors (API.md, Conventions).

    `limit` and `cursor` are validated here, for every list: DRF falls back to the default
    page size for `limit=0`, `limit=abc` or `limit=100000` and answers 404 for a mangled
    cursor (or 500 for a well-formed one whose position is not a key); each is bad input,
    answered 400 with the parameter as `attr`."""

    ordering = "-pk"
    page_size_query_param = "limit"
    max_page_size = MAX_PAGE_SIZE
    model: type[Model] | None = None

    def paginate_queryset(self, queryset: QuerySet, request: Request,
                          view: Any = None) -> list[Any] | None:
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view=view)

    def get_page_size(self, request: Request) -> int:
        page = validated_query(request, PageQuery, others=True)
        return page.get("limit", self.page_size)

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound:  # DRF answers 404 for a mangled cursor; it is bad input
            raise self._cursor_refused() from None
        if cursor is not None and cursor.position is not None and self.model is not None:
            # The position is compared with the ordering's column: it must be one of its values.
            name = self.ordering[0].lstrip("-")
            meta = self.model._meta  # Django's documented Model _meta API
            field = meta.pk if name == "pk" else meta.get_field(name)
            try:
                field.to_python(cursor.position)
            except DjangoValidationError:
                raise self._cursor_refused() from None
        return cursor

    def _cursor_refused(self) -> ValidationError:
        return ValidationError({"cursor": [self.invalid_cursor_message]}, code="invalid")


def paginated(request: Request, view: Any, queryset: Any,
              serializer_class: type[serializers.BaseSerializer],
              ordering: str | None = None, context: dict[str, Any] | None = None) -> Any:
    """A cursor-paginated response of `queryset` rendered with `serializer_class` (newest
    first unless `ordering` says otherwise)."""
    paginator = CursorPagination()
    if ordering:
        paginator.ordering = ordering
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(
        serializer_class(page, many=True, context=context or {}).data)
