"""Which visits and offers a client may see: the app or till that registered the visit, a till
of the visit's store, and staff (API.md: a till of another store gets 404)."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from oms.core.errors import NotFound
from oms.core.models import ApiClient, ClientKind
from oms.orders.models import Customer
from visits.models import PickupOffer, PickupOfferLine, StoreVisit


def visits_in_scope(client: ApiClient) -> QuerySet[StoreVisit]:
    visits = StoreVisit.objects.all()
    if client.kind == ClientKind.STAFF:
        return visits
    mine = Q(registered_by=client.name)
    if client.location_code:
        mine |= Q(location__code=client.location_code)
    return visits.filter(mine)


def _lines() -> Prefetch:
    return Prefetch("lines", queryset=PickupOfferLine.objects.select_related(
        "fulfillment_line__order_line").order_by("pk"))


def visit_get(*, client: ApiClient | None, pk: int) -> StoreVisit:
    """A visit the client may see; `client` None: the visit a client has just registered
    (or seen again: the same customer at the same store, maybe first reported by the till
    while the app now reports it), which it may read whoever registered it first."""
    visits = StoreVisit.objects.all() if client is None else visits_in_scope(client)
    visit = (visits.select_related("location")
             .prefetch_related(Prefetch("offers", queryset=PickupOffer.objects
                                        .select_related("order").prefetch_related(_lines())
                                        .order_by("pk")))
             .filter(pk=pk).first())
    if visit is None:
        raise NotFound(_("No store visit %(id)s.") % {"id": pk}, attr="id")
    return visit


def offer_get(*, client: ApiClient, pk: int) -> PickupOffer:
    offer = (PickupOffer.objects.filter(visit__in=visits_in_scope(client))
             .select_related("order", "visit__location").prefetch_related(_lines())
             .filter(pk=pk).first())
    if offer is None:
        raise NotFound(_("No pickup offer %(id)s.") % {"id": pk}, attr="id")
    return offer


def customers_named(*, email: str | None, external_id: str | None) -> QuerySet[Customer]:
    """The customers a visit's name matches, the one meant first (`customer_named`; a
    service may lock it in the same statement: `visits.services.visit_register_named`)."""
    if email:
        return Customer.objects.filter(email=email.strip().lower()).order_by("pk")
    return Customer.objects.filter(external_id=external_id).order_by("pk")


def customer_named(*, email: str | None, external_id: str | None) -> Customer | None:
    """The customer a visit names, or None: an unknown customer gets a visit without offers,
    and learns nothing else."""
    return customers_named(email=email, external_id=external_id).first()
