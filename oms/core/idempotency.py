"""``Idempotency-Key`` for every POST, with Stripe's semantics (API.md; ARCHITECTURE.md rule 7).

The first request with a key runs inside one transaction that also stores its response, so the
effect and the stored response commit together or not at all: a crash in between leaves no key
behind and the retry simply runs again. While it runs, a transaction-scoped advisory lock on
(client, key) makes a concurrent request with the same key answer ``409`` instead of running
twice. Later requests replay the stored status and body with ``Idempotent-Replayed: true``; the
same key with another body answers ``422 idempotency_key_reused``.

What is stored follows Stripe: a result is saved once the endpoint started doing something, and a
request refused before anything happened saves nothing, so its retry with the same key runs for
real. Not stored, therefore:

- server errors (5xx), whatever they did is rolled back;
- ``429`` (rate limited) and ``423`` (locked, e.g. a pickup after too many wrong codes) that
  rolled back their writes: "not now" refusals whose answer changes with time alone. Replaying
  one for 24 h would refuse a till's retry long after the lock or the window ran out.

Every other refusal is stored. A ``409`` in this API is a conflict with the current state
(``invalid_transition``, ``insufficient_stock``, ...): a real answer about the request, like a
``422``, which the client resolves by changing something and sending a new request, not by
waiting. The one transient ``409``, ``idempotency_key_in_use``, is answered here before the
request runs and is never stored. A refusal that kept its writes (``keeps_writes``, such as the
wrong pickup code that counts towards the lockout) did something and is stored whatever its
status.

A replay repeats the stored ``Location`` and ``Retry-After`` headers; a ``Retry-After`` in seconds
is reduced by the time since the response was stored (never below 0), so it still tells the
client when to come back.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from oms.core.auth import client_for_request
from oms.core.errors import json_error_response
from oms.core.models import ApiClient, IdempotencyKey
from oms.core.sql import advisory_xact_lock_try

HEADER = "Idempotency-Key"
# 1-255 printable ASCII characters (API.md). Anything else is refused before it is used in a
# lock name, a query or a log line.
KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")
REPLAYED_HEADER = "Idempotent-Replayed"
RETRY_AFTER = "Retry-After"
KEPT_HEADERS = ("Location", RETRY_AFTER)
# "Not now": the same request may succeed later without any change (see the module docstring).
TRANSIENT_STATUSES = frozenset({423, 429})


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path()):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _try_lock(client: ApiClient, key: str) -> bool:
    lock_id = int.from_bytes(
        hashlib.sha256(f"idem:{client.pk}:{key}".encode()).digest()[:8], "big", signed=True
    )
    return advisory_xact_lock_try(lock_id)


def _worth_storing(response: HttpResponse) -> bool:
    if response.status_code >= 500 or response.streaming:
        return False
    return response.status_code not in TRANSIENT_STATUSES \
        or getattr(response, "keeps_writes", False)


def _retry_after(value: str, elapsed: timedelta) -> str:
    if not value.isdigit():
        return value  # an HTTP date stays right as it is
    # A clock behind the one that stored the key must not make the wait longer.
    return str(max(int(value) - max(int(elapsed.total_seconds()), 0), 0))


def _replay(stored: IdempotencyKey, now: datetime) -> HttpResponse:
    response = HttpResponse(
        stored.response_body, status=stored.response_status,
        content_type=stored.response_content_type,
    )
    for name, value in stored.response_headers.items():
        response[name] = _retry_after(value, now - stored.created_at) \
            if name == RETRY_AFTER else value
    response[REPLAYED_HEADER] = "true"
    return response


def _store(client: ApiClient, key: str, fingerprint: str, response: HttpResponse,
           now: datetime) -> None:
    IdempotencyKey.objects.create(
        client=client,
        key=key,
        fingerprint=fingerprint,
        response_status=response.status_code,
        response_body=response.content.decode("utf-8"),
        response_content_type=response.get("Content-Type", "application/json"),
        response_headers={name: response[name] for name in KEPT_HEADERS if name in response},
        created_at=now,
        expires_at=now + settings.IDEMPOTENCY_KEY_TTL,
    )


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not KEY_PATTERN.fullmatch(key):
            return json_error_response(
                400, "validation_error", "invalid_idempotency_key",
                _("Idempotency-Key must be 1 to 255 printable ASCII characters."),
                attr=HEADER,
            )
        client = client_for_request(request)
        if client is None:
            return self.get_response(request)  # the view answers 401
        return self._run_once(request, client, key)

    def _run_once(self, request: HttpRequest, client: ApiClient, key: str) -> HttpResponse:
        fingerprint = _fingerprint(request)
        now = timezone.now()
        with transaction.atomic():
            if not _try_lock(client, key):
                return json_error_response(
                    409, "client_error", "idempotency_key_in_use",
                    _("A request with this Idempotency-Key is still being processed."),
                )
            stored = IdempotencyKey.objects.filter(client=client, key=key).first()
            if stored is not None and stored.expires_at <= now:
                stored.delete()
                stored = None
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    return json_error_response(
                        422, "client_error", "idempotency_key_reused",
                        _("This Idempotency-Key was used with a different request."),
                    )
                return _replay(stored, now)
            # AtomicWritesMiddleware, next in line, runs the request in a savepoint of this
            # transaction and rolls it back if the answer refuses.
            response = self.get_response(request)
            if _worth_storing(response):
                _store(client, key, fingerprint, response, now)
            return response


def idempotency_keys_sweep(*, now: datetime | None = None) -> int:
    """Delete expired keys; returns how many were removed."""
    deleted, _details = IdempotencyKey.objects.filter(
        expires_at__lte=now or timezone.now()
    ).delete()
    return deleted
