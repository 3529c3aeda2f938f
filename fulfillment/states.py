"""Fulfilment order statuses. Store states for click-and-collect join these later."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FulfillmentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    PICKING = "picking", _("Picking")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class FulfillmentKind(models.TextChoices):
    SHIP = "ship", _("Ship to customer")
    PICKUP = "pickup", _("Pickup in store")
    DROPSHIP = "dropship", _("Dropship by supplier")


F = FulfillmentStatus
NOT_YET_SHIPPED = [F.PENDING, F.ACCEPTED, F.PICKING]
