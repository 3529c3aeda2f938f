"""Locations and stock levels. The named stores stand in real German cities, so distances are
easy to reason about."""

from __future__ import annotations

import factory
from django.utils import timezone

from inventory.models import Location, LocationKind, StockLevel
from tests.factories.catalog import ProductFactory

BERLIN = (52.52, 13.405)
HAMBURG = (53.55, 9.99)
MUNICH = (48.137, 11.575)
POTSDAM = (52.39, 13.065)  # about 27 km from Berlin


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"LOC-{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Location {o.code}")
    kind = LocationKind.WAREHOUSE
    ships = True
    lat = 51.31
    lon = 9.48


class StoreFactory(LocationFactory):
    code = factory.Sequence(lambda n: f"ST-{n:03d}")
    kind = LocationKind.STORE
    ships = False
    click_and_collect = True
    ship_from_store = False
    accepts_returns = True
    priority = 50


class StockLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockLevel

    product = factory.SubFactory(ProductFactory)
    location = factory.SubFactory(LocationFactory)
    on_hand = 10
    reserved = 0
    safety_stock = 0
    updated_at = factory.LazyFunction(timezone.now)


class WarehouseFactory(LocationFactory):
    """A parcel-shipping warehouse in Kassel (the shared factory's coordinates)."""

    code = factory.Sequence(lambda n: f"WH-{n:03d}")
    priority = 10


class SupplierSiteFactory(LocationFactory):
    """A dropship supplier's site; it ships parcels itself."""

    code = factory.Sequence(lambda n: f"SUP-{n:03d}")
    kind = LocationKind.SUPPLIER
    ships = True
    priority = 90
    lat = 54.79
    lon = 9.45


class BerlinStoreFactory(StoreFactory):
    code = factory.Sequence(lambda n: f"ST-BER-{n}")
    lat, lon = BERLIN


class HamburgStoreFactory(StoreFactory):
    code = factory.Sequence(lambda n: f"ST-HAM-{n}")
    lat, lon = HAMBURG


class MunichStoreFactory(StoreFactory):
    code = factory.Sequence(lambda n: f"ST-MUC-{n}")
    lat, lon = MUNICH
