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


class ShipmentStop(models.TextChoices):
    """What became of the parcel an accepted offer replaces, at the warehouse."""

    NOT_NEEDED = "not_needed", _("Nothing to stop: the warehouse did not have it yet")
    REQUESTED = "requested", _("Stop requested from the warehouse")
    STOPPED = "stopped", _("Stopped by the warehouse")
    TOO_LATE = "too_late", _("Too late: the warehouse had already packed it")
    FAILED = "failed", _("The warehouse did not answer")


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
(a beat sweep); an offer answers `409` once it is no longer `offered`. Accepted (exactly once),
its lines move from the parcel to a pickup at the store in `picking`, and the warehouse is told
to stop the parcel. If the warehouse answers that it had already packed it, the offer is
`withdrawn`: the pickup is cancelled, the parcel goes on, and the customer is told.
""", "PickupOffer.shipment_stop": """
Blank until the offer is accepted. Then `not_needed` when the warehouse cannot have the parcel
(not sent yet, held, or a polling warehouse that has not acknowledged it), else `requested`
(the `wms_stop` call): `stopped` (2xx, or 404/410: it does not know the parcel), `too_late`
(409: the offer is withdrawn) or `failed` (given up; a retry from the admin requests it again).
"""}
