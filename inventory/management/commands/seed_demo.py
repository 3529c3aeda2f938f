from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from inventory import demo
from oms.demo import env_file_update


def env_name(client_name: str) -> str:
    """``demo-webshop`` -> ``DEMO_WEBSHOP_TOKEN``: the key of its token in the env file."""
    return client_name.upper().replace("-", "_") + "_TOKEN"


class Command(BaseCommand):
    help = ("Load demo locations, products and stock (only what is missing: running it again "
            "changes no stock), and issue one API token per client kind. The tokens are printed "
            "and written to var/demo.env.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=300)
        parser.add_argument("--env-file", type=Path, default=None,
                            help="where the tokens are written (default: var/demo.env, "
                                 "or DEMO_ENV_FILE)")

    def handle(self, *args: Any, **options: Any) -> None:
        demo.seed_locations()
        skus = demo.seed_products(options["products"])
        levels = demo.seed_stock(skus)
        tokens = demo.seed_clients()
        env_file_update({env_name(name): token for name, token in tokens.items()},
                        options["env_file"])
        self.stdout.write(f"Demo data: warehouse {demo.WAREHOUSE.code}, {len(demo.STORES)} "
                          f"stores, supplier {demo.SUPPLIER.code}, {len(skus)} products "
                          f"({levels} new stock levels).")
        self.stdout.write(f"\n  {'API client':<18} token (Authorization: Bearer <token>)")
        for name, token in tokens.items():
            self.stdout.write(f"  {name:<18} {token}")
