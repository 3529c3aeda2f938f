"""One JSON error format for the whole API (API.md, Conventions).

``{"type": "validation_error" | "client_error" | "server_error",
   "errors": [{"code": "...", "detail": "...", "attr": "field.path" | null}]}``

Services raise :class:`DomainError` subclasses; views never build error bodies themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A refusal a client can act on. Subclasses fix the HTTP status and default code."""

    status_code = 400
    error_type = "client_error"
    default_code = "invalid"
    # A refusal that must still commit what the service wrote before refusing (a wrong pickup
    # code counts towards the lockout); every other error response changes nothing.
    keeps_writes = False

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        attr: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = str(detail)
        self.code = code or self.default_code
        self.attr = attr
        self.extra = extra or {}

    def errors(self) -> list[dict[str, Any]]:
        return [{"code": self.code, "detail": self.detail, "attr": self.attr, **self.extra}]


class InvalidInput(DomainError):
    """Input that passed parsing but is wrong; may carry several field errors at once."""

    error_type = "validation_error"

    def __init__(self, errors: Iterable[tuple[str, str, str | None]]) -> None:
        self._errors = [{"code": c, "detail": str(d), "attr": a} for c, d, a in errors]
        first = self._errors[0] if self._errors else {"code": "invalid", "detail": "", "attr": None}
        super().__init__(first["detail"], code=first["code"], attr=first["attr"])

    def errors(self) -> list[dict[str, Any]]:
        return self._errors


class NotFound(DomainError):
    status_code = 404
    default_code = "not_found"


class Conflict(DomainError):
    status_code = 409
    default_code = "conflict"


class InvalidTransition(Conflict):
    """The object's current state does not allow the change (API.md: 409 invalid_transition)."""

    default_code = "invalid_transition"


class Unprocessable(DomainError):
    status_code = 422
    default_code = "unprocessable"


def error_body(error_type: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": error_type, "errors": errors}


def _flatten(detail: Any, path: str | None = None) -> Iterator[dict[str, Any]]:
    if isinstance(detail, dict):
        for key, value in detail.items():
            attr = None if key in ("non_field_errors", "detail") else key
            # DRF reports list items under int keys (0 is falsy, so test for None)
            child = f"{path}.{attr}" if path and attr is not None else (
                path if attr is None else str(attr))
            yield from _flatten(value, child)
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            if isinstance(item, dict | list):
                yield from _flatten(item, f"{path}.{index}" if path else str(index))
            else:
                yield from _flatten(item, path)
    else:
        code = getattr(detail, "code", None) or "invalid"
        yield {"code": code, "detail": str(detail), "attr": path}


_DRF_CODES = {
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.AuthenticationFailed: "authentication_failed",
    drf_exceptions.PermissionDenied: "permission_denied",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.ParseError: "parse_error",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.Throttled: "throttled",
}


def _rollback_current_block() -> None:
    """An error response changes nothing: roll back the request's transaction, if it has one.

    Only an ``ATOMIC_REQUESTS`` block is the request's own (as in DRF's handler). The idempotency
    middleware rolls back its own block for every status >= 400; any other enclosing block
    belongs to the caller (a test, an embedding transaction) and must stay usable.
    """
    if connection.settings_dict.get("ATOMIC_REQUESTS") and connection.in_atomic_block:
        transaction.set_rollback(True)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if not getattr(exc, "keeps_writes", False):
        _rollback_current_block()
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(exc.extra["retry_after"])
        response = Response(error_body(exc.error_type, exc.errors()), status=exc.status_code,
                            headers=headers)
        response.keeps_writes = exc.keeps_writes
        return response
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, drf_exceptions.APIException):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, drf_exceptions.ValidationError):
            return Response(
                error_body("validation_error", list(_flatten(exc.detail))),
                status=exc.status_code,
                headers=headers,
            )
        code = next((c for k, c in _DRF_CODES.items() if isinstance(exc, k)), None)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return Response(
            error_body("client_error", [{"code": code or exc.get_codes(), "detail": detail,
                                         "attr": None}]),
            status=exc.status_code,
            headers=headers,
        )
    logger.exception("unhandled error in API view", exc_info=exc)
    return Response(
        error_body("server_error", [{"code": "error", "detail": _("A server error occurred."),
                                     "attr": None}]),
        status=500,
    )


def json_error_response(status: int, error_type: str, code: str, detail: str, *,
                        attr: str | None = None) -> JsonResponse:
    return JsonResponse(
        error_body(error_type, [{"code": code, "detail": detail, "attr": attr}]), status=status
    )


# The pages people read in the browser (the cockpit and the admin it is built on, see
# oms/urls.py) get an HTML error page with the cockpit's header. Everything else, the API above
# all, keeps the one JSON error format (API.md).
HTML_PATH_PREFIXES = ("/cockpit/", "/admin/")


def _for_people(request: HttpRequest) -> bool:
    return request.path_info.startswith(HTML_PATH_PREFIXES)


def error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    """An error as a cockpit page: the admin's header, user tools and language switcher (the
    admin site's context), the reason, and the way back."""
    # Imported here: models import this module while the app registry loads, before the admin
    # may be imported.
    from django.contrib import admin

    # An error raised before the authentication middleware ran has no user to show.
    context = admin.site.each_context(request) if hasattr(request, "user") else {}
    return render(request, "errors/page.html", {
        **context, "title": title, "message": message, "status": status}, status=status)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _for_people(request):
        # Another store's records answer 404 too (never 403): the page does not say which.
        return error_page(request, 404, _("Page not found"), _(
            "This page does not exist, or it belongs to a store you do not work in."))
    return json_error_response(404, "client_error", "not_found", _("Not found."))


def handler500(request: HttpRequest) -> JsonResponse:
    return json_error_response(500, "server_error", "error", _("A server error occurred."))


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error_response(400, "client_error", "bad_request", _("Bad request."))


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _for_people(request):
        return error_page(request, 403, _("Permission denied"), _(
            "Your account may not open this page. An administrator can give you the "
            "permission."))
    return json_error_response(403, "client_error", "permission_denied", _("Permission denied."))
