"""Shared fixtures. Tests run against the real PostgreSQL and Redis (see Makefile `test`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.db.models import F
from django.test import Client

from oms.celery import app as celery_app
from oms.core.models import ApiClient
from tests.core.support import BrokerQueues
from tests.factories import ApiClientFactory
from tests.http_receiver import HttpReceiver, http_receiver
from tests.network import Network, network_build

T = TypeVar("T")


class ApiClientSession:
    """A Django test client speaking JSON with one API client's bearer token."""

    def __init__(self, api_client: ApiClient) -> None:
        self.api_client = api_client
        self.http = Client(HTTP_AUTHORIZATION=f"Bearer {api_client.token}")

    def _send(self, method: str, path: str, body: Any = None, *, raw: str | None = None,
              headers: dict[str, str] | None = None) -> Any:
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}
        return getattr(self.http, method)(path, data=data, content_type="application/json",
                                          **extra)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.http.get(path, params or {})

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._send("post", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._send("put", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self._send("delete", path, None, **kwargs)


@pytest.fixture(autouse=True)
def _demo_env_file_of_the_test(tmp_path_factory: pytest.TempPathFactory,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeding writes tokens to DEMO_ENV_FILE (oms/demo.py): a file of the test's own, never the
    developer's var/demo.env."""
    monkeypatch.setenv("DEMO_ENV_FILE", str(tmp_path_factory.mktemp("demo") / "demo.env"))


@pytest.fixture(autouse=True)
def _tasks_run_in_process(settings: Any) -> Iterator[None]:
    """Unit and API tests run Celery tasks in-process; tests that need the real broker use the
    `celery_worker` fixture, which switches this off."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    settings.WEBHOOK_SENDER = "oms.core.webhooks.sender.HttpWebhookSender"
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def broker() -> Iterator[BrokerQueues]:
    """Tasks go to the real Redis broker and stay there: no worker consumes them. The test db
    of Redis is emptied before and after."""
    queues = BrokerQueues(django_settings.REDIS_URL)
    queues.flush()
    celery_app.conf.task_always_eager = False  # the autouse fixture above restores it
    yield queues
    queues.flush()


@pytest.fixture
def api() -> Any:
    """`api("wms", location_code="WH")` → an ApiClientSession for a new client of that kind."""

    def make(kind: str = "webshop", **fields: Any) -> ApiClientSession:
        return ApiClientSession(ApiClientFactory(kind=kind, **fields))

    return make


@pytest.fixture
def shop(api: Any) -> ApiClientSession:
    """The webshop of channel `web`."""
    return api("webshop", channel="web")


@pytest.fixture
def pim(api: Any) -> ApiClientSession:
    """The PIM, the system that feeds products."""
    return api("pim")


def error_codes(response: Any) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def wait_for_a_fresh_minute() -> None:
    """Throttles count per minute: start where a test's few calls all fall in one window."""
    import time

    from oms.core.throttle import seconds_left_in_window

    if seconds_left_in_window() < 10:
        time.sleep(seconds_left_in_window() + 0.1)


# --- Real threads -----------------------------------------------------------------------------


RunConcurrently = Callable[[int, Callable[[int], T]], list[T]]


@pytest.fixture
def run_concurrently() -> RunConcurrently:
    """`run_concurrently(n, fn)` calls fn(0) ... fn(n-1) in n threads released together and
    returns their results in order. Each thread has its own database connection (Django's are
    per thread), closed when the thread ends. Use with `django_db(transaction=True)`: the
    threads only see committed rows."""

    def run(count: int, fn: Callable[[int], T]) -> list[T]:
        barrier = threading.Barrier(count)
        results: list[Any] = [None] * count
        errors: list[BaseException] = []

        def work(index: int) -> None:
            try:
                barrier.wait(timeout=10)
                results[index] = fn(index)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a thread did not finish within 60 s"
        if errors:
            raise errors[0]
        return results

    return run


@pytest.fixture
def webhook_receiver() -> Iterator[HttpReceiver]:
    """A real HTTP server on 127.0.0.1 recording what it receives (see tests/http_receiver.py)."""
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def taken_after_sourcing(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[int]]:
    """Someone else takes every unit of the given stock levels right after a hold's or an
    order's first sourcing decision (and only then); returns how often sourcing was asked."""
    import inventory.reservations
    from fulfillment.use_cases import order_intake
    from inventory.models import StockLevel
    from inventory.sourcing import Decision, sourcing_decide

    calls: list[int] = []

    def arrange(*levels: StockLevel) -> list[int]:
        def decide(**kwargs: Any) -> Decision:
            decision = sourcing_decide(**kwargs)
            if not calls:
                StockLevel.objects.filter(pk__in=[lv.pk for lv in levels]).update(
                    reserved=F("on_hand"))
            calls.append(1)
            return decision

        monkeypatch.setattr(inventory.reservations, "sourcing_decide", decide)
        monkeypatch.setattr(order_intake, "sourcing_decide", decide)
        return calls

    return arrange


@pytest.fixture
def always_taken_after_sourcing(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[int]]:
    """Every sourcing decision counts on the level's units, which someone else takes right
    after it is made: every attempt loses the race. Returns how often sourcing was asked."""
    import inventory.reservations
    from inventory.models import StockLevel
    from inventory.sourcing import Decision, sourcing_decide

    calls: list[int] = []

    def arrange(level: StockLevel) -> list[int]:
        def decide(**kwargs: Any) -> Decision:
            StockLevel.objects.filter(pk=level.pk).update(reserved=0)
            decision = sourcing_decide(**kwargs)
            StockLevel.objects.filter(pk=level.pk).update(reserved=level.on_hand)
            calls.append(1)
            return decision

        monkeypatch.setattr(inventory.reservations, "sourcing_decide", decide)
        return calls

    return arrange


@pytest.fixture
def network(db: Any) -> Network:
    """The locations most tests place orders into (tests/network.py)."""
    return network_build()
