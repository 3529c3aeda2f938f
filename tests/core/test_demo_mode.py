"""Embedded demo mode (settings.py): without DATABASE_URL and REDIS_URL the service runs on SQLite
with in-process tasks, so a newcomer needs nothing installed."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

MANAGE = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]


SAME_AS_THE_ORM = """
from fulfillment.models import FulfillmentOrder
from inventory.models import Location
from oms.core.model_sql import models_by_pk
from fulfillment.notifications.models import Notification
from oms.catalog.models import Price
from oms.core.models import ApiClient, OutboxEvent
from oms.orders.models import Order
from payments.models import Payment
for model in (Location, ApiClient, Price, Order, Payment, FulfillmentOrder, OutboxEvent,
              Notification):
    by_orm = model.objects.in_bulk()
    by_hand = models_by_pk(model, list(by_orm))
    assert by_orm, model
    columns = [f.attname for f in model._meta.concrete_fields]
    for pk, instance in by_orm.items():
        for name in columns:
            assert getattr(by_hand[pk], name) == getattr(instance, name), (model, name)
            assert type(getattr(by_hand[pk], name)) is type(getattr(instance, name)), name
    print("same")
from oms.core.model_sql import select_models
payments = select_models(Payment, "1 = 1", [], related=["order__customer"])
assert len(payments) == Payment.objects.count() > 0
for paid in payments:
    orm = Payment.objects.select_related("order__customer").get(pk=paid.pk)
    assert paid.order.created_at == orm.order.created_at
    assert paid.order.customer.email == orm.order.customer.email
print("same")
"""


def demo_environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")}
    env["DEMO_DB_PATH"] = str(tmp_path / "demo.sqlite3")
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*MANAGE, *args], env=env, cwd=settings.BASE_DIR, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str, token: str, *, within: float) -> tuple[int, Any]:
    """GET `url` once the server accepts connections, waiting at most `within` seconds."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.slow
def test_the_demo_serves_availability_without_postgres_or_redis(tmp_path: Path) -> None:
    # given a fresh demo database, migrated and seeded with 20 products, in a clean environment
    env = demo_environment(tmp_path)
    manage(env, "migrate", "--noinput", "-v0")
    seeded = manage(env, "seed_demo", "--products", "20")
    assert Path(env["DEMO_DB_PATH"]).exists()
    tokens = dict(re.findall(r"^\s+(demo-\w+)\s+(oms_\S+)$", seeded, re.MULTILINE))
    assert "demo-webshop" in tokens, seeded
    # (and on SQLite too, rows read without the ORM's query compiler load as the ORM loads them,
    # with the store's click-and-collect orders seeded through the services)
    manage(env, "seed_demo_store")
    assert manage(env, "shell", "-v0", "-c", SAME_AS_THE_ORM).split() == ["same"] * 9

    # when the development server runs and the webshop asks for a product's availability
    port = free_port()
    log = (tmp_path / "runserver.log").open("w")
    server = subprocess.Popen([*MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"],
                              env=env, cwd=settings.BASE_DIR, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        status, body = get_json(f"http://127.0.0.1:{port}/api/v1/availability?skus=DEMO-0001",
                                tokens["demo-webshop"], within=30)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()

    # then it answers in the documented shape, with the seeded warehouse and stores
    assert status == 200, (body, (tmp_path / "runserver.log").read_text()[-3000:])
    assert list(body) == ["skus"]
    [sku] = body["skus"]
    assert {"sku", "ship_available", "locations"} <= set(sku)
    assert sku["sku"] == "DEMO-0001"
    assert isinstance(sku["ship_available"], int) and sku["ship_available"] >= 0
    assert sku["locations"]
    for location in sku["locations"]:
        assert {"location", "kind", "on_hand", "reserved", "available", "pickup"} <= set(location)
        assert isinstance(location["pickup"], bool)
        assert 0 <= location["available"] <= location["on_hand"] - location["reserved"]
    kinds = {location["location"]: location["kind"] for location in sku["locations"]}
    assert kinds["WH-KS"] == "warehouse"
    assert kinds["ST-BER"] == "store"
