from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from fulfillment import demo
from oms.demo import env_file, env_file_update


class Command(BaseCommand):
    help = ("Load demo click-and-collect: store staff for the cockpit (fresh passwords on every "
            "run) and four open pickup orders at the Berlin store, one ready for pickup (only "
            "the missing ones are placed). Logins and the pickup code are printed and written "
            "to var/demo.env. Run after seed_demo.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--env-file", type=Path, default=None,
                            help="where logins and the pickup are written (default: "
                                 "var/demo.env, or DEMO_ENV_FILE)")

    def handle(self, *args: Any, **options: Any) -> None:
        pickups = demo.seed_pickups()
        passwords = demo.seed_staff()
        values = {f"DEMO_COCKPIT_{username.upper().replace('-', '_')}_PASSWORD": password
                  for username, password in passwords.items()}
        if pickups.ready is not None:
            values |= {"DEMO_PICKUP_ORDER": pickups.ready.order.number,
                       "DEMO_PICKUP_FULFILLMENT": str(pickups.ready.pk),
                       "DEMO_PICKUP_CODE": pickups.ready_code or ""}
        env_file_update(values, options["env_file"])

        self.stdout.write(f"\n  {'cockpit login':<18} {'password':<14} store   (at /admin/)")
        for username, password in passwords.items():
            self.stdout.write(f"  {username:<18} {password:<14} {demo.STAFF[username]}")
        self.stdout.write(f"\nPickups at ST-BER: {len(pickups.numbers)} open "
                          f"({pickups.placed} placed now).")
        if pickups.ready is not None:
            self.stdout.write(f"Ready for pickup: order {pickups.ready.order.number}, "
                              f"fulfillment {pickups.ready.pk}, code {pickups.ready_code}")
        self.stdout.write(f"\nTokens, logins and the pickup code are also in "
                          f"{_shown(options['env_file'] or env_file())}.")


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it lies below it (var/demo.env)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
