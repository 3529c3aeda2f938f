"""Confining clients to their location: anything outside a client's scope does not exist for it.

Locations, stock writes and cart holds are confined here; orders in `fulfillment.order_scope`,
fulfilment orders in `fulfillment.api.fulfillments`. Availability is not confined: it is the
public stock picture every channel shows its customers (a till sends a customer to the next store
that has the size), and it names no order, customer or hold."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from inventory.models import Location, Reservation, ReservationLine
from oms.core.errors import NotFound
from oms.core.models import ApiClient, ClientKind


def visible_locations(client: ApiClient) -> QuerySet[Location]:
    locations = Location.objects.all()
    if client.scope_code:
        locations = locations.filter(code=client.scope_code)
    return locations


def location_for_client(client: ApiClient, code: str, *, attr: str = "location") -> Location:
    """The location `code` if it exists and the client may act on it, else 404."""
    location = visible_locations(client).filter(code=code).first()
    if location is None:
        raise NotFound(_("No location with code %(code)s.") % {"code": code}, attr=attr)
    return location


def holds_in_scope(client: ApiClient,
                   holds: QuerySet[Reservation] | None = None) -> QuerySet[Reservation]:
    """`holds` (every reservation by default) narrowed to those `client` may see and change.

    A selling client sees its own channel's holds (staff: every channel). A client confined to a
    store sees, within that, the holds it made itself and those at its store (a pickup there, or
    units held there): a till keeps the cart it holds for shipping from a warehouse, and never
    sees or releases the cart another store's till holds."""
    holds = Reservation.objects.all() if holds is None else holds
    if client.kind != ClientKind.STAFF:
        holds = holds.filter(channel=client.channel)
    if client.scope_code:
        code = client.scope_code
        location = Location.objects.filter(code=code).order_by().values("pk")[:1]
        held_here = ReservationLine.objects.filter(reservation=OuterRef("pk"),
                                                   location_id=location)
        holds = holds.filter(Q(placed_by=client.name) | Q(pickup_location=code)
                             | Exists(held_here))
    return holds
