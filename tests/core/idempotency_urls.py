"""A URLconf for the idempotency tests: a view behind a rate limit, one that refuses with a
``423`` after recording the attempt (as a lockout that counts the attempt starting it would),
and one answering with a ``Location``; plus every real route. Tests switch to it with
``settings.ROOT_URLCONF = "tests.core.idempotency_urls"``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oms import urls as real_urls
from oms.core.errors import DomainError
from oms.core.events import event_emit
from oms.core.throttle import require_within_limit

EFFECT_TOPIC = "test.effect"
LOCKOUT_SECONDS = 900


@dataclass
class Limit:
    """How many requests a minute the rate-limited view allows, per `ref`."""

    per_minute: int = 0


limit = Limit()


def _effect(request: Request) -> str:
    with transaction.atomic():
        event = event_emit(topic=EFFECT_TOPIC, aggregate_type="test",
                           aggregate_id=str(request.data.get("ref", "-")),
                           payload={"ref": request.data.get("ref")})
    return str(event.id)


class RateLimitedView(APIView):
    def post(self, request: Request) -> Response:
        require_within_limit(f"test-idempotency:{request.data['ref']}", limit.per_minute)
        return Response({"event": _effect(request)}, status=201)


class LockedAfterRecording(DomainError):
    status_code = 423
    default_code = "locked"
    keeps_writes = True


class LockingView(APIView):
    def post(self, request: Request) -> Response:
        _effect(request)
        raise LockedAfterRecording("Locked.", extra={"retry_after": LOCKOUT_SECONDS})


class CreatingView(APIView):
    def post(self, request: Request) -> Response:
        event = _effect(request)
        return Response({"event": event}, status=201,
                        headers={"Location": f"/api/v1/test/effects/{event}"})


urlpatterns = [
    path("api/v1/test/rate-limited", RateLimitedView.as_view()),
    path("api/v1/test/locking", LockingView.as_view()),
    path("api/v1/test/creating", CreatingView.as_view()),
    *real_urls.urlpatterns,
]

handler400 = real_urls.handler400
handler403 = real_urls.handler403
handler404 = real_urls.handler404
handler500 = real_urls.handler500
