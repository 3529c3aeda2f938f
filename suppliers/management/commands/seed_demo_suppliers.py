from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from oms.demo import env_file_update
from suppliers import demo


class Command(BaseCommand):
    help = ("Demo logins for the supplier portal (/supplier/) and the finance cockpit "
            "(/cockpit/finance/), with fresh passwords written to var/demo.env. Run after "
            "seed_demo.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--env-file", type=Path, default=None,
                            help="where the passwords are written (default: var/demo.env, "
                                 "or DEMO_ENV_FILE)")

    def handle(self, *args: Any, **options: Any) -> None:
        values = demo.seed_supplier() | demo.seed_finance_clerk()
        env_file_update(values, options["env_file"])
        if "DEMO_SUPPLIER_LOGIN" in values:
            self.stdout.write(f"Supplier portal: /supplier/ as {values['DEMO_SUPPLIER_LOGIN']}")
        self.stdout.write(f"Finance cockpit: /cockpit/finance/ as "
                          f"{values['DEMO_FINANCE_LOGIN']}; passwords in the env file.")
