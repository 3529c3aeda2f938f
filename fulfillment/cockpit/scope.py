"""What a cockpit user may see: the stores they work in (`Location.staff`), every store for a
superuser. Anything outside answers 404, so another store's ids reveal nothing."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from fulfillment.models import FulfillmentOrder
from fulfillment.states import FulfillmentKind
from inventory.admin import stores_of
from inventory.models import Location, LocationKind

__all__ = ["cockpit_stores", "pickup_of", "pickups_of", "store_of", "stores_of"]

User = AbstractBaseUser | AnonymousUser


def cockpit_stores(user: User) -> QuerySet[Location]:
    """The stores offered in the store selector."""
    stores = Location.objects.filter(kind=LocationKind.STORE).order_by("code")
    own = stores_of(user)
    return stores if own is None else stores.filter(pk__in=own)


def store_of(user: User, code: str | None) -> Location | None:
    """The store chosen in the selector (404 if it is not one of the user's), else the user's
    first store; None when the user works in no store."""
    stores = cockpit_stores(user)
    if code:
        return get_object_or_404(stores, code=code)
    return stores.first()


def pickups_of(user: User) -> QuerySet[FulfillmentOrder]:
    pickups = FulfillmentOrder.objects.filter(kind=FulfillmentKind.PICKUP)
    own = stores_of(user)
    return pickups if own is None else pickups.filter(location__in=own)


def pickup_of(user: User, pk: int) -> FulfillmentOrder:
    return get_object_or_404(
        pickups_of(user).select_related("order", "order__customer", "location"), pk=pk)
