"""Reading customers (API.md, Customers): who may find whom, and the profile shown.

A customer is one person across every channel, so a customer is not confined to the channel
of their first order. Back-office kinds (`crm`, `bi`, `staff`) see every customer. Selling
clients (`webshop`, `app`, `pos`) serve the person in front of them: they find a customer only
by an exact e-mail or external id, never by browsing, and reach a profile by its public id (a
random UUID, so ids cannot be walked)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext as _

from oms.core.errors import InvalidInput, NotFound
from oms.core.models import ApiClient, ClientKind
from oms.orders.consents import ConsentState, consents_current_of
from oms.orders.models import Customer, Order
from oms.orders.states import OrderStatus

SEES_EVERY_CUSTOMER = frozenset({ClientKind.CRM, ClientKind.BI, ClientKind.STAFF})
FINDS_BY_IDENTITY = frozenset({ClientKind.WEBSHOP, ClientKind.APP, ClientKind.POS})


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class CustomerProfile:
    customer: Customer
    language: str | None = None
    orders_count: int = 0
    lifetime_value: list[Money] = field(default_factory=list)
    consents: dict[str, ConsentState] = field(default_factory=dict)


def customer_list(*, client: ApiClient, email: str | None = None, phone: str | None = None,
                  external_id: str | None = None) -> QuerySet[Customer]:
    """The customers `client` may list with these filters (all given must match). A selling
    client must name an e-mail or an external id (400 otherwise)."""
    if client.kind not in SEES_EVERY_CUSTOMER and not (email or external_id):
        raise InvalidInput([("identity_required", _(
            "Find a customer by e-mail or external id."), "email")])
    customers = Customer.objects.all()
    if email:
        customers = customers.filter(email=email.strip().lower())  # stored lower-cased
    if external_id:
        customers = customers.filter(external_id=external_id)
    if phone:
        customers = customers.filter(phone=phone)
    return customers


def customer_get(*, client: ApiClient, public_id: uuid.UUID | str) -> Customer:
    """The customer with this public id (404 if none). Every kind admitted to the customers
    API may read a profile whose id it holds (see the module's docstring)."""
    customer = Customer.objects.filter(public_id=public_id).first()
    if customer is None:
        raise NotFound(_("No such customer."))
    return customer


def customer_profiles(customers: Sequence[Customer]) -> list[CustomerProfile]:
    """The profile of each customer, in three queries for any number of them (a page)."""
    pks = [c.pk for c in customers]
    counted = (Order.objects.filter(customer_id__in=pks)
               .exclude(status=OrderStatus.CANCELLED)
               .values_list("customer_id", "currency")
               .annotate(n=Count("pk"), value=Sum("total"))
               .order_by("customer_id", "currency"))
    counts: dict[int, int] = {}
    values: dict[int, list[Money]] = {}
    for pk, currency, n, value in counted:
        counts[pk] = counts.get(pk, 0) + n
        values.setdefault(pk, []).append(Money(value, currency))
    # The language of the latest order, cancelled or not: the language the customer last
    # chose to be spoken to in.
    languages = dict(Order.objects.filter(customer_id__in=pks)
                     .order_by("customer_id", "-created_at", "-pk")
                     .distinct("customer_id").values_list("customer_id", "language"))
    consents = consents_current_of(pks)
    return [CustomerProfile(customer=c, language=languages.get(c.pk),
                            orders_count=counts.get(c.pk, 0),
                            lifetime_value=values.get(c.pk, []),
                            consents=consents.get(c.pk, {}))
            for c in customers]


def customer_profile(customer: Customer) -> CustomerProfile:
    return customer_profiles([customer])[0]
