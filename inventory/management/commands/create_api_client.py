"""``manage.py create_api_client --name N --kind K [--channel C] [--location L] [--supplier S]``

Lives in `inventory` because a client's scope names a location, which this app owns. The token is
printed on the last line and is not stored in clear anywhere.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.models import Location, LocationKind
from oms.core.clients import api_client_create
from oms.core.errors import InvalidInput
from oms.core.models import ClientKind


class Command(BaseCommand):
    help = "Create an API client and print its bearer token on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, choices=ClientKind.values)
        parser.add_argument("--channel", default="")
        parser.add_argument("--location", default="", help="confine to this store or warehouse")
        parser.add_argument("--supplier", default="", help="confine to this supplier site")

    def handle(self, *args: Any, **options: Any) -> None:
        location, supplier = options["location"], options["supplier"]
        if location and not Location.objects.filter(code=location).exclude(
            kind=LocationKind.SUPPLIER
        ).exists():
            raise CommandError(f"No store or warehouse with code {location!r}.")
        if supplier and not Location.objects.filter(code=supplier,
                                                    kind=LocationKind.SUPPLIER).exists():
            raise CommandError(f"No supplier site with code {supplier!r}.")
        try:
            client, token = api_client_create(
                name=options["name"], kind=options["kind"], channel=options["channel"],
                location_code=location, supplier_code=supplier,
            )
        except InvalidInput as exc:
            raise CommandError("; ".join(e["detail"] for e in exc.errors())) from exc
        self.stdout.write(f"Created API client {client.name} ({client.kind}).")
        self.stdout.write(token)
