"""factory-boy factories for the whole suite. They write rows directly: a factory sets up the
world a test starts from; the code under test goes through services and the API."""

from __future__ import annotations

import factory
from django.utils import timezone

from inventory.models import Location, LocationKind, StockLevel
from oms.catalog.models import Product
from oms.core.auth import generate_token, hash_token
from oms.core.models import ApiClient, ClientKind, WebhookSubscription
from oms.core.webhooks.signing import generate_secret


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Faker("word")
    updated_at = factory.LazyFunction(timezone.now)


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


class ApiClientFactory(factory.django.DjangoModelFactory):
    """`client.token` holds the clear token of a freshly built client."""

    class Meta:
        model = ApiClient

    name = factory.Sequence(lambda n: f"client-{n}")
    kind = ClientKind.WEBSHOP
    channel = factory.LazyAttribute(
        lambda o: "web" if o.kind in ("webshop", "app", "pos", "marketplace") else ""
    )
    token = factory.LazyFunction(generate_token)
    token_prefix = factory.LazyAttribute(lambda o: o.token[:12])
    token_hash = factory.LazyAttribute(lambda o: hash_token(o.token))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        token = kwargs.pop("token")
        client = super()._create(model_class, *args, **kwargs)
        client.token = token
        return client


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookSubscription

    url = "http://127.0.0.1:9/hook"
    topics = factory.LazyFunction(lambda: ["*"])
    secret = factory.LazyFunction(generate_secret)
    owner = factory.SubFactory(ApiClientFactory, kind=ClientKind.STAFF)
