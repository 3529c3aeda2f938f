"""Demo data: a central warehouse, stores in German cities, a few hundred products with stock
and one API client per kind. Written through the same services as the API."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from inventory.models import Capability, Location, StockLevel
from inventory.services import LocationData, location_upsert, stock_snapshot_apply
from inventory.sql.snapshot import LevelRow
from oms.catalog.services import PriceData, ProductData, products_upsert
from oms.core.clients import api_client_create, api_client_rotate_token
from oms.core.models import SELLING_KINDS, ApiClient, ClientKind

ALL_STORE = [Capability.CLICK_AND_COLLECT, Capability.SHIP_FROM_STORE, Capability.ACCEPTS_RETURNS]


@dataclass(frozen=True)
class DemoSite:
    code: str
    name: str
    city: str
    postal_code: str
    street: str
    lat: float
    lon: float


WAREHOUSE = DemoSite("WH-KS", "Zentrallager Kassel", "Kassel", "34123", "Sandershäuser Str. 34",
                     51.3127, 9.4797)
STORES = [
    DemoSite("ST-BER", "Filiale Berlin Mitte", "Berlin", "10178", "Alexanderplatz 9",
             52.5219, 13.4132),
    DemoSite("ST-HAM", "Filiale Hamburg", "Hamburg", "20095", "Mönckebergstraße 16",
             53.5507, 10.0005),
    DemoSite("ST-MUC", "Filiale München", "München", "80331", "Kaufingerstraße 28",
             48.1374, 11.5723),
    DemoSite("ST-CGN", "Filiale Köln", "Köln", "50667", "Hohe Straße 111", 50.9385, 6.9560),
    DemoSite("ST-FRA", "Filiale Frankfurt", "Frankfurt am Main", "60313", "Zeil 90",
             50.1145, 8.6858),
    DemoSite("ST-STR", "Filiale Stuttgart", "Stuttgart", "70173", "Königstraße 27",
             48.7784, 9.1790),
    DemoSite("ST-LEJ", "Filiale Leipzig", "Leipzig", "04109", "Petersstraße 36",
             51.3380, 12.3740),
]
SUPPLIER = DemoSite("SUP-FL", "Lieferant Nord (Streckengeschäft)", "Flensburg", "24937",
                    "Am Industriehafen 4", 54.7937, 9.4469)
CATEGORIES = ["Sneaker", "Jacke", "Hose", "Hemd", "Rucksack", "Mütze", "Kleid", "Pullover"]
COLOURS = ["schwarz", "weiß", "blau", "rot", "grün", "grau"]


def _address(site: DemoSite) -> dict[str, str]:
    return {"street": site.street, "postal_code": site.postal_code, "city": site.city,
            "country": "DE"}


def seed_locations() -> None:
    location_upsert(data=LocationData(
        code=WAREHOUSE.code, name=WAREHOUSE.name, kind="warehouse", address=_address(WAREHOUSE),
        # Parcels sent back by customers go to the warehouse (returns by mail).
        lat=WAREHOUSE.lat, lon=WAREHOUSE.lon,
        capabilities=[Capability.SHIPS, Capability.ACCEPTS_RETURNS], priority=10,
    ))
    location_upsert(data=LocationData(
        code=SUPPLIER.code, name=SUPPLIER.name, kind="supplier", address=_address(SUPPLIER),
        lat=SUPPLIER.lat, lon=SUPPLIER.lon, capabilities=[Capability.SHIPS], priority=90,
    ))
    for site in STORES:
        location_upsert(data=LocationData(
            code=site.code, name=site.name, kind="store", address=_address(site),
            lat=site.lat, lon=site.lon, capabilities=ALL_STORE, priority=50,
        ))


def seed_products(count: int) -> list[str]:
    rng = random.Random(42)
    products = []
    for n in range(1, count + 1):
        category = CATEGORIES[n % len(CATEGORIES)]
        colour = COLOURS[n % len(COLOURS)]
        price = Decimal(rng.randrange(1999, 24999)) / 100
        products.append(ProductData(
            sku=f"DEMO-{n:04d}",
            name=f"{category} {colour} #{n}",
            ean=f"{4000000000000 + n:013d}",
            attributes={"category": category, "colour": colour},
            prices=[PriceData("web", "EUR", price), PriceData("store", "EUR", price)],
        ))
    products_upsert(products=products)
    return [p.sku for p in products]


def seed_stock(skus: list[str]) -> int:
    """Stock for each SKU at the warehouse and every store, only where the location has no
    stock level for it yet; returns how many levels were created. Seeding again leaves the
    counts that orders, picks and staff changed alone: a fresh snapshot could drop them below
    what open pickups reserve. The quantities depend only on site and SKU, so a larger
    --products run adds the same stock a first run with that many products would have."""
    now = timezone.now()
    created = 0
    for site in [WAREHOUSE, *STORES]:
        location = Location.objects.get(code=site.code)
        stocked = set(StockLevel.objects.filter(location=location, product_id__in=skus)
                      .values_list("product_id", flat=True))
        levels = []
        for sku in skus:
            if sku in stocked:
                continue
            rng = random.Random(f"{site.code}:{sku}")
            levels.append(LevelRow(sku, rng.randrange(0, 200), 2) if site is WAREHOUSE
                          else LevelRow(sku, rng.choice([0, 0, 1, 2, 3, 5, 8])))
        if levels:
            stock_snapshot_apply(location=location, as_of=now, actor="demo", levels=levels)
            created += len(levels)
    return created


def seed_clients() -> dict[str, str]:
    """One client per kind; re-running rotates their tokens. Returns name -> token."""
    tokens = {}
    for kind in ClientKind:
        name = f"demo-{kind.value}"
        existing = ApiClient.objects.filter(name=name).first()
        if existing:
            tokens[name] = api_client_rotate_token(client=existing)
            continue
        channel = {"pos": "store", "marketplace": "marketplace"}.get(kind.value, "web")
        _client, tokens[name] = api_client_create(
            name=name, kind=kind.value, channel=channel if kind in SELLING_KINDS else "",
            location_code="ST-BER" if kind == ClientKind.POS else "",
            supplier_code=SUPPLIER.code if kind == ClientKind.SUPPLIER else "",
        )
    return tokens
