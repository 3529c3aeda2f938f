"""Inventory factories on top of the shared ones in tests/factories.py, placed in real German
cities so distances are easy to reason about."""

from __future__ import annotations

import factory

from inventory.models import LocationKind
from tests.factories import LocationFactory, StoreFactory

BERLIN = (52.52, 13.405)
HAMBURG = (53.55, 9.99)
MUNICH = (48.137, 11.575)
POTSDAM = (52.39, 13.065)  # about 27 km from Berlin


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
