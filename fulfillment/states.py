"""Fulfilment order statuses and transition groups: a warehouse or supplier ships
(pending → accepted → picking → shipped → delivered); a store prepares a pickup
(pending → picking → ready_for_pickup → picked_up, or expired when nobody comes)."""

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
    READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
    PICKED_UP = "picked_up", _("Picked up")
    EXPIRED = "expired", _("Not collected")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class FulfillmentKind(models.TextChoices):
    SHIP = "ship", _("Ship to customer")
    PICKUP = "pickup", _("Pickup in store")
    DROPSHIP = "dropship", _("Dropship by supplier")
    # Restocking a store for a pickup it came up short on: shipped to the store, not to the
    # customer, so it neither fulfils order lines nor captures money.
    TRANSFER = "transfer", _("Transfer to a store")


class DispatchMode(models.TextChoices):
    """How the fulfilment order reaches the location's system (its WMS, a supplier portal).
    A pushed one has an attempt (`fulfillment.dispatch`, kind ``wms_dispatch``) that says how
    the push went."""

    HELD = "held", _("Waiting for the payment")
    PUSHED = "pushed", _("Pushed to the location")
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
# A pickup waiting at the counter can still be cancelled (the customer changed their mind).
CANCELLABLE = [*NOT_YET_SHIPPED, F.READY_FOR_PICKUP]
OPEN = [*CANCELLABLE, F.PARTIALLY_SHIPPED]
ENDED = [F.SHIPPED, F.DELIVERED, F.PICKED_UP, F.EXPIRED, F.REJECTED, F.CANCELLED]
# Store pickups staff still have to prepare: the "to pick" list.
TO_PICK = [F.PENDING, F.ACCEPTED, F.PICKING]
