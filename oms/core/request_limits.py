"""Limits on a request that are checked before anything reads it, answered in the API's one
error format (issue 17).

- The body: at most `API_MAX_BODY_BYTES`, or `API_BULK_MAX_BODY_BYTES` for the views that
  name it in `body_limit_setting` (the bulk feeds: 10,000 products or 50,000 stock levels).
  Checked against Content-Length before the body is read, so an oversized upload costs
  nothing: 413 `request_too_large`.
  Django's own `DATA_UPLOAD_MAX_MEMORY_SIZE` stays as the outer bound for every other page.
- A body without Content-Length (chunked): 411 `length_required`, because Django would read it
  as empty.
- A NUL character in the path or the query string: PostgreSQL cannot compare text with it, so
  `/orders/%00` would fail inside a query; 400 `null_character` here instead.

The web server's own limits (request line, header size) are set in `docker/gunicorn.conf.py`
as high as it allows, so that whatever a client can send reaches these checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from oms.core.errors import json_error_response
from oms.core.routing import view_class

API_PREFIX = "/api/"
_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII digits only: str.isdigit() also takes "٣" and "²"


def body_limit(request: HttpRequest) -> int:
    """The most bytes the view answering `request` takes: the setting its class names in
    `body_limit_setting` (read per request, so a changed setting takes effect), by default
    `API_MAX_BODY_BYTES`."""
    return getattr(settings, getattr(view_class(request), "body_limit_setting",
                                     "API_MAX_BODY_BYTES"))


class RequestLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return json_error_response(400, "validation_error", "null_character",
                                       _("The URL may not contain NUL characters."))
        length = request.META.get("CONTENT_LENGTH") or ""
        if not length and request.META.get("HTTP_TRANSFER_ENCODING"):
            # Django reads a body without Content-Length as empty: a chunked body would be
            # parsed as {} and answered as if its fields were missing.
            return json_error_response(411, "client_error", "length_required",
                                       _("Send the body with a Content-Length."))
        length = length or "0"
        if not _DIGITS.fullmatch(length):
            return json_error_response(400, "client_error", "bad_request",
                                       _("Content-Length is not a number."))
        limit = body_limit(request) if int(length) > settings.API_MAX_BODY_BYTES else 0
        if limit and int(length) > limit:
            return json_error_response(
                413, "client_error", "request_too_large",
                _("The body has %(size)d bytes; this endpoint takes at most %(max)d.")
                % {"size": int(length), "max": limit})
        return self.get_response(request)
