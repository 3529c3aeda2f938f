"""Customers, orders, order lines and the order's audit trail."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from oms.catalog.models import Product
from oms.orders.states import CANCELLABLE, RETURNABLE_FROM, OrderStatus

S = OrderStatus
EXTERNAL_ID_UNIQUE = "order_external_id_unique_per_channel"


class Customer(models.Model):
    # The id the API shows (API.md, Customers). Not the primary key: selling clients may read
    # any profile whose id they hold, so the id must not be guessable (walking 1, 2, 3 ...
    # would hand out every customer's e-mail and consents).
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True,
                                 editable=False)
    email = models.EmailField(_("email"), unique=True)  # stored lower-cased
    name = models.CharField(_("name"), max_length=200, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=50, blank=True, default="")
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            # Selling clients find a customer by the external id of their app or shop login.
            models.Index(fields=["external_id"], name="customer_external_id",
                         condition=~Q(external_id="")),
        ]

    def __str__(self) -> str:
        return self.email


class ConsentPurpose(models.TextChoices):
    EMAIL_MARKETING = "email_marketing", _("E-mail marketing")
    PUSH = "push", _("Push messages")
    IN_STORE_OFFERS = "in_store_offers", _("Offers in the store")
    PROFILING = "profiling", _("Profiling")


class Consent(models.Model):
    """One consent given or withdrawn, as the customer gave it (`at`, `source`). Append-only,
    enforced by PostgreSQL (migration 0009): the history is the proof a regulator asks for.
    The current state of a purpose is its record with the latest `at` (ties: the one recorded
    last), so a record arriving late from a slow system does not undo a newer decision."""

    # No index of its own: consent_latest_per_purpose starts with the customer.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="consents",
                                 db_index=False, verbose_name=_("customer"))
    purpose = models.CharField(_("purpose"), max_length=30, choices=ConsentPurpose.choices)
    granted = models.BooleanField(_("granted"))
    source = models.CharField(_("source"), max_length=100)
    at = models.DateTimeField(_("given at"))
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.CharField(_("recorded by"), max_length=100)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=[p.value for p in ConsentPurpose]),
                name="consent_purpose_valid"),
        ]
        indexes = [
            # The latest record per purpose: DISTINCT ON (customer, purpose) ORDER BY at DESC.
            models.Index(fields=["customer", "purpose", "-at", "-id"],
                         name="consent_latest_per_purpose"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose}={self.granted} @ {self.at.isoformat()}"


class DeliveryMethod(models.TextChoices):
    SHIP = "ship", _("Home delivery")
    PICKUP = "pickup", _("Pickup in store")


class Order(ConcurrentTransitionMixin, models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    channel = models.CharField(_("channel"), max_length=50, db_index=True)
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders",
                                 verbose_name=_("customer"))
    currency = models.CharField(_("currency"), max_length=3)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    # The total is the lines less the order discount plus shipping. A return refunds each
    # unit at its price less its proportional share of the discount, and shipping once the
    # whole order is back (oms.orders.amounts).
    discount_total = models.DecimalField(_("discount"), max_digits=12, decimal_places=2,
                                         default=0)
    shipping_total = models.DecimalField(_("shipping"), max_digits=12, decimal_places=2,
                                         default=0)
    status = FSMField(_("status"), default=S.PLACED, choices=OrderStatus.choices, protected=True)
    language = models.CharField(_("language"), max_length=5, default="de")
    delivery_method = models.CharField(_("delivery"), max_length=10,
                                       choices=DeliveryMethod.choices)
    delivery_address = models.JSONField(_("delivery address"), default=dict, blank=True)
    pickup_location = models.CharField(_("pickup store"), max_length=50, blank=True, default="")
    sourcing = models.JSONField(_("sourcing decision"), default=dict, blank=True)
    placed_by = models.CharField(_("placed by"), max_length=100)
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], condition=Q(external_id__isnull=False),
                name=EXTERNAL_ID_UNIQUE,
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(condition=Q(discount_total__gte=0) & Q(shipping_total__gte=0),
                                   name="order_discount_shipping_not_negative"),
        ]
        indexes = [
            models.Index(fields=["channel", "updated_at"], name="order_channel_updated"),
            models.Index(fields=["channel", "status"], name="order_channel_status"),
            models.Index(fields=["customer", "created_at"], name="order_customer_created"),
            # A store- or supplier-confined client's orders (fulfillment.order_scope).
            models.Index(fields=["placed_by"], name="order_placed_by"),
            models.Index(fields=["pickup_location"], name="order_pickup_location",
                         condition=~Q(pickup_location="")),
        ]

    def __str__(self) -> str:
        return self.number

    # Transitions: bodies are empty on purpose; what happens around them lives in services.
    @transition(field=status, source=[S.PLACED, S.ON_HOLD], target=S.CONFIRMED)
    def confirm(self) -> None: ...

    @transition(field=status, source=[S.PLACED, S.CONFIRMED], target=S.ON_HOLD)
    def hold(self) -> None: ...

    @transition(field=status, source=[S.CONFIRMED], target=S.IN_FULFILLMENT)
    def start_fulfillment(self) -> None: ...

    @transition(field=status, source=[S.CONFIRMED, S.IN_FULFILLMENT, S.PARTIALLY_SHIPPED],
                target=S.PARTIALLY_SHIPPED)
    def ship_partially(self) -> None: ...

    @transition(field=status, source=[S.CONFIRMED, S.IN_FULFILLMENT, S.PARTIALLY_SHIPPED],
                target=S.SHIPPED)
    def ship(self) -> None: ...

    @transition(field=status, source=[S.SHIPPED], target=S.COMPLETED)
    def complete(self) -> None: ...

    @transition(field=status, source=CANCELLABLE, target=S.CANCELLED)
    def cancel(self) -> None: ...

    @transition(field=status, source=RETURNABLE_FROM, target=S.PARTIALLY_RETURNED)
    def return_partially(self) -> None: ...

    @transition(field=status, source=RETURNABLE_FROM, target=S.RETURNED)
    def return_fully(self) -> None: ...


class OrderLine(models.Model):
    """Quantities: every ordered unit is allocated (reserved somewhere), fulfilled (shipped or
    handed over) or cancelled; returned units are a subset of fulfilled ones."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey(Product, to_field="sku", db_column="sku",
                                on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("product"))
    quantity = models.PositiveIntegerField(_("ordered"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=2)
    allocated = models.PositiveIntegerField(_("allocated"), default=0)
    fulfilled = models.PositiveIntegerField(_("fulfilled"), default=0)
    cancelled = models.PositiveIntegerField(_("cancelled"), default=0)
    returned = models.PositiveIntegerField(_("returned"), default=0)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position"),
            models.UniqueConstraint(fields=["order", "product"], name="order_line_sku_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_pos"),
            models.CheckConstraint(
                condition=Q(quantity=F("allocated") + F("fulfilled") + F("cancelled")),
                name="order_line_units_accounted",
            ),
            models.CheckConstraint(condition=Q(returned__lte=F("fulfilled")),
                                   name="order_line_returned_le_fulfilled"),
            models.CheckConstraint(condition=Q(unit_price__gte=0),
                                   name="order_line_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.position} {self.quantity} x {self.product_id}"

    @property
    def sku(self) -> str:
        return self.product_id

    @property
    def open_quantity(self) -> int:
        """Units neither fulfilled nor cancelled."""
        return self.quantity - self.fulfilled - self.cancelled


class OrderEvent(models.Model):
    """The audit trail: every transition and decision, who made it and with what data."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("type"), max_length=60)
    at = models.DateTimeField(_("at"))
    actor = models.CharField(_("actor"), max_length=100)
    data = models.JSONField(_("data"), default=dict)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["id"]
        indexes = [models.Index(fields=["order", "at"], name="order_event_by_order")]

    def __str__(self) -> str:
        return f"{self.type} @ {self.at:%Y-%m-%d %H:%M}"
