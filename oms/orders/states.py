"""The order status and its transition table. Transitions are methods on `Order` (models.py),
declared with django-fsm-2; only services in `oms.orders.services` call them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    CONFIRMED = "confirmed", _("Confirmed")
    ON_HOLD = "on_hold", _("On hold")
    IN_FULFILLMENT = "in_fulfillment", _("In fulfilment")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    PARTIALLY_RETURNED = "partially_returned", _("Partially returned")
    RETURNED = "returned", _("Returned")
    CANCELLED = "cancelled", _("Cancelled")


S = OrderStatus
# Cancelling is possible until the first unit has left; afterwards only the unshipped rest can be
# cancelled, which changes lines, not the order's status.
CANCELLABLE = [S.PLACED, S.CONFIRMED, S.ON_HOLD, S.IN_FULFILLMENT]
# Goods came back (returns.services): an order whose units have all left may become partially
# returned, and returned once every fulfilled unit is back. A partially shipped order keeps its
# status while units are still open; its lines count what came back, and once the rest has left
# the roll-up takes it on to partially returned.
RETURNABLE_FROM = [S.SHIPPED, S.COMPLETED, S.PARTIALLY_RETURNED]
OPEN = [S.PLACED, S.CONFIRMED, S.ON_HOLD, S.IN_FULFILLMENT, S.PARTIALLY_SHIPPED]
