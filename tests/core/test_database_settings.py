"""How DATABASE_PREPARE_THRESHOLD configures the PostgreSQL connection (README, Configuration).
Settings are read once per process, so each case starts `manage.py` with its own environment."""

from __future__ import annotations

import ast
import os
import subprocess

from django.conf import settings

from tests.core.test_demo_mode import MANAGE

PRINT_OPTIONS = ("from django.conf import settings; "
                 "print(repr(settings.DATABASES['default']['OPTIONS']))")


def start_with(threshold: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/oms",
           "SECRET_KEY": "x", "DATABASE_PREPARE_THRESHOLD": threshold}
    return subprocess.run([*MANAGE, "shell", "-c", PRINT_OPTIONS], env=env,
                          cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120)


def test_off_keeps_server_side_binding_and_prepares_nothing() -> None:
    # When the service starts behind a pooler with DATABASE_PREPARE_THRESHOLD=off
    started = start_with("off")
    # Then parameters are still bound by the server, and no statement is kept prepared
    assert started.returncode == 0, started.stderr[-2000:]
    options = ast.literal_eval(started.stdout.strip().splitlines()[-1])
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] is None


def test_a_number_of_runs_becomes_psycopgs_prepare_threshold() -> None:
    # When the service starts with a threshold of 2 runs
    started = start_with("2")
    # Then psycopg prepares a statement from its second run on a connection
    assert started.returncode == 0, started.stderr[-2000:]
    assert ast.literal_eval(started.stdout.strip().splitlines()[-1])["prepare_threshold"] == 2


def test_a_threshold_that_is_not_a_number_stops_the_service_with_a_clear_error() -> None:
    # When the service starts with a threshold that is neither a number nor "off"
    started = start_with("often")
    # Then it refuses to start and names the variable and the values it accepts
    assert started.returncode != 0
    assert "DATABASE_PREPARE_THRESHOLD must be a whole number" in started.stderr
    assert "'often'" in started.stderr
