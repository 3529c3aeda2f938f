"""`/api/v1/customers` (issue 20, API.md Customers): back-office kinds see every customer,
selling clients find one only by exact e-mail or external id, other kinds are refused; the
profile; recording consents over HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from oms.core.models import OutboxEvent
from oms.orders.models import Consent
from oms.orders.states import OrderStatus
from tests.conftest import error_codes
from tests.factories import ConsentFactory, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

AT = "2026-03-01T10:00:00+01:00"


def _consents(*records: dict[str, Any]) -> dict[str, Any]:
    return {"consents": list(records)}


def _grant(purpose: str = "in_store_offers", **extra: Any) -> dict[str, Any]:
    return {"purpose": purpose, "granted": True, "source": "app_settings", "at": AT, **extra}


@pytest.fixture
def kim() -> Any:
    return CustomerFactory(email="kim@example.de", name="Kim", phone="+49 30 1",
                           external_id="app-42")


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()["results"]]


@pytest.mark.parametrize("kind", ["webshop", "app", "pos"])
def test_a_selling_client_finds_a_customer_by_e_mail_in_any_case(api, kim, kind):
    # given a customer kim@example.de and another one
    CustomerFactory()
    # when a selling client of another channel looks for KIM@Example.DE
    found = api(kind, channel="elsewhere").get("/api/v1/customers",
                                                {"email": "KIM@Example.DE"})
    # then exactly that customer is found: one profile across channels
    assert _ids(found) == [str(kim.public_id)]


def test_a_selling_client_finds_a_customer_by_external_id(api, kim):
    # given a customer with the app's user id app-42
    CustomerFactory(external_id="app-43")
    # when the app looks for app-42
    found = api("app", channel="app").get("/api/v1/customers", {"external_id": "app-42"})
    # then that customer is found
    assert _ids(found) == [str(kim.public_id)]


@pytest.mark.parametrize("query", [{}, {"phone": "+49 30 1"}], ids=["nothing", "phone only"])
def test_a_selling_client_cannot_browse_customers(api, kim, query):
    # when a webshop asks for customers without an e-mail or external id
    response = api("webshop", channel="web").get("/api/v1/customers", query)
    # then it is refused
    assert response.status_code == 400
    assert error_codes(response) == ["identity_required"]


@pytest.mark.parametrize("kind", ["crm", "bi", "staff"])
def test_the_back_office_lists_every_customer_and_may_filter(api, kim, kind):
    # given another customer
    other = CustomerFactory()
    client = api(kind)
    # when the back office lists customers, without and with a filter
    everyone = _ids(client.get("/api/v1/customers"))
    by_phone = _ids(client.get("/api/v1/customers", {"phone": "+49 30 1"}))
    # then it sees everyone, and the filter narrows
    assert set(everyone) == {str(kim.public_id), str(other.public_id)}
    assert by_phone == [str(kim.public_id)]


@pytest.mark.parametrize("kind", ["wms", "erp", "pim", "psp", "supplier", "finance",
                                  "marketplace"])
def test_other_kinds_may_not_read_or_change_customers(api, kim, kind):
    client = api(kind, channel="mp") if kind == "marketplace" else api(kind)
    # when another kind of client asks for customers or records a consent
    responses = [client.get("/api/v1/customers", {"email": "kim@example.de"}),
                 client.get(f"/api/v1/customers/{kim.public_id}"),
                 client.put(f"/api/v1/customers/{kim.public_id}/consents",
                            _consents(_grant()))]
    # then each is refused, and nothing was recorded
    assert [r.status_code for r in responses] == [403, 403, 403]
    assert not Consent.objects.exists()


def test_the_profile_shows_identity_orders_and_current_consents(api, kim):
    # given two orders of the customer, a cancelled third, and consents
    OrderFactory(customer=kim, total=Decimal("30.00"), language="de")
    OrderFactory(customer=kim, total=Decimal("12.50"), language="en")
    OrderFactory(customer=kim, total=Decimal("99.00"), status=OrderStatus.CANCELLED)
    ConsentFactory(customer=kim, purpose="push", granted=True, source="app",
                   at="2026-03-01T09:00:00+00:00")
    ConsentFactory(customer=kim, purpose="push", granted=False, source="app_settings",
                   at="2026-03-02T09:00:00+00:00")
    # when the app reads the profile
    response = api("app", channel="app").get(f"/api/v1/customers/{kim.public_id}")
    # then it shows exactly the documented fields with the current state
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": str(kim.public_id), "email": "kim@example.de", "name": "Kim",
        "phone": "+49 30 1", "external_ids": ["app-42"], "language": "de",
        "segments": [],
        "consents": [{"purpose": "push", "granted": False, "source": "app_settings",
                      "at": "2026-03-02T10:00:00+01:00"}],
        "orders_count": 2,
        "lifetime_value": [{"amount": "42.50", "currency": "EUR"}],
        "merged_into": None,
    }


def test_the_language_is_the_latest_orders(api, kim):
    # given an older German order and a newer English one
    OrderFactory(customer=kim, language="de", created_at="2026-01-01T10:00:00+00:00")
    OrderFactory(customer=kim, language="en", created_at="2026-02-01T10:00:00+00:00")
    # when the CRM reads the profile
    profile = api("crm").get(f"/api/v1/customers/{kim.public_id}").json()
    # then the language is the newer order's
    assert profile["language"] == "en"


def test_an_unknown_customer_answers_404(api):
    # when a client names a customer id nobody has
    client = api("crm")
    missing = "00000000-0000-4000-8000-000000000000"
    responses = [client.get(f"/api/v1/customers/{missing}"),
                 client.put(f"/api/v1/customers/{missing}/consents", _consents(_grant()))]
    # then it is not found
    assert [r.status_code for r in responses] == [404, 404]
    assert error_codes(responses[0]) == ["not_found"]


@pytest.mark.parametrize("kind", ["app", "pos", "webshop", "crm", "staff"])
def test_a_consent_recorded_over_http_is_the_current_state_and_announced(
        api, kim, kind):
    # when a client records the customer's consent to offers in the store
    response = api(kind, channel="app").put(f"/api/v1/customers/{kim.public_id}/consents",
                                            _consents(_grant()))
    # then the profile shows it, the history holds it, and the change is announced
    assert response.status_code == 200, response.content
    assert response.json()["consents"] == [
        {"purpose": "in_store_offers", "granted": True, "source": "app_settings", "at": AT}]
    assert Consent.objects.filter(customer=kim).count() == 1
    event = OutboxEvent.objects.get(topic="customer.consents_changed")
    assert event.payload["changed"] == ["in_store_offers"]


def test_bi_reads_but_does_not_record_consents(api, kim):
    # when the BI system tries to record a consent
    response = api("bi").put(f"/api/v1/customers/{kim.public_id}/consents",
                             _consents(_grant()))
    # then it is refused
    assert response.status_code == 403
    assert not Consent.objects.exists()


def test_an_older_consent_over_http_is_kept_but_does_not_count(api, kim):
    # given a withdrawal given on 2 March
    ConsentFactory(customer=kim, purpose="in_store_offers", granted=False,
                   at="2026-03-02T09:00:00+00:00")
    # when the app sends the grant given on 1 March
    response = api("app", channel="app").put(
        f"/api/v1/customers/{kim.public_id}/consents", _consents(_grant()))
    # then the withdrawal still counts, and the grant is in the history
    assert response.json()["consents"][0]["granted"] is False
    assert Consent.objects.count() == 2


@pytest.mark.parametrize(("body", "attr"), [
    (_consents(), "consents"),
    (_consents(_grant("newsletter")), "consents.0.purpose"),
    (_consents(_grant(granted="yes")), "consents.0.granted"),
    (_consents(_grant(granted=1)), "consents.0.granted"),
    (_consents(_grant(at="2026-03-01T10:00:00")), "consents.0.at"),
    (_consents(_grant(), _grant(granted=False)), "consents.1"),
    (_consents(_grant(channel="web")), "consents.0.channel"),
    ({**_consents(_grant()), "customer": "x"}, "customer"),
    (_consents(_grant(source="")), "consents.0.source"),
    ({"consents": "push"}, "consents"),
], ids=["empty", "unknown purpose", "granted a string", "granted a number", "no UTC offset",
        "same purpose same time", "unknown field in a consent", "unknown field",
        "no source", "not a list"])
def test_bad_consents_are_refused_and_nothing_changes(api, kim, body, attr):
    # when the app sends bad consents
    response = api("app", channel="app").put(f"/api/v1/customers/{kim.public_id}/consents",
                                              body)
    # then it is refused naming the field, and nothing was written
    assert response.status_code == 400, response.content
    assert attr in [e["attr"] for e in response.json()["errors"]]
    assert not Consent.objects.exists()
    assert not OutboxEvent.objects.filter(topic="customer.consents_changed").exists()
