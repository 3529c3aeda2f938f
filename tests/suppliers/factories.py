"""Rows a supplier test starts from: a dropship supplier, its sites (supplier locations) and the
people of its portal. Written directly; the code under test goes through the portal's views
and the services behind them.

`SupplierSiteFactory` here is the link row (suppliers.SupplierSite); the location it links is
made by `tests.factories.SupplierSiteFactory` (a Location of kind supplier), re-exported here
as `SupplierLocationFactory`."""

from __future__ import annotations

import factory
from django.contrib.auth.models import User

from suppliers.models import Supplier, SupplierSite, SupplierUser
from tests.factories.inventory import SupplierSiteFactory as SupplierLocationFactory

SUPPLIER_PASSWORD = "supplier-pw-1"

__all__ = ["SUPPLIER_PASSWORD", "SupplierFactory", "SupplierLocationFactory",
           "SupplierSiteFactory", "SupplierUserFactory"]


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SUPP-{n:03d}")
    name = factory.Sequence(lambda n: f"Nordwerk Lieferant {n} GmbH")
    contact_email = factory.LazyAttribute(lambda o: f"orders@{o.code.lower()}.example.de")
    language = "de"


class SupplierSiteFactory(factory.django.DjangoModelFactory):
    """`SupplierSiteFactory(supplier=s, location__code="SUP-N")`: a supplier location of `s`."""

    class Meta:
        model = SupplierSite

    supplier = factory.SubFactory(SupplierFactory)
    location = factory.SubFactory(SupplierLocationFactory)


class _UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"supplier-user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@supplier.example.de")
    password = factory.PostGenerationMethodCall("set_password", SUPPLIER_PASSWORD)

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()  # the password


class SupplierUserFactory(factory.django.DjangoModelFactory):
    """`SupplierUserFactory(supplier=s)` → the SupplierUser link; its Django user is `.user`
    (no staff flag, password SUPPLIER_PASSWORD)."""

    class Meta:
        model = SupplierUser

    supplier = factory.SubFactory(SupplierFactory)
    user = factory.SubFactory(_UserFactory)
