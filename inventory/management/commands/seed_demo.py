from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from inventory import demo


class Command(BaseCommand):
    help = "Load demo locations, products and stock, and print one API token per client kind."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=300)

    def handle(self, *args: Any, **options: Any) -> None:
        demo.seed_locations()
        skus = demo.seed_products(options["products"])
        demo.seed_stock(skus)
        tokens = demo.seed_clients()
        self.stdout.write(f"Demo data: 1 warehouse, {len(demo.STORES)} stores, "
                          f"{len(skus)} products with stock.")
        self.stdout.write("API tokens (Authorization: Bearer <token>):")
        for name, token in tokens.items():
            self.stdout.write(f"  {name:<18} {token}")
