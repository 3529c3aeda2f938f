"""`manage.py seed_demo_store`: store staff and pickups for the demo cockpit."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from fulfillment.models import FulfillmentOrder

pytestmark = pytest.mark.django_db

STAFF_LINE = re.compile(r"^\s+(filiale-[a-z]+)\s+(\S+)\s+(ST-[A-Z]+)$", re.MULTILINE)


def test_the_demo_store_has_pickups_to_prepare_and_staff_who_can_log_in():
    # given the demo world
    call_command("seed_demo", "--products", "40", stdout=StringIO())

    # when the store demo is loaded
    out = StringIO()
    call_command("seed_demo_store", stdout=out)

    # then Berlin has four pickups, the first ready, the others still to pick
    pickups = FulfillmentOrder.objects.filter(kind="pickup", location__code="ST-BER")
    assert sorted(pickups.values_list("status", flat=True)) == [
        "pending", "pending", "pending", "ready_for_pickup"]
    # and each printed login works and belongs to its store only
    logins = STAFF_LINE.findall(out.getvalue())
    assert [(name, store) for name, _pw, store in logins] == [
        ("filiale-berlin", "ST-BER"), ("filiale-muenchen", "ST-MUC")]
    for name, password, store in logins:
        user = authenticate(username=name, password=password)
        assert user is not None and user.is_staff and not user.is_superuser
        assert list(user.stores.values_list("code", flat=True)) == [store]
        assert user.has_perm("fulfillment.change_fulfillmentorder")
