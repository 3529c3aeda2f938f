"""The return's state machine and the choices of its lines. Transitions are methods on `Return`
(models.py), declared with django-fsm-2; only `returns.services` calls them.

    requested ──receive──▶ received ──refund issued──▶ refunded ──▶ closed
        │                     └── nothing to refund (all refused, or the exchange took
        │                         the whole value) ─────────────────────▶ closed
        └──cancel──▶ cancelled

A line is ``announced`` until the goods are in hand; then ``received`` (some or all of its units
came back) or ``refused`` (nothing of it came back, or staff would not take it).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    RECEIVED = "received", _("Received")
    REFUNDED = "refunded", _("Refunded")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class ReturnMode(models.TextChoices):
    IN_STORE = "in_store", _("In store")
    MAIL = "mail", _("By mail")


class LineStatus(models.TextChoices):
    ANNOUNCED = "announced", _("Announced")
    RECEIVED = "received", _("Received")
    REFUSED = "refused", _("Refused")


class Condition(models.TextChoices):
    RESELLABLE = "resellable", _("Resellable")
    DAMAGED = "damaged", _("Damaged")


class Disposition(models.TextChoices):
    RESTOCK = "restock", _("Back on the shelf")
    WRITE_OFF = "write_off", _("Written off")


S = ReturnStatus
# Returns whose units are spoken for: counted against what can still be returned.
OPEN = [S.REQUESTED]
