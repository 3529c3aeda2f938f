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
# The `refused_reason` of a line nobody named at receipt: not a refusal by staff, the goods
# were not there (the customer's notice says so in their language).
NOT_RECEIVED = "not in the parcel"
# Shown under the return's diagram in docs/state-machines.md (manage.py state_diagrams).
RULES = {"Return": """
A return is `requested` when registered (at a till, in the cockpit, or by the webshop or app
for a parcel); its announced units are spoken for from then on. `receive` counts what is in
hand (in a store in the same visit; by mail when the parcel reaches the site the return names):
units go back on that location's shelf or are written off, and the refund is issued. The return
is `refunded` once every part of the refund is issued (cash and store credit at once, a card or
PayPal refund when the PSP confirms it) and `closed` once nothing is left to do: at once, unless
an exchange order is still on its way (then when it ships, is collected or is cancelled). A
return with nothing to refund (everything refused, or the exchange took the whole value) goes
from `received` straight to `closed`. Only a `requested` return can be `cancelled`: its
announced units are free again and its exchange order, if still open, is cancelled.
"""}
# Returns whose units are spoken for: counted against what can still be returned.
OPEN = [S.REQUESTED]
