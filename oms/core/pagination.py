from typing import Any

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination as DrfCursorPagination
from rest_framework.request import Request


class CursorPagination(DrfCursorPagination):
    """``{"next", "previous", "results"}`` with opaque cursors (API.md, Conventions)."""

    ordering = "-pk"
    page_size_query_param = "limit"
    max_page_size = 500

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:  # DRF answers 404 for a mangled cursor; it is bad input
            raise ValidationError({"cursor": [self.invalid_cursor_message]},
                                  code="invalid") from None
