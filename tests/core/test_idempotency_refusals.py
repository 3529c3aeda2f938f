"""Refusals that mean "not now" (a rate limit, a lock) store nothing, so a retry with the same
``Idempotency-Key`` runs for real once the wait is over; a stored response is replayed with its
``Retry-After`` (counting down) and ``Location``."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.pickup import pickup_code
from oms.core.models import IdempotencyKey, OutboxEvent
from oms.orders.models import Order
from tests.conftest import error_codes
from tests.core import idempotency_urls as test_urls
from tests.network import order_body

pytestmark = pytest.mark.django_db

REPLAYED = "Idempotent-Replayed"


def with_key(key: str) -> dict[str, Any]:
    return {"headers": {"Idempotency-Key": key}}


def effects() -> int:
    return OutboxEvent.objects.filter(topic=test_urls.EFFECT_TOPIC).count()


@pytest.fixture
def test_views(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.core.idempotency_urls"


@pytest.fixture
def pos(api: Any) -> Any:
    """The till in the Munich store, confined to it."""
    return api("pos", location_code="ST-MUC")


@pytest.fixture
def ready_pickup(network: Any, api: Any, pos: Any) -> FulfillmentOrder:
    """A pickup of 2 x A waiting in Munich with its code."""
    network.stock(network.munich, "A", 5)
    placed = api("webshop", channel="web").post("/api/v1/orders", order_body(
        [("A", 2)], delivery={"method": "pickup", "location": "ST-MUC"}))
    assert placed.status_code == 201, placed.content
    fo = FulfillmentOrder.objects.get(order__number=placed.json()["number"])
    picked = pos.post(f"/api/v1/fulfillments/{fo.pk}/pick",
                      {"lines": [{"sku": "A", "picked": 2}]})
    assert picked.status_code == 200, picked.content
    fo.refresh_from_db()
    return fo


def test_a_retry_with_the_key_of_a_rate_limited_request_runs_for_real(
        api: Any, test_views: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a request refused by the rate limit, sent with a key
    monkeypatch.setattr(test_urls.limit, "per_minute", 0)
    client = api("webshop")
    body = {"ref": str(uuid.uuid4())}
    refused = client.post("/api/v1/test/rate-limited", body, **with_key("limited-1"))
    assert refused.status_code == 429
    assert error_codes(refused) == ["throttled"]

    # then nothing was done and nothing is stored under the key
    assert effects() == 0
    assert not IdempotencyKey.objects.exists()

    # when the limit allows it again and the client retries with the same key
    monkeypatch.setattr(test_urls.limit, "per_minute", 10)
    retried = client.post("/api/v1/test/rate-limited", body, **with_key("limited-1"))

    # then the request runs for real, once, and that answer is what the key keeps
    assert retried.status_code == 201
    assert REPLAYED not in retried.headers
    assert effects() == 1
    assert IdempotencyKey.objects.get(key="limited-1").response_status == 201


def test_a_retry_with_the_key_of_a_locked_handover_hands_over_once_the_lock_ran_out(
        pos: Any, ready_pickup: FulfillmentOrder) -> None:
    # given a pickup locked by five wrong codes
    handover = f"/api/v1/fulfillments/{ready_pickup.pk}/handover"
    assert [pos.post(handover, {"pickup_code": "WRONG1"}).status_code
            for _ in range(5)] == [422] * 5

    # when the till sends the right code with a key while the pickup is locked
    right = {"pickup_code": pickup_code(ready_pickup)}
    locked = pos.post(handover, right, **with_key("till-7"))

    # then it is refused with 423, recording nothing and storing nothing
    assert locked.status_code == 423
    assert error_codes(locked) == ["pickup_locked"]
    ready_pickup.refresh_from_db()
    assert ready_pickup.pickup_failed_attempts == 5
    assert not IdempotencyKey.objects.filter(key="till-7").exists()

    # when the lock has run out and the till retries the same request with the same key
    FulfillmentOrder.objects.filter(pk=ready_pickup.pk).update(
        pickup_locked_until=timezone.now() - timedelta(seconds=1))
    retried = pos.post(handover, right, **with_key("till-7"))

    # then the goods are handed over for real, and that answer is replayed from now on
    assert retried.status_code == 200, retried.content
    assert REPLAYED not in retried.headers
    assert Order.objects.get(pk=ready_pickup.order_id).status == "completed"
    again = pos.post(handover, right, **with_key("till-7"))
    assert (again.status_code, again.headers[REPLAYED]) == (200, "true")
    assert again.content == retried.content


def test_the_wrong_code_that_starts_the_lockout_is_still_replayed(
        pos: Any, ready_pickup: FulfillmentOrder) -> None:
    # given four wrong codes, and a fifth sent with a key: it counts and locks the pickup
    handover = f"/api/v1/fulfillments/{ready_pickup.pk}/handover"
    for _ in range(4):
        pos.post(handover, {"pickup_code": "WRONG1"})
    fifth = pos.post(handover, {"pickup_code": "WRONG1"}, **with_key("till-8"))
    assert fifth.status_code == 422

    # when the till retries it with the same key
    retried = pos.post(handover, {"pickup_code": "WRONG1"}, **with_key("till-8"))

    # then the stored refusal comes back (it did something), and the attempt counted once
    assert (retried.status_code, retried.headers[REPLAYED]) == (422, "true")
    assert retried.content == fifth.content
    ready_pickup.refresh_from_db()
    assert ready_pickup.pickup_failed_attempts == 5


def test_a_replayed_refusal_carries_the_seconds_left_to_wait(api: Any, test_views: None) -> None:
    # given a 423 that recorded its attempt, stored with Retry-After 900, 100 seconds ago
    client = api("pos")
    first = client.post("/api/v1/test/locking", {"ref": "r-1"}, **with_key("lock-1"))
    assert first.status_code == 423
    assert first["Retry-After"] == str(test_urls.LOCKOUT_SECONDS)
    IdempotencyKey.objects.filter(key="lock-1").update(
        created_at=timezone.now() - timedelta(seconds=100))

    # when the client retries with the same key
    replay = client.post("/api/v1/test/locking", {"ref": "r-1"}, **with_key("lock-1"))

    # then the refusal is replayed, telling it to wait the 800 seconds that are left
    assert (replay.status_code, replay.headers[REPLAYED]) == (423, "true")
    assert replay.content == first.content
    assert 798 <= int(replay["Retry-After"]) <= 800
    assert effects() == 1


def test_a_replayed_retry_after_never_goes_below_zero(api: Any, test_views: None) -> None:
    # given a stored 423 whose wait ran out long ago
    client = api("pos")
    client.post("/api/v1/test/locking", {"ref": "r-1"}, **with_key("lock-2"))
    IdempotencyKey.objects.filter(key="lock-2").update(
        created_at=timezone.now() - timedelta(hours=1))

    # when it is replayed
    replay = client.post("/api/v1/test/locking", {"ref": "r-1"}, **with_key("lock-2"))

    # then there is nothing left to wait
    assert replay["Retry-After"] == "0"


def test_a_replay_keeps_the_location_of_what_was_created(api: Any, test_views: None) -> None:
    # given a request that created something and answered with its Location
    client = api("webshop")
    first = client.post("/api/v1/test/creating", {"ref": "r-1"}, **with_key("create-1"))
    assert first.status_code == 201 and first["Location"]

    # when it is retried with the same key
    replay = client.post("/api/v1/test/creating", {"ref": "r-1"}, **with_key("create-1"))

    # then the replay points at the same thing, and nothing was created twice
    assert (replay.headers[REPLAYED], replay["Location"]) == ("true", first["Location"])
    assert "Retry-After" not in replay
    assert effects() == 1
