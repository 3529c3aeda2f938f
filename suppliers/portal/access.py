"""Who may use the supplier portal, and what they see: a logged-in user linked to an active
supplier (`SupplierUser`), confined to that supplier's sites. Every portal view is wrapped in
`supplier_required` and reads its rows through `supplier_locations` / `supplier_fulfillments`
(another supplier's order is a 404, never a 403)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from fulfillment.models import FulfillmentOrder
from inventory.models import Location
from suppliers.models import Supplier

LOGIN_URL = "supplier_portal:login"


def supplier_of(request: HttpRequest) -> Supplier | None:
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return None
    link = getattr(user, "supplier_user", None)
    if link is None or not link.supplier.is_active:
        return None
    return link.supplier


def supplier_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous → the portal's login; a user of no (active) supplier → 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            from django.urls import reverse

            return redirect_to_login(request.get_full_path(), reverse(LOGIN_URL))
        supplier = supplier_of(request)
        if supplier is None:
            raise PermissionDenied
        request.supplier = supplier  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped


def supplier_locations(supplier: Supplier) -> QuerySet[Location]:
    return Location.objects.filter(supplier_site__supplier=supplier)


def supplier_fulfillments(supplier: Supplier) -> QuerySet[FulfillmentOrder]:
    return FulfillmentOrder.objects.filter(location__supplier_site__supplier=supplier)
