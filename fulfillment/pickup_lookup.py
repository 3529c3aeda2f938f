"""Finding a ready pickup by the code its customer shows: the one policy for every counter, the
till's API call (`GET /api/v1/fulfillments?pickup_code=`) and the cockpit's handover search.

Codes are stored salted and hashed, so a lookup checks every ready pickup it may see, and six
characters are few enough to guess. Hence, wherever the lookup is made:

- it needs a scope: only a requester confined to its store(s) looks codes up, so one lookup
  tries the few hundred ready pickups of a store, not every store's (400 ``scope_required``);
- it is rate limited per requester (`settings.PICKUP_CODE_SEARCHES_PER_MINUTE`): a wrong code
  counts as much as a right one (429 ``throttled`` with ``retry_after``).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from fulfillment.models import FulfillmentOrder
from fulfillment.pickup_codes import ALPHABET, LENGTH, code_matches, normalize
from fulfillment.states import FulfillmentStatus
from oms.core.errors import InvalidInput
from oms.core.throttle import require_within_limit

ATTR = "pickup_code"


def could_be_code(text: str) -> bool:
    """Whether `text` (as staff type it: any case, spaces, dashes) has a code's shape; no code
    of another shape was ever issued, so nothing else needs to be checked against the hashes."""
    code = normalize(text)
    return len(code) == LENGTH and all(ch in ALPHABET for ch in code)


def pickups_by_code(*, pickups: QuerySet[FulfillmentOrder], scoped: bool, requester_key: str,
                    code: str) -> list[int]:
    """The ids of the ready pickups among `pickups` (what the requester may see) whose code is
    `code`. `scoped`: the requester is confined to its store(s), and `pickups` already narrowed
    to them. `requester_key` names whom the attempt counts against ("client:12", "user:3").

    Raises InvalidInput (``scope_required``) for an unconfined requester and TooManyRequests
    once the requester looked up too many codes this minute; the attempt counts even when
    `code` cannot be a code, as a guess it is."""
    if not scoped:
        raise InvalidInput([("scope_required", _(
            "Looking a pickup up by its code needs a client confined to the store."), ATTR)])
    require_within_limit(f"pickup-code:{requester_key}",
                         settings.PICKUP_CODE_SEARCHES_PER_MINUTE, attr=ATTR)
    if not could_be_code(code):
        return []
    # Each ready pickup is checked against its own salt; a store has at most a few thousand.
    return [pk for pk, salt, stored in pickups.filter(status=FulfillmentStatus.READY_FOR_PICKUP)
            .values_list("pk", "pickup_code_salt", "pickup_code_hash")
            if code_matches(salt, stored, code)]
