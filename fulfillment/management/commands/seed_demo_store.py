from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from fulfillment import demo


class Command(BaseCommand):
    help = ("Load demo click-and-collect: store staff users (passwords printed) and pickup "
            "orders at the Berlin store. Run after seed_demo.")

    def handle(self, *args: Any, **options: Any) -> None:
        numbers = demo.seed_pickups()
        self.stdout.write(f"Pickup orders at ST-BER: {', '.join(numbers)} "
                          f"(the first is ready for pickup).")
        self.stdout.write("Store staff for the cockpit at /admin/ (username password store):")
        for username, password in demo.seed_staff().items():
            self.stdout.write(f"  {username:<18} {password:<14} {demo.STAFF[username]}")
