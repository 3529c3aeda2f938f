"""Behind the real web server, the limits still answer in the API's JSON error format: gunicorn's
own limits are set so that what a client sends reaches the service (docker/gunicorn.conf.py)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import ApiClientFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(settings) -> Iterator[int]:
    """gunicorn with the project's configuration, on the test database."""
    port = free_port()
    db = connection.settings_dict
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "SECRET_KEY": "test", "API_MAX_BODY_BYTES": "4096"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "oms.wsgi:application", "-c",
         str(ROOT / "docker" / "gunicorn.conf.py"), "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def raw_request(port: int, head: bytes) -> tuple[int, bytes]:
    """Send `head` (request line and headers, no body) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _sep, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def test_an_oversized_body_is_refused_in_json_without_being_sent(server):
    # Given a PIM's token
    token = ApiClientFactory(kind="pim").token

    # When it announces a 50 MB body and sends none of it
    status, body = raw_request(server, (
        "PUT /api/v1/products/SKU-1 HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        "Content-Length: 52428800\r\nConnection: close\r\n\r\n").encode())

    # Then the service answers at once, in its own format
    assert status == 413
    assert json.loads(body)["errors"][0]["code"] == "request_too_large"


def test_a_long_request_line_reaches_the_service(server):
    token = ApiClientFactory(kind="webshop", channel="web").token
    skus = ",".join(f"SKU-{i:05d}" for i in range(700))  # about 7,000 characters
    connection_ = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    connection_.request("GET", f"/api/v1/availability?skus={skus}",
                        headers={"Authorization": f"Bearer {token}"})
    response = connection_.getresponse()

    assert response.status == 400
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(response.read())["errors"][0]["attr"] == "skus"


def test_an_idempotency_key_with_a_byte_outside_ascii_is_refused_in_json(server):
    token = ApiClientFactory(kind="webshop", channel="web").token

    status, body = raw_request(server, (
        b"POST /api/v1/orders HTTP/1.1\r\nHost: localhost\r\n"
        b"Authorization: Bearer " + token.encode() + b"\r\n"
        b"Content-Type: application/json\r\nIdempotency-Key: caf\xe9\r\n"
        b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"))

    assert status == 400
    assert json.loads(body)["errors"][0]["code"] == "invalid_idempotency_key"
