"""Which client kinds may call which endpoint. Scope (one store, one supplier) is checked by
the app owning the object, which answers 404 for anything outside the scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from oms.core.models import ApiClient

if TYPE_CHECKING:  # DRF imports this module while `rest_framework.views` is half loaded
    from rest_framework.views import APIView


class IsApiClient(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.user, ApiClient)


def allow_kinds(*kinds: str, read: Iterable[str] = ()) -> type[BasePermission]:
    """A permission class admitting `kinds` for every method and `read` kinds for GET/HEAD."""
    write_kinds = frozenset(kinds)
    read_kinds = write_kinds | frozenset(read)

    class KindPermission(IsApiClient):
        message = _("This client kind may not perform this action.")
        # Read by the OpenAPI schema (oms.core.api.schema), which documents the 403.
        kinds_for_writes = write_kinds
        kinds_for_reads = read_kinds

        def has_permission(self, request: Request, view: APIView) -> bool:
            if not super().has_permission(request, view):
                return False
            allowed = read_kinds if request.method in ("GET", "HEAD", "OPTIONS") else write_kinds
            return request.user.kind in allowed

    KindPermission.__name__ = f"Allow_{'_'.join(sorted(write_kinds))}"
    return KindPermission
