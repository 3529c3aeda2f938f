"""The docker stack holds together without docker: docker/compose.yml read as YAML (CI also runs
`docker compose config` where the compose plugin exists, .ci/run), the Dockerfile and
.dockerignore as text, and the settings the stack's environment produces."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "beat")
# ${NAME:-default} or ${NAME}: compose fills these in from the shell or docker/.env.
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker" / "compose.yml").read_text())


def stack_environment(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment as compose sets it when nothing is overridden."""
    return {name: INTERPOLATION.sub(lambda m: m.group(2) or "", str(value))
            for name, value in service["environment"].items()}


def test_web_worker_beat_and_migrate_run_one_image_that_only_migrate_builds():
    services = compose()["services"]
    assert {services[name]["image"] for name in APP_SERVICES} == {"oms:local"}
    assert [name for name, s in services.items() if "build" in s] == ["migrate"]
    assert services["migrate"]["build"]["dockerfile"] == "docker/Dockerfile"
    assert all(services[name]["pull_policy"] == "never" for name in ("web", "worker", "beat"))


def test_migrate_runs_first_and_everything_else_waits_for_it():
    services = compose()["services"]
    assert services["migrate"]["command"][:3] == ["python", "manage.py", "migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}, name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_app_service_gets_the_same_environment():
    services = compose()["services"]
    environments = [services[name]["environment"] for name in APP_SERVICES]
    assert all(env == environments[0] for env in environments)


def test_the_stack_mails_to_its_own_sink_and_captures_against_the_fake_psp():
    services = compose()["services"]
    env = stack_environment(services["web"])
    assert env["EMAIL_HOST"] in services  # the mail sink is a service of the stack
    assert env["PSP_API_URL"] == ""
    settings = settings_under(env)
    assert settings["PSP_ADAPTER"] == "payments.adapters.psp.fake"
    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (settings["EMAIL_HOST"], settings["EMAIL_PORT"]) == (env["EMAIL_HOST"], 1025)


def test_a_configured_psp_replaces_the_fake_in_the_stack():
    env = {**stack_environment(compose()["services"]["worker"]),
           "PSP_API_URL": "https://psp.example/v1"}
    assert settings_under(env)["PSP_ADAPTER"] == "payments.adapters.psp.HttpPaymentServiceProvider"


def test_the_image_copies_every_package_it_installs_and_the_context_leaves_local_state_out():
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    include = re.search(r"include = \[([^\]]*)\]", pyproject).group(1)
    for package in re.findall(r'"(\w+)\*"', include):
        assert f"COPY {package} ./{package}" in dockerfile, package
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", ".env"} <= set(ignored)
    assert "docker" not in ignored  # gunicorn.conf.py is copied from it


def settings_under(env: dict[str, str]) -> dict[str, Any]:
    """PSP and e-mail settings of a fresh process with `env` (and nothing of this one's)."""
    code = ("import json, django; django.setup(); from django.conf import settings as s; "
            "print(json.dumps({k: getattr(s, k) for k in "
            "('PSP_ADAPTER', 'EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT')}))")
    clean = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "oms.settings", **env}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return json.loads(out.strip().splitlines()[-1])
