"""Fulfilment orders (the part of an order one location serves), their lines and shipments."""

from __future__ import annotations

from django.db import models
from django.db.models import F as Field
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from fulfillment.states import (
    CANCELLABLE,
    SHIPPABLE,
    DispatchMode,
    FulfillmentKind,
    FulfillmentStatus,
    ShipmentStatus,
)
from inventory.models import Location
from oms.orders.models import Order, OrderLine

F = FulfillmentStatus


class FulfillmentOrder(ConcurrentTransitionMixin, models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="fulfillments",
                              verbose_name=_("order"))
    location = models.ForeignKey(Location, on_delete=models.PROTECT,
                                 related_name="fulfillments", verbose_name=_("location"))
    kind = models.CharField(_("kind"), max_length=10, choices=FulfillmentKind.choices)
    # Kind transfer: the store it restocks, for the order's pickup there.
    destination = models.ForeignKey(Location, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="incoming_transfers",
                                    verbose_name=_("ship to store"))
    status = FSMField(_("status"), default=F.PENDING, choices=FulfillmentStatus.choices,
                      protected=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True, default="")
    # How it reaches the location's system; a pushed one's tries are an attempt of kind
    # ``wms_dispatch`` (oms.core.attempts, fulfillment.dispatch).
    dispatch_mode = models.CharField(_("dispatch"), max_length=10,
                                     choices=DispatchMode.choices, default=DispatchMode.PUSHED)
    # Click-and-collect (kind pickup). The code is never stored: `pickup_code_salt` and the
    # SECRET_KEY derive it (fulfillment.pickup_codes), the hash verifies it.
    pickup_code_salt = models.CharField(_("pickup code salt"), max_length=32, blank=True,
                                        default="")
    pickup_code_hash = models.CharField(_("pickup code hash"), max_length=64, blank=True,
                                        default="")
    ready_at = models.DateTimeField(_("ready for pickup"), null=True, blank=True)
    # Database timers swept by beat (ARCHITECTURE.md rule 8).
    pickup_deadline = models.DateTimeField(_("pickup deadline"), null=True, blank=True)
    pickup_reminder_due = models.DateTimeField(_("reminder due"), null=True, blank=True)
    pickup_reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    pickup_failed_attempts = models.PositiveSmallIntegerField(_("wrong codes"), default=0)
    pickup_locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("picked up"), null=True, blank=True)
    # A pickup replacing a parcel the warehouse may already have (pickup on a store visit):
    # staff may pick, but it is not ready (no code, no handover) until the warehouse confirmed
    # that it stopped the parcel, so the goods never leave twice.
    waits_for_stop = models.BooleanField(_("waiting for the warehouse to stop the parcel"),
                                         default=False)
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("fulfilment order")
        verbose_name_plural = _("fulfilment orders")
        indexes = [
            models.Index(fields=["location", "status", "created_at"],
                         name="fulfillment_worklist"),
            models.Index(fields=["pickup_deadline"], name="pickup_deadline_due",
                         condition=Q(status="ready_for_pickup")),
            models.Index(fields=["pickup_reminder_due"], name="pickup_reminder_due",
                         condition=Q(status="ready_for_pickup", pickup_reminded_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.location.code} ({self.status})"

    @transition(field=status, source=F.PENDING, target=F.ACCEPTED)
    def accept(self) -> None: ...

    @transition(field=status, source=[F.PENDING, F.ACCEPTED], target=F.REJECTED)
    def reject(self) -> None: ...

    @transition(field=status, source=[F.PENDING, F.ACCEPTED, F.PICKING], target=F.PICKING)
    def pick(self) -> None: ...

    @transition(field=status, source=SHIPPABLE, target=F.PARTIALLY_SHIPPED)
    def ship_partially(self) -> None: ...

    @transition(field=status, source=SHIPPABLE, target=F.SHIPPED)
    def ship(self) -> None: ...

    @transition(field=status, source=F.SHIPPED, target=F.DELIVERED)
    def deliver(self) -> None: ...

    @transition(field=status, source=CANCELLABLE, target=F.CANCELLED)
    def cancel(self) -> None: ...

    @transition(field=status, source=F.PICKING, target=F.READY_FOR_PICKUP)
    def make_ready(self) -> None: ...

    @transition(field=status, source=F.READY_FOR_PICKUP, target=F.PICKED_UP)
    def hand_over(self) -> None: ...

    @transition(field=status, source=F.READY_FOR_PICKUP, target=F.EXPIRED)
    def expire(self) -> None: ...

    # A parcel cancelled because its goods moved to a pickup at a store, when the warehouse
    # answers that it had already packed it: the warehouse's work again, and it has started.
    @transition(field=status, source=F.CANCELLED, target=F.ACCEPTED)
    def reinstate(self) -> None: ...


class FulfillmentLine(models.Model):
    fulfillment = models.ForeignKey(FulfillmentOrder, on_delete=models.CASCADE,
                                    related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("order line"))
    quantity = models.PositiveIntegerField(_("quantity"))
    picked = models.PositiveIntegerField(_("picked"), null=True, blank=True)
    shipped = models.PositiveIntegerField(_("shipped"), default=0)
    cancelled = models.PositiveIntegerField(_("cancelled"), default=0)

    class Meta:
        verbose_name = _("fulfilment line")
        verbose_name_plural = _("fulfilment lines")
        constraints = [
            models.UniqueConstraint(fields=["fulfillment", "order_line"],
                                    name="fulfillment_line_once"),
            models.CheckConstraint(
                condition=Q(quantity__gte=Field("shipped") + Field("cancelled")),
                name="fulfillment_line_units_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_line.product_id}"

    @property
    def sku(self) -> str:
        return self.order_line.product_id

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.shipped - self.cancelled


class Shipment(models.Model):
    fulfillment = models.ForeignKey(FulfillmentOrder, on_delete=models.PROTECT,
                                    related_name="shipments")
    carrier = models.CharField(_("carrier"), max_length=50)
    tracking_number = models.CharField(_("tracking number"), max_length=100)
    status = models.CharField(_("status"), max_length=20, choices=ShipmentStatus.choices,
                              default=ShipmentStatus.SHIPPED)
    shipped_at = models.DateTimeField(_("shipped"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        constraints = [
            models.UniqueConstraint(fields=["carrier", "tracking_number"],
                                    name="one_shipment_per_tracking_number"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    fulfillment_line = models.ForeignKey(FulfillmentLine, on_delete=models.PROTECT,
                                         related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0),
                                              name="shipment_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.fulfillment_line_id}"


class TrackingEvent(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=20, choices=ShipmentStatus.choices)
    at = models.DateTimeField(_("at"))
    received_at = models.DateTimeField(_("received"))

    class Meta:
        verbose_name = _("tracking event")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.status} @ {self.at:%Y-%m-%d %H:%M}"

