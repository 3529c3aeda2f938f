from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from oms.demo import env_file_update
from returns import demo


class Command(BaseCommand):
    help = ("Load demo returns: the default return reasons and an order collected at the "
            "Berlin store that can be taken back (placed only when the last one is all back). "
            "Its number is written to var/demo.env as DEMO_RETURN_ORDER. Run after "
            "seed_demo_store.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--env-file", type=Path, default=None,
                            help="where the order number is written (default: var/demo.env, "
                                 "or DEMO_ENV_FILE)")

    def handle(self, *args: Any, **options: Any) -> None:
        order = demo.seed_returnable()
        if order is None:
            self.stdout.write("No order to take back: the Berlin store has nothing in stock.")
            return
        env_file_update({"DEMO_RETURN_ORDER": order.number}, options["env_file"])
        self.stdout.write(f"To take back at {demo.STORE}: order {order.number} "
                          f"({order.customer.email}); cockpit → Take back, or "
                          f"POST /api/v1/returns with the demo POS token.")
