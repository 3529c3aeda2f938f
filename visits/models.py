"""Store visits and the pickup offers made on them: a customer walks into a store while their
online order has not left the warehouse, and the store has the goods."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from fulfillment.models import FulfillmentLine, FulfillmentOrder
from inventory.models import Location
from oms.orders.models import Customer, Order
from visits.states import OfferStatus, ShipmentStop, VisitSource

OS = OfferStatus
SS = ShipmentStop


class StoreVisit(models.Model):
    """A customer at a store. The same customer at the same store within
    `STORE_VISIT_WINDOW` is the same visit (`last_seen_at` moves on). An unknown customer
    gets a visit without a customer, and nothing else."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="visits",
                                 verbose_name=_("store"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="store_visits", verbose_name=_("customer"))
    source = models.CharField(_("source"), max_length=10, choices=VisitSource.choices)
    registered_by = models.CharField(_("registered by"), max_length=100)
    started_at = models.DateTimeField(_("started"))
    last_seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("store visit")
        verbose_name_plural = _("store visits")
        indexes = [models.Index(fields=["customer", "location", "last_seen_at"],
                                name="visit_same_customer_store",
                                condition=Q(customer__isnull=False))]

    def __str__(self) -> str:
        return f"{self.customer_id}@{self.location_id} {self.started_at:%Y-%m-%d %H:%M}"


class PickupOffer(ConcurrentTransitionMixin, models.Model):
    """Take these goods of order `order` now at the visit's store instead of waiting for the
    parcel `fulfillment` (not yet started in the warehouse)."""

    visit = models.ForeignKey(StoreVisit, on_delete=models.CASCADE, related_name="offers")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="pickup_offers",
                              verbose_name=_("order"))
    fulfillment = models.ForeignKey(FulfillmentOrder, on_delete=models.PROTECT,
                                    related_name="pickup_offers",
                                    verbose_name=_("shipment it replaces"))
    status = FSMField(_("status"), default=OS.OFFERED, choices=OfferStatus.choices,
                      protected=True)
    expires_at = models.DateTimeField(_("expires"))
    created_at = models.DateTimeField(_("offered"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    # Once accepted: the pickup at the store that replaces the parcel's lines, and what the
    # warehouse made of the stop.
    pickup = models.OneToOneField(FulfillmentOrder, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="pickup_offer",
                                  verbose_name=_("pickup at the store"))
    # Its own small state machine (transitions below): "" until accepted.
    shipment_stop = FSMField(_("parcel at the warehouse"), max_length=12,
                             choices=ShipmentStop.choices, blank=True, default="",
                             protected=True)
    # The whole parcel moved to the store and was stopped: one parcel less on the road.
    shipment_avoided = models.BooleanField(_("shipment avoided"), default=False)

    class Meta:
        verbose_name = _("pickup offer")
        verbose_name_plural = _("pickup offers")
        indexes = [
            models.Index(fields=["expires_at"], name="pickup_offer_expiry",
                         condition=Q(status="offered")),
            # The figures per store and day (cockpit dashboard, /metrics).
            models.Index(fields=["created_at"], name="pickup_offer_created"),
        ]

    def __str__(self) -> str:
        return f"offer {self.pk} ({self.status})"

    @transition(field=status, source=OS.OFFERED, target=OS.DECLINED)
    def decline(self) -> None: ...

    @transition(field=status, source=OS.OFFERED, target=OS.EXPIRED)
    def expire(self) -> None: ...

    @transition(field=status, source=OS.OFFERED, target=OS.ACCEPTED)
    def accept(self) -> None: ...

    # The warehouse had already packed the parcel: the accept is undone.
    @transition(field=status, source=OS.ACCEPTED, target=OS.WITHDRAWN)
    def withdraw(self) -> None: ...

    # What the warehouse made of the parcel an accepted offer replaces (visits.stop).
    @transition(field=shipment_stop, source="", target=SS.NOT_NEEDED)
    def stop_not_needed(self) -> None: ...

    @transition(field=shipment_stop, source="", target=SS.REQUESTED)
    def stop_request(self) -> None: ...

    # From failed too: a retry by hand from the admin asks again.
    @transition(field=shipment_stop, source=[SS.REQUESTED, SS.FAILED], target=SS.REQUESTED)
    def stop_request_again(self) -> None: ...

    @transition(field=shipment_stop, source=SS.REQUESTED, target=SS.STOPPED)
    def stop_confirm(self) -> None: ...

    @transition(field=shipment_stop, source=SS.REQUESTED, target=SS.TOO_LATE)
    def stop_too_late(self) -> None: ...

    @transition(field=shipment_stop, source=SS.REQUESTED, target=SS.FAILED)
    def stop_fail(self) -> None: ...


class PickupOfferLine(models.Model):
    offer = models.ForeignKey(PickupOffer, on_delete=models.CASCADE, related_name="lines")
    fulfillment_line = models.ForeignKey(FulfillmentLine, on_delete=models.PROTECT,
                                         related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0),
                                              name="pickup_offer_line_quantity_pos")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.fulfillment_line_id}"


class PickupOfferPolicy(models.Model):
    """Per sales channel: is the shipping charge given back when a customer takes their goods
    with them at a store and no parcel is sent at all? Without a row: yes."""

    channel = models.CharField(_("channel"), max_length=50, unique=True)
    refund_shipping = models.BooleanField(
        _("refund shipping when no parcel is sent"), default=True)

    class Meta:
        verbose_name = _("pickup-on-visit policy")
        verbose_name_plural = _("pickup-on-visit policies")

    def __str__(self) -> str:
        return self.channel


class SignalKind(models.TextChoices):
    CART = "cart", _("In the cart")
    WISHLIST = "wishlist", _("On the wishlist")
    VIEWED = "viewed", _("Viewed")


class BrowsingSignal(models.Model):
    """What a customer looked at online (API.md: browsing signals), one row per customer, kind
    and SKU, its time moved on when seen again; kept for `BROWSING_SIGNAL_DAYS`, then swept."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE,
                                 related_name="browsing_signals", verbose_name=_("customer"))
    kind = models.CharField(_("kind"), max_length=10, choices=SignalKind.choices)
    product = models.ForeignKey("catalog.Product", to_field="sku", db_column="sku",
                                on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("product"))
    channel = models.CharField(_("channel"), max_length=50)
    at = models.DateTimeField(_("seen"))

    class Meta:
        verbose_name = _("browsing signal")
        verbose_name_plural = _("browsing signals")
        constraints = [models.UniqueConstraint(fields=["customer", "kind", "product"],
                                               name="browsing_signal_once")]
        indexes = [models.Index(fields=["at"], name="browsing_signal_age")]

    def __str__(self) -> str:
        return f"{self.kind} {self.product_id}"


class InStoreDiscount(models.Model):
    """The discount shown beside what a customer looked at online and finds in a store: a
    store's own, else its channel's (the signal's), else none."""

    location = models.OneToOneField(Location, on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="in_store_discount",
                                    verbose_name=_("store"))
    channel = models.CharField(_("channel"), max_length=50, blank=True, default="")
    percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("in-store discount")
        verbose_name_plural = _("in-store discounts")
        constraints = [
            models.CheckConstraint(condition=Q(percent__gt=0) & Q(percent__lte=100),
                                   name="in_store_discount_percent_valid"),
            models.CheckConstraint(condition=Q(location__isnull=False) | ~Q(channel=""),
                                   name="in_store_discount_names_store_or_channel"),
            models.UniqueConstraint(fields=["channel"], condition=Q(location__isnull=True),
                                    name="in_store_discount_once_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.percent} %"
