"""Confining clients to their location: anything outside a client's scope does not exist for it."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from inventory.models import Location
from oms.core.errors import NotFound
from oms.core.models import ApiClient


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
