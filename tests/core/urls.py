"""A throwaway URLconf for tests that need views misbehaving: the real routes plus a few that
raise. Tests switch to it with ``settings.ROOT_URLCONF = "tests.core.urls"``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oms import urls as real_urls
from oms.core.events import event_emit

EFFECT_TOPIC = "test.effect"


@dataclass
class Failures:
    """How many more calls of the flaky view fail after doing their work."""

    left: int = 0


failures = Failures()


class FlakyView(APIView):
    """Writes an outbox event (its effect), then crashes while `failures.left` is positive."""

    def post(self, request: Request) -> Response:
        with transaction.atomic():
            event = event_emit(topic=EFFECT_TOPIC, aggregate_type="test",
                               aggregate_id=str(request.data.get("ref", "-")),
                               payload={"ref": request.data.get("ref")})
        if failures.left > 0:
            failures.left -= 1
            raise RuntimeError("the flaky view crashed after writing")
        return Response({"event": str(event.id)}, status=201)


@dataclass
class Gate:
    """Holds the blocking view inside its request until the test releases it."""

    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


gate = Gate()


class BlockingView(APIView):
    def post(self, request: Request) -> Response:
        gate.entered.set()
        gate.release.wait(timeout=10)
        return Response({"done": True}, status=201)


class CrashingApiView(APIView):
    def get(self, request: Request) -> Response:
        raise RuntimeError("an unexpected bug in an API view")


def crashing_plain_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("an unexpected bug in a plain Django view")


urlpatterns = [
    path("api/v1/test/flaky", FlakyView.as_view()),
    path("api/v1/test/blocking", BlockingView.as_view()),
    path("api/v1/test/crash", CrashingApiView.as_view()),
    path("test/crash", crashing_plain_view),
    *real_urls.urlpatterns,
]

handler400 = real_urls.handler400
handler403 = real_urls.handler403
handler404 = real_urls.handler404
handler500 = real_urls.handler500
