"""Pickup codes: short, unambiguous, never stored.

A code is derived from the fulfilment's random salt and the SECRET_KEY, so the channel can show
it again (order page, app, wallet pass) while the database alone reveals nothing; the stored
hash lets the counter check a code without deriving it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets

import segno
from django.conf import settings

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: read aloud or typed at a till, nothing is mistaken.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
LENGTH = 6


def new_salt() -> str:
    return secrets.token_hex(16)


def derive_code(fulfillment_id: int, salt: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"pickup:{fulfillment_id}:{salt}".encode(),
                      hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def normalize(code: str) -> str:
    """What staff type: any case, with spaces or dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{normalize(code)}".encode()).hexdigest()


def code_matches(salt: str, stored_hash: str, code: str) -> bool:
    return bool(stored_hash) and hmac.compare_digest(code_hash(salt, code), stored_hash)


def qr_png(code: str, order_number: str) -> bytes:
    """The code as a QR image for the app or a wallet pass; scanning it at the till fills in
    the order number and the code."""
    buffer = io.BytesIO()
    segno.make(f"OMS-PICKUP:{order_number}:{code}", error="m").save(buffer, kind="png", scale=6)
    return buffer.getvalue()


def qr_data_uri(code: str, order_number: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(code, order_number)).decode()
