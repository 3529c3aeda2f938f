"""Products as the PIM distributes them."""

from __future__ import annotations

import factory
from django.utils import timezone

from oms.catalog.models import Product


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Faker("word")
    updated_at = factory.LazyFunction(timezone.now)
