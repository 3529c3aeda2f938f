"""The back-office pages of returns: each store's staff see their store's returns only, and
the reason list is switched off, never deleted."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission

from returns.models import Return, ReturnReason
from returns.reasons import return_reasons_active
from tests.cockpit.conftest import logged_in
from tests.factories.cockpit import StoreStaffFactory
from tests.returns.conftest import return_body

pytestmark = pytest.mark.django_db


def _staff(username: str, store: Any) -> Any:
    user = StoreStaffFactory(username=username, stores=[store])
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="returns", codename__in=["view_return", "view_returnreason",
                                                         "change_returnreason"]))
    return logged_in(user)


def test_store_staff_see_only_their_stores_returns(network: Any, delivered: Any,
                                                   pos_berlin: Any, pos_munich: Any) -> None:
    # given a return taken back in Berlin and one in Munich
    berlin = pos_berlin.post("/api/v1/returns", return_body(delivered([("A", 1)]), [("A", 1)]))
    munich = pos_munich.post("/api/v1/returns", return_body(delivered([("B", 1)]), [("B", 1)]))
    assert berlin.status_code == munich.status_code == 201
    berlin_return = Return.objects.get(pk=berlin.json()["id"])
    munich_return = Return.objects.get(pk=munich.json()["id"])
    browser = _staff("ben", network.berlin)

    # when Berlin's staff open the returns list and each return's page
    listed = browser.get("/admin/returns/return/")
    own = browser.get(f"/admin/returns/return/{berlin_return.pk}/change/")
    other = browser.get(f"/admin/returns/return/{munich_return.pk}/change/")

    # then they see Berlin's return and Munich's does not exist for them
    assert listed.status_code == 200
    assert berlin_return.number in listed.content.decode()
    assert munich_return.number not in listed.content.decode()
    assert own.status_code == 200
    assert other.status_code == 404


def test_a_reason_can_be_switched_off_but_not_deleted(network: Any) -> None:
    # given the default reasons and a user who may edit them
    reason = return_reasons_active().get(code="changed_mind")
    browser = _staff("ben", network.berlin)

    # when they try to delete one
    response = browser.post(f"/admin/returns/returnreason/{reason.pk}/delete/", {"post": "yes"})

    # then it is refused and the reason stays; switched off it is no longer offered
    assert response.status_code == 403
    assert ReturnReason.objects.filter(code="changed_mind").exists()
    ReturnReason.objects.filter(code="changed_mind").update(is_active=False)
    assert "changed_mind" not in set(return_reasons_active().values_list("code", flat=True))
