"""Consents (issue 20): every record kept, the one the customer gave last counts, PostgreSQL
refuses to change the history, and a change is announced through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, transaction

from oms.core.errors import InvalidInput
from oms.core.models import OutboxEvent
from oms.orders.consents import ConsentRecord, consents_current, consents_record
from oms.orders.models import Consent
from tests.factories import ConsentFactory, CustomerFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def _record(purpose: str, granted: bool, at: datetime,
            source: str = "app_settings") -> ConsentRecord:
    return ConsentRecord(purpose=purpose, granted=granted, source=source, at=at)


def test_every_record_is_kept_and_the_latest_counts():
    # given a customer who granted e-mail marketing at checkout
    customer = CustomerFactory()
    consents_record(customer=customer, actor="shop",
                    records=[_record("email_marketing", True, T0, "webshop_checkout")])
    # when they withdraw it later in the app
    current = consents_record(customer=customer, actor="app",
                              records=[_record("email_marketing", False, T0 + timedelta(hours=1))])
    # then the withdrawal is the current state, and both records are in the history
    assert current["email_marketing"].granted is False
    assert current["email_marketing"].source == "app_settings"
    assert list(Consent.objects.order_by("at").values_list("granted", "recorded_by")) == \
        [(True, "shop"), (False, "app")]


def test_a_record_arriving_late_with_an_older_time_does_not_override_the_current_state():
    # given a customer who withdrew push consent at 11:00
    customer = CustomerFactory()
    ConsentFactory(customer=customer, purpose="push", granted=False, at=T0 + timedelta(hours=1))
    # when a till that was offline delivers the grant they gave at 10:00
    current = consents_record(customer=customer, actor="till",
                              records=[_record("push", True, T0, "pos_form")])
    # then the withdrawal still counts, and the grant is kept in the history only
    assert current["push"].granted is False
    assert Consent.objects.filter(customer=customer, purpose="push").count() == 2
    # and nothing is announced, since nothing changed
    assert not OutboxEvent.objects.filter(topic="customer.consents_changed").exists()


def test_purposes_are_independent_and_a_purpose_never_decided_on_is_absent():
    # given a customer
    customer = CustomerFactory()
    # when they grant offers in the store and decline profiling
    consents_record(customer=customer, actor="app", records=[
        _record("in_store_offers", True, T0), _record("profiling", False, T0)])
    # then those two are known, and nothing is assumed for the others
    current = consents_current(customer=customer)
    assert {p: s.granted for p, s in current.items()} == \
        {"in_store_offers": True, "profiling": False}


def test_a_change_is_announced_with_the_changed_purposes_and_the_current_state():
    # given a customer who granted e-mail marketing
    customer = CustomerFactory(email="kim@example.de")
    ConsentFactory(customer=customer, purpose="email_marketing", granted=True, at=T0)
    # when they grant push and repeat the e-mail grant at a later time
    consents_record(customer=customer, actor="app", records=[
        _record("push", True, T0 + timedelta(minutes=5)),
        _record("email_marketing", True, T0 + timedelta(minutes=5))])
    # then one event names both as changed (the e-mail grant's time and source are new)
    event = OutboxEvent.objects.get(topic="customer.consents_changed")
    assert event.aggregate_id == str(customer.public_id)
    assert event.payload["customer"] == {"id": str(customer.public_id),
                                         "email": "kim@example.de"}
    assert event.payload["changed"] == ["email_marketing", "push"]
    assert event.payload["consents"]["push"] == {
        "granted": True, "source": "app_settings",
        "at": (T0 + timedelta(minutes=5)).isoformat()}


@pytest.mark.parametrize("records", [
    [],
    [_record("newsletter", True, T0)],
    [_record("push", True, datetime(2026, 3, 1, 10, 0))],  # no UTC offset
    [_record("push", True, T0), _record("push", False, T0)],
    [_record("push", True, datetime(2099, 1, 1, tzinfo=UTC))],
], ids=["empty", "unknown purpose", "naive time", "same purpose same time", "future"])
def test_bad_records_are_refused_and_nothing_is_written(records):
    # given a customer with one consent
    customer = CustomerFactory()
    ConsentFactory(customer=customer)
    # when bad records are given
    with pytest.raises(InvalidInput):
        consents_record(customer=customer, actor="app", records=records)
    # then nothing was written
    assert Consent.objects.count() == 1
    assert not OutboxEvent.objects.exists()


def test_the_same_purpose_twice_at_different_times_is_a_history_and_the_later_counts():
    # given a customer
    customer = CustomerFactory()
    # when a CRM imports two decisions on push in one call, the later first
    current = consents_record(customer=customer, actor="crm", records=[
        _record("push", False, T0 + timedelta(days=1)), _record("push", True, T0)])
    # then both are kept and the later counts
    assert current["push"].granted is False
    assert Consent.objects.count() == 2


@pytest.mark.parametrize("change", ["update", "delete"])
def test_the_database_refuses_to_change_or_delete_a_consent_record(change):
    # given a recorded consent
    consent = ConsentFactory(granted=True)
    # when anything tries to rewrite or remove it
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        rows = Consent.objects.filter(pk=consent.pk)
        rows.update(granted=False) if change == "update" else rows.delete()
    # then it is as it was
    assert Consent.objects.get(pk=consent.pk).granted is True
