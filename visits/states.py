"""The pickup offer's state machine. Transitions are methods on `PickupOffer` (models.py),
declared with django-fsm-2; only `visits.services` calls them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OfferStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class VisitSource(models.TextChoices):
    NFC = "nfc", _("NFC tag")
    GEOFENCE = "geofence", _("App geofence")
    WALLET = "wallet", _("Wallet pass")
    POS = "pos", _("Login at the till")


class Decision(models.TextChoices):
    """Why a fulfilment of the customer's was offered at the store, or not (the order's audit
    trail keeps one per fulfilment and visit)."""

    OFFERED = "offered", _("Offered")
    NO_CONSENT = "no_consent", _("No consent to offers in the store")
    NOT_IN_STOCK_HERE = "not_in_stock_here", _("Not in stock at this store")
    ALREADY_PICKING = "already_picking", _("Already being picked")
    NO_CLICK_AND_COLLECT = "store_without_click_and_collect", _(
        "The store offers no click-and-collect")


RULES = {"PickupOffer": """
An offer is made when a customer's visit finds goods of their unshipped order on the store's
shelf: `offered`, with an expiry (default 20 minutes). The customer declines it, or it expires
(a beat sweep); an offer answers `409` once it is no longer `offered`.
"""}
