"""`manage.py seed_demo_suppliers`: the demo's supplier can log in to the portal and its
finance clerk to the finance cockpit, with the passwords written to the demo's env file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


def _env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_the_demo_supplier_and_finance_clerk_log_in_with_the_written_passwords(
        tmp_path: Path) -> None:
    # given the demo seeded as `make demo` seeds it
    env_file = tmp_path / "demo.env"
    out = io.StringIO()
    call_command("seed_demo", products=10, env_file=env_file, stdout=out)
    call_command("seed_demo_suppliers", env_file=env_file, stdout=out)
    env = {k: v.strip().strip('"').strip("'") for k, v in _env(env_file).items()}

    # when the supplier logs in to the portal, then it shows its new orders
    supplier = Client()
    assert supplier.login(username=env["DEMO_SUPPLIER_LOGIN"],
                          password=env["DEMO_SUPPLIER_PASSWORD"])
    assert supplier.get("/supplier/orders/new/").status_code == 200
    # and the finance clerk sees the finance cockpit
    clerk = Client()
    assert clerk.login(username=env["DEMO_FINANCE_LOGIN"], password=env["DEMO_FINANCE_PASSWORD"])
    assert clerk.get("/cockpit/finance/").status_code == 200

    # when it runs again, then the passwords are new and nothing is duplicated
    call_command("seed_demo_suppliers", env_file=env_file, stdout=out)
    again = {k: v.strip().strip('"').strip("'") for k, v in _env(env_file).items()}
    assert again["DEMO_SUPPLIER_PASSWORD"] != env["DEMO_SUPPLIER_PASSWORD"]
