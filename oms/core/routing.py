"""Which view will answer a request, for the middlewares that must know before Django resolves
the URL itself (request limits, atomic writes): resolved once per request and kept on it."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import Resolver404, resolve

_VIEW_CLASS = "oms_view_class"


def view_class(request: HttpRequest) -> type | None:
    """The class of the class-based view answering `request`; None for a function view or an
    unknown path."""
    if not hasattr(request, _VIEW_CLASS):
        try:
            found = getattr(resolve(request.path_info).func, "view_class", None)
        except Resolver404:
            found = None
        setattr(request, _VIEW_CLASS, found)
    return getattr(request, _VIEW_CLASS)
