"""The README's tour cannot rot: `docs/walkthrough.sh` runs against a live server (gunicorn on the
test database, seeded as `make demo` seeds it, tasks in-process as in the demo) and must walk
from availability to a delivered order, a collected pickup and a cancellation."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "walkthrough.sh"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = quote(db.get("HOST") or "127.0.0.1", safe="")
    return (f"postgres://{quote(db['USER'], safe='')}{password}@{host}:{db.get('PORT') or 5432}"
            f"/{db['NAME']}")


test_database_url.__test__ = False  # a helper, not a test


@pytest.fixture
def demo_env(tmp_path: Path, settings: Any) -> Path:
    """The test database seeded as `make demo` seeds it; tokens and logins in a demo.env of the
    test's own."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    env_file = tmp_path / "demo.env"
    out = io.StringIO()
    call_command("seed_demo", products=60, env_file=env_file, stdout=out)
    call_command("seed_demo_store", env_file=env_file, stdout=out)
    call_command("seed_demo_returns", env_file=env_file, stdout=out)
    call_command("seed_demo_suppliers", env_file=env_file, stdout=out)
    return env_file


@pytest.fixture
def live_server_url(demo_env: Path, tmp_path: Path) -> Iterator[str]:
    """gunicorn with the project's configuration on the test database. No REDIS_URL: Celery
    tasks run in-process, as in the demo; captures go to the fake PSP, e-mails nowhere."""
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DEMO_ENV_FILE")}
    env |= {"GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1",
            "DATABASE_URL": test_database_url(),
            # The same key as the test process: pickup codes derive from it.
            "SECRET_KEY": django_settings.SECRET_KEY,
            "PSP_FAKE_UNTIL_CONFIGURED": "true",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "WARNING"}
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "oms.wsgi:application", "-c",
             str(ROOT / "docker" / "gunicorn.conf.py"), "--access-logfile", "/dev/null"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # not listening yet, or still booting its worker under load
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_walkthrough(url: str, env_file: Path) -> subprocess.CompletedProcess[str]:
    # Only the env file: tokens of the developer's own shell must not leak in.
    env = {key: value for key, value in os.environ.items() if not key.startswith("DEMO_")}
    env["DEMO_ENV_FILE"] = str(env_file)
    return subprocess.run(["bash", str(SCRIPT), url], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_walkthrough_runs_from_availability_to_a_collected_pickup(
        live_server_url: str, demo_env: Path) -> None:
    # When a newcomer runs the README's walkthrough against the demo
    result = run_walkthrough(live_server_url, demo_env)

    # Then it ends well and tells the story in short lines
    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    assert "FAILED" not in output + result.stderr
    assert "Idempotent-Replayed: true" in output
    assert "ship with DHL" in output and "→ shipped" in output
    assert "tracking: delivered → delivered" in output
    assert ": completed; payment captured" in output
    assert "→ ready_for_pickup" in output
    assert "a wrong code: 422 invalid_pickup_code" in output
    assert "handover with" in output and "→ picked_up" in output
    assert "accepted → pickup" in output and "stop at the warehouse: not_needed" in output
    assert "accepting again: 409 invalid_transition" in output
    assert "ship cancelled, pickup picked_up" in output
    print(output)  # shown with -s
    assert "cancel → cancelled" in output
    assert "409 invalid_transition" in output
    assert "and deletes subscription" in output
    assert "a receipt of 0 units: 400" in output
    assert output.rstrip().splitlines()[-1].startswith("Done: order ")
    # And no JSON dump: every line is short
    assert max(len(line) for line in output.splitlines()) < 140, output

    # And it runs again on the same data: nothing in it is assumed
    again = run_walkthrough(live_server_url, demo_env)
    assert again.returncode == 0, again.stdout + again.stderr


def test_the_walkthrough_fails_on_an_unexpected_answer(live_server_url: str, tmp_path: Path,
                                                       demo_env: Path) -> None:
    # Given an env file with a revoked (made-up) webshop token
    env_file = tmp_path / "bad.env"
    env_file.write_text(demo_env.read_text().replace("DEMO_WEBSHOP_TOKEN=",
                                                     "DEMO_WEBSHOP_TOKEN=oms_nope"))
    # When the walkthrough runs
    result = run_walkthrough(live_server_url, env_file)
    # Then it stops at the first call, saying which and what came back
    assert result.returncode != 0
    assert "FAILED: GET /healthz" not in result.stderr
    assert "answered 401, expected 200" in result.stderr

