"""Recording a customer's consents (issue 20, API.md Customers).

Every record is kept (the history is the proof of what the customer said, and when). The
current state of a purpose is its record with the latest `at`, the time the customer gave it,
not the time it reached us: systems deliver late and out of order (a till syncing after a
network outage), and a withdrawal made at 10:05 must not be undone by a grant made at 10:00
that arrives later."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oms.core.errors import InvalidInput
from oms.core.events import event_emit
from oms.orders.models import Consent, ConsentPurpose, Customer

# A consent given "in the future" would stay the current state until that time passed, so a
# withdrawal made meanwhile would not count: a sender's clock this far ahead is refused.
MAX_CLOCK_AHEAD = timedelta(minutes=5)
TOPIC = "customer.consents_changed"


@dataclass(frozen=True)
class ConsentRecord:
    purpose: str
    granted: bool
    source: str
    at: datetime


@dataclass(frozen=True)
class ConsentState:
    """The current state of one purpose."""

    granted: bool
    source: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"granted": self.granted, "source": self.source, "at": self.at.isoformat()}


def consents_current(*, customer: Customer) -> dict[str, ConsentState]:
    """The current state per purpose the customer ever decided on (a purpose never decided
    on is missing: no consent)."""
    return consents_current_of([customer.pk]).get(customer.pk, {})


def consents_current_of(customer_pks: Sequence[int]) -> dict[int, dict[str, ConsentState]]:
    """`consents_current` for many customers in one query (a page of a list)."""
    latest = (Consent.objects.filter(customer_id__in=list(customer_pks))
              .order_by("customer_id", "purpose", "-at", "-id")
              .distinct("customer_id", "purpose")
              .values_list("customer_id", "purpose", "granted", "source", "at"))
    states: dict[int, dict[str, ConsentState]] = {}
    for pk, purpose, granted, source, at in latest:
        states.setdefault(pk, {})[purpose] = ConsentState(granted, source, at)
    return states


def _check(records: Sequence[ConsentRecord]) -> None:
    """What the API's parsing cannot see alone; raises InvalidInput naming each record."""
    errors: list[tuple[str, str, str | None]] = []
    if not records:
        errors.append(("required", _("Give at least one consent."), "consents"))
    seen: set[tuple[str, datetime]] = set()
    latest_allowed = timezone.now() + MAX_CLOCK_AHEAD
    for i, record in enumerate(records):
        if record.purpose not in ConsentPurpose.values:
            errors.append(("invalid_choice", _("Unknown consent purpose %(purpose)s.")
                           % {"purpose": record.purpose}, f"consents.{i}.purpose"))
        if timezone.is_naive(record.at):
            errors.append(("missing_offset", _("Give the time with a UTC offset, e.g. +01:00 "
                                               "or Z."), f"consents.{i}.at"))
        elif record.at > latest_allowed:
            errors.append(("in_the_future", _("A consent cannot be given in the future."),
                           f"consents.{i}.at"))
        key = (record.purpose, record.at)
        if key in seen:
            # Two answers for one purpose at one instant: which one the customer meant cannot
            # be told, so neither is recorded.
            errors.append(("duplicate_consent", _(
                "The same purpose appears twice with the same time."), f"consents.{i}"))
        seen.add(key)
    if errors:
        raise InvalidInput(errors)


def consents_record(*, customer: Customer, records: Sequence[ConsentRecord],
                    actor: str) -> dict[str, ConsentState]:
    """Append `records` to the customer's consent history and return the current state per
    purpose. In one transaction with the customer's row locked, so two senders recording at
    once each see the other's records when deciding what changed (and the event says so
    once). Publishes ``customer.consents_changed`` when the current state of a purpose
    changed; a record older than the current one is kept in the history and changes
    nothing."""
    _check(records)
    now = timezone.now()
    with transaction.atomic():
        locked = Customer.objects.select_for_update(no_key=True).get(pk=customer.pk)
        before = consents_current(customer=locked)
        Consent.objects.bulk_create([
            Consent(customer=locked, purpose=r.purpose, granted=r.granted, source=r.source,
                    at=r.at, recorded_at=now, recorded_by=actor)
            for r in records])
        after = consents_current(customer=locked)
        changed = sorted(p for p, state in after.items() if before.get(p) != state)
        if changed:
            event_emit(topic=TOPIC, aggregate_type="customer", aggregate_id=str(locked.public_id),
                       payload=consents_payload(locked, after, changed))
    return after


def consents_payload(customer: Customer, current: dict[str, ConsentState],
                     changed: Sequence[str]) -> dict[str, Any]:
    """What webhook subscribers (the CRM) get. The e-mail is in it, as in every order's
    payload: the CRM matches customers by e-mail, and the internal key is never shown."""
    return {
        "customer": {"id": str(customer.public_id), "email": customer.email},
        "changed": list(changed),
        "consents": {purpose: state.as_json() for purpose, state in sorted(current.items())},
    }
