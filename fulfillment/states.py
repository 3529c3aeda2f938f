"""Fulfilment order statuses and transition groups. Store states for click-and-collect join
these later."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FulfillmentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    PICKING = "picking", _("Picking")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class FulfillmentKind(models.TextChoices):
    SHIP = "ship", _("Ship to customer")
    PICKUP = "pickup", _("Pickup in store")
    DROPSHIP = "dropship", _("Dropship by supplier")


class DispatchStatus(models.TextChoices):
    """Handing the fulfilment order to the location's system (its WMS, a supplier portal)."""

    HELD = "held", _("Waiting for the payment")
    PENDING = "pending", _("To be sent")
    SENT = "sent", _("Sent")
    DEAD = "dead", _("Gave up")
    POLLED = "polled", _("No push endpoint: the location polls")


class ShipmentStatus(models.TextChoices):
    SHIPPED = "shipped", _("Shipped")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Delivery failed")


F = FulfillmentStatus
NOT_YET_SHIPPED = [F.PENDING, F.ACCEPTED, F.PICKING]
# A WMS may ship without reporting accept or pick first.
SHIPPABLE = [F.PENDING, F.ACCEPTED, F.PICKING, F.PARTIALLY_SHIPPED]
OPEN = [*NOT_YET_SHIPPED, F.PARTIALLY_SHIPPED]
ENDED = [F.SHIPPED, F.DELIVERED, F.REJECTED, F.CANCELLED]
