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
# Shown under the order's diagram in docs/state-machines.md (manage.py state_diagrams).
RULES = {"Order": """
**How the order's status follows its goods.** `placed` orders are confirmed when their payment
is secured, or held until it is. A location accepting its part starts fulfilment; the first unit
that ships or is handed over makes the order `partially_shipped`, the last one `shipped`; once
every parcel is delivered and every pickup collected it is `completed`. Cancelling is possible
until the first unit has left; afterwards only the rest can be cancelled (lines, not status).

**Returns.** Goods that come back are counted on the order's lines (`returned`, never more than
`fulfilled`: a database constraint). An order whose units have all left (`shipped`, `completed`)
becomes `partially_returned` with its first returned unit and `returned` once every fulfilled
unit is back; `partially_returned` goes on to `returned` the same way. An order still partly
open (`partially_shipped`) keeps its status while units come back: its lines show them, and
once nothing is open any more the next return takes it to `partially_returned` or `returned`.
A return never moves an order backwards: a returned order is not re-opened, a replacement is a
new order linked to the return (its exchange order).
"""}
OPEN = [S.PLACED, S.CONFIRMED, S.ON_HOLD, S.IN_FULFILLMENT, S.PARTIALLY_SHIPPED]
