"""Services for API clients."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext as _

from oms.core.auth import generate_token, hash_token
from oms.core.errors import InvalidInput
from oms.core.models import SELLING_KINDS, ApiClient, ClientKind

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$")


def api_client_create(
    *,
    name: str,
    kind: str,
    channel: str = "",
    location_code: str = "",
    supplier_code: str = "",
) -> tuple[ApiClient, str]:
    """Create a client and return it with its token, which is shown this once and never again."""
    errors: list[tuple[str, str, str | None]] = []
    if kind not in ClientKind.values:
        errors.append(("invalid_choice", _("Unknown client kind %(kind)s.") % {"kind": kind},
                       "kind"))
    if kind in SELLING_KINDS and not channel:
        errors.append(("required", _("Selling clients need a channel."), "channel"))
    if channel and not _CODE.match(channel):
        errors.append(("invalid", _("Channel codes are letters, digits, '-', '_' or '.'."),
                       "channel"))
    if kind == ClientKind.SUPPLIER and not supplier_code:
        errors.append(("required", _("A supplier client is confined to its supplier site."),
                       "supplier"))
    if location_code and supplier_code:
        errors.append(("invalid", _("A client is confined to a location or a supplier, not both."),
                       "supplier"))
    if ApiClient.objects.filter(name=name).exists():
        errors.append(("unique", _("A client with this name exists."), "name"))
    if errors:
        raise InvalidInput(errors)
    token = generate_token()
    with transaction.atomic():
        client = ApiClient.objects.create(
            name=name,
            kind=kind,
            channel=channel,
            location_code=location_code,
            supplier_code=supplier_code,
            token_prefix=token[:12],
            token_hash=hash_token(token),
        )
    return client, token


def api_client_set_active(*, client: ApiClient, active: bool) -> None:
    with transaction.atomic():
        ApiClient.objects.filter(pk=client.pk).update(is_active=active)


def api_client_rotate_token(*, client: ApiClient) -> str:
    """Issue a new token for `client`; the old one stops working at once."""
    token = generate_token()
    with transaction.atomic():
        ApiClient.objects.filter(pk=client.pk).update(
            token_prefix=token[:12], token_hash=hash_token(token)
        )
    return token
