"""Every write to store visits and pickup offers (issue 20): a visit registered by the app or
the till, the offers it makes, and an offer declined or expired. Accepting an offer (moving
the goods from the parcel to a pickup at the store) is the next part of the issue.

Which fulfilments an offer may take: the customer's parcels (kind ship) that have not started
in the warehouse: `pending` or `accepted`, nothing picked, nothing shipped. Each is offered in
the lines the store has available now (on hand less reserved less safety stock), the whole
fulfilment or, with `PICKUP_OFFER_PARTIAL`, the lines the store can serve. Every decision,
offered or not and why, goes to the order's audit trail, so customer service sees why a
customer standing in the store was or was not offered their goods."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from fulfillment.models import FulfillmentLine, FulfillmentOrder
from fulfillment.states import DispatchMode, FulfillmentKind, FulfillmentStatus
from inventory.models import Location, LocationKind, StockLevel
from oms.core.api.written import Written
from oms.core.errors import InvalidTransition, Unprocessable
from oms.core.events import NewEvent, event_emit, events_emit
from oms.orders.consents import consents_current
from oms.orders.models import ConsentPurpose, Customer, Order
from oms.orders.services import order_event_record, order_events_record
from oms.orders.states import OrderStatus
from visits.models import PickupOffer, PickupOfferLine, StoreVisit
from visits.payloads import offer_payload
from visits.selectors import customers_named
from visits.states import Decision

# Orders whose goods have not all left: a parcel of theirs may still be stopped.
UNSHIPPED = [OrderStatus.CONFIRMED, OrderStatus.IN_FULFILLMENT, OrderStatus.PARTIALLY_SHIPPED]
NOT_STARTED = [FulfillmentStatus.PENDING, FulfillmentStatus.ACCEPTED]


@dataclass(frozen=True)
class VisitRegistered:
    visit: StoreVisit
    created: bool
    # A new visit of a known customer: whether they consent to offers in the store (read once
    # for the offers, and again needed for what the answer shows of their browsing; None: not
    # read).
    consented: bool | None = None
    # A new visit's offers as written, each with its `lines` (oms.core.api.written.Written):
    # the answer is rendered from them without reading them back.
    offers: list[Written] = field(default_factory=list)


def _require_store(location: Location) -> None:
    if location.kind != LocationKind.STORE:
        raise Unprocessable(_("%(location)s is not a store.") % {"location": location.name},
                            code="not_a_store", attr="location")


def visit_register_named(*, location: Location, email: str | None, external_id: str | None,
                         source: str, actor: str,
                         now: datetime | None = None) -> VisitRegistered:
    """The customer is at the store: the visit of the last `STORE_VISIT_WINDOW` if there is
    one (seen again), else a new visit with its offers. The customer the app or till names
    (`customer_named`: none if unknown) is looked up and its row locked in one statement, so
    two signals of one arrival (the geofence and the wallet pass at once) make one visit."""
    _require_store(location)
    # No savepoint of its own (see oms.orders.services.order_create): a failure ends the
    # caller's transaction, so a savepoint would only cost two round trips.
    with transaction.atomic(savepoint=False):
        customer = (customers_named(email=email, external_id=external_id)
                    .select_for_update(no_key=True).first())
        return _register(location, customer, source, actor, now or timezone.now())


def _register(location: Location, customer: Customer | None, source: str, actor: str,
              now: datetime) -> VisitRegistered:
    """`visit_register_named` once the customer's row (if any) is locked."""
    if customer is not None:
        recent = (StoreVisit.objects.filter(
            customer=customer, location=location,
            last_seen_at__gte=now - settings.STORE_VISIT_WINDOW)
            .order_by("-last_seen_at").first())
        if recent is not None:
            recent.last_seen_at = now
            recent.save(update_fields=["last_seen_at"])
            return VisitRegistered(recent, created=False)
    visit = StoreVisit.objects.create(location=location, customer=customer, source=source,
                                      registered_by=actor, started_at=now,
                                      last_seen_at=now)
    consented = None
    offers: list[Written] = []
    if customer is not None:
        consent = consents_current(customer=customer).get(ConsentPurpose.IN_STORE_OFFERS)
        consented = consent is not None and consent.granted
        offers = _make_offers(visit, customer, consented, now)
    return VisitRegistered(visit, created=True, consented=consented, offers=offers)


def _candidates(customer: Customer, store: Location) -> list[FulfillmentOrder]:
    """The customer's parcels from other locations that are not yet delivered: every order
    channel counts (a webshop order can be picked up at a store the app saw them enter).
    With their lines (and the order lines' SKUs)."""
    return list(FulfillmentOrder.objects
                .filter(order__customer=customer, order__status__in=UNSHIPPED,
                        kind=FulfillmentKind.SHIP)
                .exclude(location=store)
                .exclude(status__in=[FulfillmentStatus.CANCELLED, FulfillmentStatus.REJECTED,
                                     FulfillmentStatus.SHIPPED, FulfillmentStatus.DELIVERED])
                .select_related("order").order_by("pk")
                .prefetch_related(Prefetch("lines", queryset=FulfillmentLine.objects
                                           .select_related("order_line").order_by("pk"))))


def _available_here(store: Location, skus: set[str]) -> dict[str, int]:
    if not skus:
        return {}
    return dict(StockLevel.objects.filter(location=store, product_id__in=sorted(skus))
                .annotate(free=F("on_hand") - F("reserved") - F("safety_stock"))
                .values_list("product_id", "free"))


def _wanted(fo: FulfillmentOrder, store: Location,
            consented: bool) -> tuple[str | None, dict[FulfillmentLine, int]]:
    """The decision if the store's shelf need not be looked at, else none and the units of
    each line the parcel still has to send."""
    lines = list(fo.lines.all())
    if not store.offers_pickup:
        return Decision.NO_CLICK_AND_COLLECT, {}
    if not consented:
        return Decision.NO_CONSENT, {}
    if not parcel_untouched(fo, lines):
        return Decision.ALREADY_PICKING, {}
    return None, {ln: ln.open_quantity for ln in lines if ln.open_quantity > 0}


def parcel_untouched(fo: FulfillmentOrder, lines: list[FulfillmentLine]) -> bool:
    """Can the parcel still be taken from the warehouse? Not started there (`pending` or
    `accepted`, nothing picked or shipped), and not acknowledged by a warehouse that polls:
    that one has read it and may be picking it, and no call can stop it."""
    if fo.status not in NOT_STARTED or any(ln.picked or ln.shipped for ln in lines):
        return False
    return not (fo.dispatch_mode == DispatchMode.POLLED
                and fo.status == FulfillmentStatus.ACCEPTED)


def _decide(wanted: dict[FulfillmentLine, int],
            free: dict[str, int]) -> tuple[str, dict[FulfillmentLine, int]]:
    """What of the parcel the store can serve now (`free`: its stock available now), and the
    decision. Offers reserve nothing, so every parcel is weighed against the same stock."""
    servable = {ln: n for ln, n in wanted.items() if free.get(ln.sku, 0) >= n}
    whole = len(servable) == len(wanted)
    if not servable or not (whole or settings.PICKUP_OFFER_PARTIAL):
        return Decision.NOT_IN_STOCK_HERE, {}
    return Decision.OFFERED, servable


def _make_offers(visit: StoreVisit, customer: Customer, consented: bool,
                 now: datetime) -> list[Written]:
    """Decide on every candidate parcel, then write the offers, their lines, their events and
    every decision's audit entry in one INSERT each (the customer is waiting)."""
    store = visit.location
    parcels = [(fo, *_wanted(fo, store, consented)) for fo in _candidates(customer, store)]
    free = _available_here(store, {ln.sku for _fo, decision, wanted in parcels
                                   if decision is None for ln in wanted})
    decided = [(fo, *(_decide(wanted, free) if decision is None else (decision, {})))
               for fo, decision, wanted in parcels]
    made = [(fo, servable) for fo, decision, servable in decided
            if decision == Decision.OFFERED]
    offers = PickupOffer.objects.bulk_create([
        PickupOffer(visit=visit, order=fo.order, fulfillment=fo, created_at=now,
                    expires_at=now + settings.PICKUP_OFFER_TTL) for fo, _servable in made])
    offer_of: dict[int, tuple[PickupOffer, dict[FulfillmentLine, int]]] = {}
    written = []
    for offer, (fo, servable) in zip(offers, made, strict=True):
        written.append(Written(offer, lines=[
            PickupOfferLine(offer=offer, fulfillment_line=ln, quantity=n)
            for ln, n in servable.items()]))
        offer_of[fo.pk] = offer, servable
    PickupOfferLine.objects.bulk_create([ln for offer in written for ln in offer.lines])
    if written:
        events_emit([NewEvent("pickup_offer.made", "pickup_offer", str(offer.pk),
                              {**offer_payload(offer.instance, offer.lines),
                               "language": offer.order.language,
                               "customer": {"email": customer.email}})
                     for offer in written])
    entries = []
    for fo, decision, _servable in decided:
        detail = {"visit": visit.pk, "store": store.code, "fulfillment": fo.pk,
                  "decision": decision}
        if fo.pk in offer_of:
            offer, servable = offer_of[fo.pk]
            detail |= {"offer": offer.pk,
                       "lines": [{"sku": ln.sku, "quantity": n} for ln, n in servable.items()]}
        entries.append((fo.order, detail))
    order_events_record(entries=entries, type="pickup_offer.decided",
                        actor=visit.registered_by)
    return written


def _end(offer: PickupOffer, transition: str, topic: str, actor: str,
         now: datetime | None = None) -> PickupOffer:
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",), no_key=True).get(
            pk=offer.order_id)
        offer = PickupOffer.objects.select_for_update().select_related(
            "visit__location", "order").get(pk=offer.pk)
        method = getattr(offer, transition)
        if not can_proceed(method):
            raise InvalidTransition(
                _("Offer %(id)s is %(status)s.") % {"id": offer.pk,
                                                   "status": offer.get_status_display()},
                attr="status")
        method()
        offer.decided_at = now
        offer.save(update_fields=["status", "decided_at"])
        payload = offer_payload(offer)
        order_event_record(order=order, type=topic, actor=actor, data=payload)
        event_emit(topic=topic, aggregate_type="pickup_offer", aggregate_id=offer.pk,
                   payload=payload)
    return offer


def offer_decline(*, offer: PickupOffer, actor: str) -> PickupOffer:
    """The customer would rather wait for the parcel. 409 once the offer is no longer open."""
    return _end(offer, "decline", "pickup_offer.declined", actor)


def offers_expire_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """The beat sweep: expire open offers past their time; running it twice changes nothing
    the second time. Returns how many expired."""
    now = now or timezone.now()
    due = list(PickupOffer.objects.filter(Q(status="offered") & Q(expires_at__lte=now))
               .order_by("expires_at")[:limit])
    expired = 0
    for offer in due:
        try:
            _end(offer, "expire", "pickup_offer.expired", "offer expiry", now)
        except InvalidTransition:
            continue  # answered meanwhile
        expired += 1
    return expired
