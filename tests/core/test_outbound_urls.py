"""Outbound URLs are guarded (issue 17, part 7; oms/core/outbound.py): webhook subscription URLs
and location WMS URLs are http(s) only, carry no credentials and, unless
OUTBOUND_ALLOW_PRIVATE_NETWORKS is on, reach public addresses only: when they are written
(400, nothing written) and again when a request is sent (after DNS resolution)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.utils import timezone

from fulfillment.adapters.wms import Dispatch, HttpWarehouseGateway
from inventory.models import Location
from inventory.services import LocationData, location_upsert
from oms.core.attempts.selectors import attempt_of
from oms.core.errors import InvalidInput
from oms.core.models import AttemptTry, ClientKind, OutboxEvent, WebhookSubscription
from oms.core.webhooks.services import (
    WEBHOOK,
    webhook_delivery_attempt,
    webhook_subscription_create,
)
from tests.conftest import error_codes
from tests.factories import ApiClientFactory, LocationFactory, WebhookDeliveryFactory
from tests.http_receiver import HttpReceiver
from tests.inventory.payloads import location_body

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/api/v1/webhook-subscriptions"
PUBLIC_WMS = "https://wms.example.com/hook"

REFUSED_SCHEMES = [
    "ftp://example.com/hook",
    "file:///etc/passwd",
    "gopher://example.com:70/_GET",
    "javascript:alert(1)",
    "data:text/plain,hello",
]

# One URL per class of address that is not public, in the notations used to sneak them past a
# naive check.
NON_PUBLIC_URLS = {
    "loopback": "http://127.0.0.1:8000/hook",
    "loopback, IPv6": "http://[::1]/hook",
    "loopback, decimal": "http://2130706433/hook",
    "loopback, octal": "http://0177.0.0.1/hook",
    "loopback, hexadecimal": "http://0x7f.1/hook",
    "loopback, short form": "http://127.1/hook",
    "loopback, IPv4-mapped IPv6": "http://[::ffff:127.0.0.1]/hook",
    "localhost": "http://localhost:8000/hook",
    "a localhost subdomain": "http://wms.localhost/hook",
    "link-local (cloud metadata)": "http://169.254.169.254/latest/meta-data/",
    "link-local, IPv6": "http://[fe80::1]/hook",
    "private 10/8": "http://10.0.0.5/hook",
    "private 172.16/12": "http://172.16.3.4/hook",
    "private 192.168/16": "https://192.168.1.10/hook",
    "private, IPv4-mapped IPv6": "http://[::ffff:10.0.0.5]/hook",
    "private, IPv6 unique local": "http://[fd00::5]/hook",
    "shared address space 100.64/10": "http://100.64.0.1/hook",
    "unspecified": "http://0.0.0.0:8000/hook",
    "unspecified, IPv6": "http://[::]/hook",
    "multicast": "http://224.0.0.1/hook",
    "reserved": "http://240.0.0.1/hook",
}


@pytest.fixture
def public_only(settings: Any) -> None:
    """Production's rule: outbound requests reach public addresses only."""
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False


@pytest.fixture
def private_allowed(settings: Any) -> None:
    """Development's and the test suite's rule: private addresses are allowed too."""
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def kassel() -> Location:
    return LocationFactory(code="WH-KS", name="Zentrallager Kassel", wms_url=PUBLIC_WMS)


def location_row(code: str) -> tuple[Any, ...]:
    return tuple(Location.objects.filter(code=code).values_list("name", "wms_url", "wms_secret",
                                                                 "updated_at").get())


def refusal(response: Any) -> list[tuple[str, str | None]]:
    return [(e["code"], e["attr"]) for e in response.json()["errors"]]


def resolve_to_loopback(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """`name` resolves to 127.0.0.1, as a rebinding DNS server would answer for it."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        return real_getaddrinfo("127.0.0.1" if host == name else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# --- Only http and https -----------------------------------------------------------------------


@pytest.mark.parametrize("url", REFUSED_SCHEMES)
def test_a_subscription_url_must_be_http_or_https_even_where_private_networks_are_allowed(
    api: Any, private_allowed: None, url: str
) -> None:
    # when staff subscribe a URL of another scheme, where private networks are allowed
    response = api("staff").post(SUBSCRIPTIONS, {"url": url, "topics": ["*"]})

    # then it is refused naming the url, and no subscription exists
    assert response.status_code == 400
    assert refusal(response) == [("invalid_scheme", "url")]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("url", REFUSED_SCHEMES)
def test_a_wms_url_must_be_http_or_https_even_where_private_networks_are_allowed(
    api: Any, private_allowed: None, kassel: Location, url: str
) -> None:
    # given a warehouse with a WMS endpoint
    before = location_row("WH-KS")

    # when the ERP puts it again with a WMS URL of another scheme
    response = api("erp").put("/api/v1/locations/WH-KS",
                              location_body(name="Lager Kassel", wms_url=url))

    # then it is refused naming wms_url, and the location is unchanged
    assert response.status_code == 400
    assert refusal(response) == [("invalid_scheme", "wms_url")]
    assert location_row("WH-KS") == before
    assert not OutboxEvent.objects.filter(topic="location.upserted").exists()


# --- No credentials ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["https://user:secret@erp.example.com/hooks",
                                 "https://token@erp.example.com/hooks"])
def test_a_url_with_a_user_name_or_password_is_refused_wherever_it_is_given(
    api: Any, private_allowed: None, kassel: Location, url: str
) -> None:
    # given a warehouse with a WMS endpoint
    before = location_row("WH-KS")

    # when staff subscribe such a URL and the ERP sets it as the warehouse's WMS URL
    subscribed = api("staff").post(SUBSCRIPTIONS, {"url": url, "topics": ["*"]})
    put = api("erp").put("/api/v1/locations/WH-KS", location_body(wms_url=url))

    # then both are refused naming the field, and nothing is written
    assert (subscribed.status_code, put.status_code) == (400, 400)
    assert refusal(subscribed) == [("url_not_allowed", "url")]
    assert refusal(put) == [("url_not_allowed", "wms_url")]
    assert not WebhookSubscription.objects.exists()
    assert location_row("WH-KS") == before


# --- Public addresses only ---------------------------------------------------------------------


@pytest.mark.parametrize("url", NON_PUBLIC_URLS.values(), ids=NON_PUBLIC_URLS.keys())
def test_a_subscription_to_a_non_public_address_is_refused(
    api: Any, public_only: None, url: str
) -> None:
    # when staff subscribe a URL whose host is not a public address
    response = api("staff").post(SUBSCRIPTIONS, {"url": url, "topics": ["order.placed"]})

    # then it is a 400 naming the url, and no subscription exists
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert refusal(response) == [("url_not_allowed", "url")]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("url", NON_PUBLIC_URLS.values(), ids=NON_PUBLIC_URLS.keys())
def test_a_wms_url_at_a_non_public_address_is_refused_and_the_location_is_unchanged(
    api: Any, public_only: None, kassel: Location, url: str
) -> None:
    # given a warehouse with a public WMS endpoint
    before = location_row("WH-KS")

    # when the ERP puts it with a new name and a WMS URL at a non-public address
    response = api("erp").put("/api/v1/locations/WH-KS",
                              location_body(name="Lager Kassel", wms_url=url))

    # then it is a 400 naming wms_url, and neither the name nor the URL changed
    assert response.status_code == 400
    assert refusal(response) == [("url_not_allowed", "wms_url")]
    assert location_row("WH-KS") == before
    assert not OutboxEvent.objects.filter(topic="location.upserted").exists()


def test_a_new_location_with_a_non_public_wms_url_is_not_created(
    api: Any, public_only: None
) -> None:
    # when the ERP creates a warehouse whose WMS is on the cloud metadata address
    response = api("erp").put("/api/v1/locations/WH-NEW", location_body(
        wms_url="http://169.254.169.254/latest/meta-data/"))

    # then it is refused and there is no such location
    assert response.status_code == 400
    assert refusal(response) == [("url_not_allowed", "wms_url")]
    assert not Location.objects.filter(code="WH-NEW").exists()


def test_public_urls_are_accepted(api: Any, public_only: None) -> None:
    # when staff subscribe a public URL and the ERP creates a warehouse with a public WMS URL
    subscribed = api("staff").post(SUBSCRIPTIONS, {"url": "https://erp.example.com/hooks",
                                                   "topics": ["*"]})
    put = api("erp").put("/api/v1/locations/WH-NEW", location_body(
        wms_url="https://93.184.216.34/wms"))

    # then both are written
    assert (subscribed.status_code, put.status_code) == (201, 201)
    assert WebhookSubscription.objects.get().url == "https://erp.example.com/hooks"
    assert Location.objects.get(code="WH-NEW").wms_url == "https://93.184.216.34/wms"


def test_the_setting_allows_loopback_and_private_addresses(
    api: Any, private_allowed: None, kassel: Location
) -> None:
    # when, with private networks allowed, staff subscribe a loopback URL and the ERP points
    # the warehouse at a WMS on the private network
    subscribed = api("staff").post(SUBSCRIPTIONS, {"url": "http://127.0.0.1:8080/hooks",
                                                   "topics": ["*"]})
    put = api("erp").put("/api/v1/locations/WH-KS",
                         location_body(wms_url="http://10.0.0.5:8080/wms"))

    # then both are written
    assert (subscribed.status_code, put.status_code) == (201, 200)
    assert WebhookSubscription.objects.get().url == "http://127.0.0.1:8080/hooks"
    assert location_row("WH-KS")[1] == "http://10.0.0.5:8080/wms"


def test_the_refusal_speaks_german_to_clients_that_ask_for_it(
    api: Any, public_only: None
) -> None:
    # when a German-speaking staff client subscribes a private URL
    response = api("staff").http.post(
        SUBSCRIPTIONS, {"url": "http://10.0.0.5/hook", "topics": ["*"]},
        content_type="application/json", HTTP_ACCEPT_LANGUAGE="de")

    # then the refusal is in German
    assert error_codes(response) == ["url_not_allowed"]
    assert response.json()["errors"][0]["detail"] == (
        "Diese URL zeigt auf eine nicht öffentliche Adresse (private); nur öffentliche Adressen "
        "sind erlaubt.")


# --- Every write path --------------------------------------------------------------------------


def test_the_services_refuse_non_public_urls_from_any_caller(public_only: None) -> None:
    # given a staff client and a warehouse with a public WMS endpoint
    owner = ApiClientFactory(kind=ClientKind.STAFF)
    LocationFactory(code="WH-KS", name="Zentrallager Kassel", wms_url=PUBLIC_WMS)
    before = location_row("WH-KS")

    # when code other than the API calls the services with private URLs
    with pytest.raises(InvalidInput) as subscribing:
        webhook_subscription_create(owner=owner, url="http://10.1.2.3/hook", topics=["*"])
    with pytest.raises(InvalidInput) as upserting:
        location_upsert(data=LocationData(
            code="WH-KS", name="Lager Kassel", kind="warehouse", address={}, lat=None,
            lon=None, capabilities=["ships"], wms_url="http://192.168.0.2/wms"))

    # then both refuse naming the field, and nothing is written
    assert subscribing.value.errors() == [{"code": "url_not_allowed", "attr": "url",
                                           "detail": subscribing.value.detail}]
    assert (upserting.value.code, upserting.value.attr) == ("url_not_allowed", "wms_url")
    assert not WebhookSubscription.objects.exists()
    assert location_row("WH-KS") == before


def test_the_cockpit_location_form_refuses_a_non_public_wms_url(
    admin_client: Any, public_only: None, kassel: Location
) -> None:
    # given a warehouse with a public WMS endpoint
    before = location_row("WH-KS")

    # when an administrator saves it in the cockpit with the WMS on a private address
    response = admin_client.post(f"/admin/inventory/location/{kassel.pk}/change/", {
        "name": "Lager Kassel", "kind": "warehouse", "address": "{}", "lat": "51.31",
        "lon": "9.48", "ships": "on", "priority": "10", "wms_url": "http://10.0.0.5/wms",
    })

    # then the form is shown again with the error on the field, and nothing changed
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert [e.code for e in form.errors.as_data()["wms_url"]] == ["url_not_allowed"]
    assert location_row("WH-KS") == before


def test_the_cockpit_location_form_accepts_a_public_wms_url(
    admin_client: Any, public_only: None, kassel: Location
) -> None:
    # when an administrator saves the warehouse with another public WMS endpoint
    response = admin_client.post(f"/admin/inventory/location/{kassel.pk}/change/", {
        "name": "Lager Kassel", "kind": "warehouse", "address": "{}", "lat": "51.31",
        "lon": "9.48", "ships": "on", "priority": "10",
        "wms_url": "https://wms2.example.com/hook",
    })

    # then it is saved
    assert response.status_code == 302
    assert location_row("WH-KS")[:2] == ("Lager Kassel", "https://wms2.example.com/hook")


# --- At send time ------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_public_name_resolving_to_loopback_is_refused_when_a_webhook_is_sent(
    public_only: None, webhook_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch,
    scheme: str,
) -> None:
    # given a subscription to a public-looking name whose DNS answers 127.0.0.1, where the
    # receiver listens (for https the refusal comes before the TLS handshake would fail)
    delivery = WebhookDeliveryFactory(
        subscription__url=f"{scheme}://hooks.example.com:{webhook_receiver.port}/hooks/oms")
    resolve_to_loopback(monkeypatch, "hooks.example.com")

    # when an attempt is made
    status = webhook_delivery_attempt(delivery_id=delivery.pk)

    # then the connection was refused before a request was sent: a failed attempt, retried
    # later like an unreachable host
    assert status == "pending"
    attempt = AttemptTry.objects.get(attempt=attempt_of(kind=WEBHOOK, target_id=delivery.pk))
    assert attempt.status_code is None
    assert "refused to connect to 127.0.0.1 (a loopback address)" in attempt.error
    assert attempt_of(kind=WEBHOOK, target_id=delivery.pk).next_attempt_at > timezone.now()
    assert webhook_receiver.requests == []


def test_a_public_name_resolving_to_loopback_is_refused_when_dispatching_to_a_wms(
    public_only: None, webhook_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a WMS endpoint at a public-looking name whose DNS answers 127.0.0.1
    resolve_to_loopback(monkeypatch, "wms.example.com")
    dispatch = Dispatch(url=f"http://wms.example.com:{webhook_receiver.port}/hooks/oms",
                        secret="whsec_c2VjcmV0", message_id="fo_1", payload={"order": "1"})

    # when the WMS gateway sends a fulfilment order
    result = HttpWarehouseGateway().send(dispatch)

    # then it fails without reaching the receiver
    assert not result.ok
    assert result.status is None
    assert "refused to connect to 127.0.0.1" in result.error
    assert webhook_receiver.requests == []


def test_a_stored_url_that_predates_the_rule_is_refused_without_connecting(
    public_only: None
) -> None:
    # given a subscription row written before the rule, pointing at the metadata service
    delivery = WebhookDeliveryFactory(subscription__url="http://169.254.169.254/latest/")

    # when an attempt is made
    webhook_delivery_attempt(delivery_id=delivery.pk)

    # then it fails with the rule's reason
    attempt = AttemptTry.objects.get(attempt=attempt_of(kind=WEBHOOK, target_id=delivery.pk))
    assert attempt.status_code is None
    assert attempt.error.startswith("refused: url_not_allowed")


def test_a_stored_url_of_another_scheme_is_never_sent_even_where_private_networks_are_allowed(
    private_allowed: None
) -> None:
    # given a subscription row with a file URL, and private networks allowed
    delivery = WebhookDeliveryFactory(subscription__url="file:///etc/passwd")

    # when an attempt is made
    webhook_delivery_attempt(delivery_id=delivery.pk)

    # then it fails on the scheme
    attempt = AttemptTry.objects.get(attempt=attempt_of(kind=WEBHOOK, target_id=delivery.pk))
    assert attempt.error.startswith("refused: invalid_scheme")


def test_a_subscriber_on_loopback_receives_deliveries_where_private_networks_are_allowed(
    private_allowed: None, webhook_receiver: HttpReceiver
) -> None:
    # given a subscription to the receiver on 127.0.0.1, with private networks allowed
    delivery = WebhookDeliveryFactory(subscription__url=webhook_receiver.url)

    # when an attempt is made
    status = webhook_delivery_attempt(delivery_id=delivery.pk)

    # then it is delivered
    assert status == "succeeded"
    assert len(webhook_receiver.requests) == 1


# --- The schema ----------------------------------------------------------------------------------


def test_the_schema_describes_outbound_urls(api: Any) -> None:
    # when the schema is read
    schema = api("staff").http.get("/api/schema/", {"format": "json"}).json()

    # then both URL fields are URIs described with the rule
    components = schema["components"]["schemas"]
    subscription_url = components["SubscriptionInRequest"]["properties"]["url"]
    wms_url = components["LocationInRequest"]["properties"]["wms_url"]
    for field in (subscription_url, wms_url):
        assert "url_not_allowed" in field["description"]
        assert "invalid_scheme" in field["description"]
    assert subscription_url["format"] == "uri"
    assert wms_url["oneOf"][0]["format"] == "uri"
