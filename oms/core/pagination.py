from rest_framework.pagination import CursorPagination as DrfCursorPagination


class CursorPagination(DrfCursorPagination):
    """``{"next", "previous", "results"}`` with opaque cursors (API.md, Conventions)."""

    ordering = "-pk"
    page_size_query_param = "limit"
    max_page_size = 500
