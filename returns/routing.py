"""Where a parcel goes back: the site that shipped the goods if it takes returns, otherwise the
nearest warehouse or supplier site that does (nearest to the customer's address when it has
coordinates, else to the site that shipped; by priority when nothing has coordinates)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from fulfillment.models import FulfillmentOrder
from fulfillment.states import FulfillmentKind
from inventory.models import Location, LocationKind
from inventory.selectors import distance_km
from oms.core.errors import Unprocessable
from oms.orders.models import Order

PARCEL_SITES = (LocationKind.WAREHOUSE, LocationKind.SUPPLIER)


def _shipped_from(order: Order, skus: Iterable[str]) -> list[Location]:
    fulfillments = (FulfillmentOrder.objects
                    .filter(order=order, lines__order_line__product_id__in=list(skus),
                            lines__shipped__gt=0)
                    .exclude(kind=FulfillmentKind.TRANSFER)
                    .select_related("location").order_by("pk").distinct())
    return [fo.location for fo in fulfillments]


def _origin(order: Order, shipped_from: list[Location]) -> tuple[float, float] | None:
    address = order.delivery_address or {}
    if isinstance(address.get("lat"), int | float) and isinstance(address.get("lon"),
                                                                   int | float):
        return float(address["lat"]), float(address["lon"])
    for site in shipped_from:
        if site.lat is not None and site.lon is not None:
            return site.lat, site.lon
    return None


def return_location_for_mail(*, order: Order, skus: Iterable[str]) -> Location:
    """The site a parcel of these SKUs goes back to, or 422 ``no_return_location``."""
    shipped_from = _shipped_from(order, skus)
    for site in shipped_from:
        if site.accepts_returns and site.is_active and site.kind in PARCEL_SITES:
            return site
    candidates = list(Location.objects.filter(accepts_returns=True, is_active=True,
                                              kind__in=PARCEL_SITES))
    if not candidates:
        raise Unprocessable(_("No warehouse or supplier site takes returns by mail."),
                            code="no_return_location", attr="location")
    origin = _origin(order, shipped_from)

    def rank(site: Location) -> tuple[float, int, str]:
        far = float("inf")
        if origin is not None and site.lat is not None and site.lon is not None:
            far = distance_km(origin[0], origin[1], site.lat, site.lon)
        return far, site.priority, site.code

    return min(candidates, key=rank)
