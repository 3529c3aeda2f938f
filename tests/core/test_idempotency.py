"""Every POST is safe to retry with an ``Idempotency-Key`` (API.md Conventions, rule 7)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import factory
import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from inventory.models import StockLevel, StockMovement
from oms.core import tasks
from oms.core.idempotency import idempotency_keys_sweep
from oms.core.models import IdempotencyKey, OutboxEvent
from tests.conftest import error_codes
from tests.core import urls as test_urls
from tests.factories import ApiClientFactory, StockLevelFactory

pytestmark = pytest.mark.django_db

MOVEMENTS = "/api/v1/stock/movements"
REPLAYED = "Idempotent-Replayed"


class IdempotencyKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdempotencyKey

    client = factory.SubFactory(ApiClientFactory, kind="wms")
    key = factory.Sequence(lambda n: f"key-{n}")
    fingerprint = "0" * 64
    response_status = 201
    response_body = "{}"
    response_content_type = "application/json"
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(hours=24))


@pytest.fixture
def level() -> StockLevel:
    return StockLevelFactory(on_hand=10)


@pytest.fixture
def wms(api: Any) -> Any:
    return api("wms")


def receipt(level: StockLevel, quantity: int = 5, reference: str = "ASN-1") -> dict[str, Any]:
    return {"location": level.location.code, "sku": level.product.sku, "quantity": quantity,
            "kind": "receipt", "reference": reference}


def with_key(key: str) -> dict[str, Any]:
    return {"headers": {"Idempotency-Key": key}}


def on_hand(level: StockLevel) -> int:
    level.refresh_from_db()
    return level.on_hand


def test_replaying_a_key_returns_the_stored_response(wms: Any, level: StockLevel) -> None:
    # given a movement recorded with a key
    first = wms.post(MOVEMENTS, receipt(level), **with_key("asn-1-receipt"))
    assert first.status_code == 201
    assert REPLAYED not in first.headers

    # when the same request is sent again with the same key
    replay = wms.post(MOVEMENTS, receipt(level), **with_key("asn-1-receipt"))

    # then the stored status and body come back, marked as a replay
    assert replay.status_code == 201
    assert replay.content == first.content
    assert replay.headers[REPLAYED] == "true"
    assert replay.headers["Content-Type"] == first.headers["Content-Type"]


def test_replaying_a_key_causes_no_second_effect(wms: Any, level: StockLevel) -> None:
    # given a movement recorded with a key
    wms.post(MOVEMENTS, receipt(level), **with_key("asn-1-receipt"))

    # when the request is retried twice
    wms.post(MOVEMENTS, receipt(level), **with_key("asn-1-receipt"))
    wms.post(MOVEMENTS, receipt(level), **with_key("asn-1-receipt"))

    # then stock moved once, with one journal row and one event
    assert on_hand(level) == 15
    assert StockMovement.objects.count() == 1
    assert OutboxEvent.objects.filter(topic="stock.movement_recorded").count() == 1


def test_a_key_reused_with_a_different_body_is_refused(wms: Any, level: StockLevel) -> None:
    # given a key used for a receipt of 5
    wms.post(MOVEMENTS, receipt(level, quantity=5), **with_key("k-1"))

    # when the same key comes with a receipt of 7
    response = wms.post(MOVEMENTS, receipt(level, quantity=7), **with_key("k-1"))

    # then it is refused and nothing more happens
    assert response.status_code == 422
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == ["idempotency_key_reused"]
    assert on_hand(level) == 15
    assert StockMovement.objects.count() == 1


def test_a_key_reused_on_another_endpoint_is_refused(api: Any, level: StockLevel) -> None:
    # given a staff client that used a key for a stock movement
    staff = api("staff")
    assert staff.post(MOVEMENTS, receipt(level), **with_key("k-1")).status_code == 201

    # when it sends the same key to create a webhook subscription
    response = staff.post("/api/v1/webhook-subscriptions",
                          {"url": "https://example.com/hook", "topics": ["*"]}, **with_key("k-1"))

    # then that is a different request under a used key
    assert response.status_code == 422
    assert error_codes(response) == ["idempotency_key_reused"]


def test_a_key_longer_than_255_characters_is_rejected(wms: Any, level: StockLevel) -> None:
    # when a POST carries a 256-character key
    response = wms.post(MOVEMENTS, receipt(level), **with_key("k" * 256))

    # then it is a 400 in the one error format, and the request did not run
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == ["invalid_idempotency_key"]
    assert on_hand(level) == 10
    assert not IdempotencyKey.objects.exists()


def test_a_key_of_exactly_255_characters_is_accepted(wms: Any, level: StockLevel) -> None:
    # when a POST carries a key of the maximum length
    response = wms.post(MOVEMENTS, receipt(level), **with_key("k" * 255))

    # then it runs and the key is stored
    assert response.status_code == 201
    assert IdempotencyKey.objects.get().key == "k" * 255


def test_keys_belong_to_one_client(api: Any, level: StockLevel) -> None:
    # given two warehouse systems that happen to pick the same key
    first, second = api("wms"), api("wms")

    # when both send a receipt with it
    one = first.post(MOVEMENTS, receipt(level), **with_key("receipt-1"))
    other = second.post(MOVEMENTS, receipt(level), **with_key("receipt-1"))

    # then both receipts are applied: neither sees the other's stored response
    assert (one.status_code, other.status_code) == (201, 201)
    assert REPLAYED not in other.headers
    assert on_hand(level) == 20
    assert IdempotencyKey.objects.filter(key="receipt-1").count() == 2


def test_a_client_error_is_stored_and_replayed(wms: Any, level: StockLevel) -> None:
    # given a removal of more than is on hand, refused with a key
    refused = wms.post(MOVEMENTS, {**receipt(level, quantity=-50), "kind": "adjustment"},
                       **with_key("adj-1"))
    assert refused.status_code == 409

    # when stock arrives and the same request is retried with the same key
    wms.post(MOVEMENTS, receipt(level, quantity=100))
    retry = wms.post(MOVEMENTS, {**receipt(level, quantity=-50), "kind": "adjustment"},
                     **with_key("adj-1"))

    # then the stored refusal is replayed, not re-run (only 5xx may be retried with a key)
    assert retry.status_code == 409
    assert retry.headers[REPLAYED] == "true"
    assert retry.content == refused.content
    assert on_hand(level) == 110


def test_a_server_error_is_not_stored_so_the_key_runs_again(
    api: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a view that crashes once after doing its work
    settings.ROOT_URLCONF = "tests.core.urls"
    monkeypatch.setattr(test_urls.failures, "left", 1)
    client = api("webshop")

    # when a request with a key hits the crash
    crashed = client.post("/api/v1/test/flaky", {"ref": "r-1"}, **with_key("flaky-1"))

    # then the 500 is not stored and its work was rolled back
    assert crashed.status_code == 500
    assert crashed.json()["type"] == "server_error"
    assert not IdempotencyKey.objects.exists()
    assert not OutboxEvent.objects.filter(topic=test_urls.EFFECT_TOPIC).exists()

    # when the client retries with the same key
    retried = client.post("/api/v1/test/flaky", {"ref": "r-1"}, **with_key("flaky-1"))

    # then the request runs for real this time and is stored
    assert retried.status_code == 201
    assert REPLAYED not in retried.headers
    assert OutboxEvent.objects.filter(topic=test_urls.EFFECT_TOPIC).count() == 1
    assert IdempotencyKey.objects.get().response_status == 201


def test_expired_keys_are_swept_and_the_key_then_runs_again(wms: Any, level: StockLevel) -> None:
    # given a key used a day and a bit ago
    wms.post(MOVEMENTS, receipt(level), **with_key("old-key"))
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    # when the sweep runs
    removed = idempotency_keys_sweep()

    # then the key is gone, and the same request is a new request
    assert removed == 1
    assert not IdempotencyKey.objects.exists()
    again = wms.post(MOVEMENTS, receipt(level), **with_key("old-key"))
    assert again.status_code == 201
    assert REPLAYED not in again.headers
    assert on_hand(level) == 20


def test_the_sweep_keeps_keys_that_have_not_expired() -> None:
    # given one expired and one live key
    now = timezone.now()
    IdempotencyKeyFactory(key="expired", expires_at=now - timedelta(minutes=1))
    IdempotencyKeyFactory(key="live", expires_at=now + timedelta(minutes=1))

    # when the beat task sweeps
    removed = tasks.sweep_idempotency_keys()

    # then only the expired one is removed
    assert removed == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["live"]


def test_an_expired_key_runs_again_even_before_the_sweep(wms: Any, level: StockLevel) -> None:
    # given an expired key the sweep has not removed yet
    wms.post(MOVEMENTS, receipt(level), **with_key("stale"))
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    # when the key is used again, even with another body
    again = wms.post(MOVEMENTS, receipt(level, quantity=1), **with_key("stale"))

    # then it runs as a new request and replaces the stored response
    assert again.status_code == 201
    assert REPLAYED not in again.headers
    assert on_hand(level) == 16
    assert IdempotencyKey.objects.get(key="stale").expires_at > timezone.now()


def test_a_post_without_a_key_stores_nothing(wms: Any, level: StockLevel) -> None:
    # when a POST comes without a key
    wms.post(MOVEMENTS, receipt(level))
    wms.post(MOVEMENTS, receipt(level))

    # then both run and nothing is stored for replay
    assert on_hand(level) == 20
    assert not IdempotencyKey.objects.exists()


def test_an_unauthenticated_post_with_a_key_stores_nothing(level: StockLevel) -> None:
    # when a POST with a key comes with a wrong token
    response = Client(HTTP_AUTHORIZATION="Bearer oms_wrong").post(
        MOVEMENTS, receipt(level), content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )

    # then it is a 401 and no key is recorded
    assert response.status_code == 401
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_key_answers_409_while_its_first_request_is_still_running(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a request with a key that is still running (held inside its view)
    settings.ROOT_URLCONF = "tests.core.urls"
    monkeypatch.setattr(test_urls, "gate", test_urls.Gate())
    shop = ApiClientFactory(kind="webshop")

    def send() -> Any:
        try:
            return Client(HTTP_AUTHORIZATION=f"Bearer {shop.token}").post(
                "/api/v1/test/blocking", {}, content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="slow-1")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(send)
        assert test_urls.gate.entered.wait(timeout=10)

        # when the client retries with the same key meanwhile
        meanwhile = Client(HTTP_AUTHORIZATION=f"Bearer {shop.token}").post(
            "/api/v1/test/blocking", {}, content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="slow-1")
        test_urls.gate.release.set()
        first = running.result(timeout=10)

    # then the retry is told to wait, and once the first finished its response is replayed
    assert meanwhile.status_code == 409
    assert error_codes(meanwhile) == ["idempotency_key_in_use"]
    assert first.status_code == 201
    later = send()
    assert (later.status_code, later.headers[REPLAYED]) == (201, "true")
    assert later.content == first.content


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_with_one_key_have_exactly_one_effect(
    run_concurrently: Any,
) -> None:
    # given stock of 10 and a warehouse client (committed: the threads use other connections)
    level = StockLevelFactory(on_hand=10)
    wms = ApiClientFactory(kind="wms")
    body = receipt(level, quantity=5, reference="ASN-RACE")

    # when 20 threads send the same receipt with the same key at the same moment
    def send(_index: int) -> tuple[int, str | None, bytes]:
        http = Client(HTTP_AUTHORIZATION=f"Bearer {wms.token}")
        response = http.post(MOVEMENTS, body, content_type="application/json",
                             HTTP_IDEMPOTENCY_KEY="race-key")
        return response.status_code, response.headers.get(REPLAYED), response.content

    results = run_concurrently(20, send)

    # then stock moved exactly once
    assert StockMovement.objects.filter(reference="ASN-RACE").count() == 1
    assert on_hand(level) == 15
    assert IdempotencyKey.objects.count() == 1
    # and exactly one response is the original; every other one is its replay or a 409
    originals = [r for r in results if r[0] == 201 and r[1] is None]
    assert len(originals) == 1
    for status, replayed, content in results:
        if status == 201 and replayed is not None:
            assert (replayed, content) == ("true", originals[0][2])
        elif status == 409:
            assert b'"idempotency_key_in_use"' in content
        else:
            assert (status, replayed) == (201, None), content
