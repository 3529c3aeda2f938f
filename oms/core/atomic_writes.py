"""Every API write runs in one transaction that ends after its answer is rendered (issue 17).

A service commits its own transaction; if the view then failed to render the answer (a value
the renderer cannot encode, a bug in a serializer), the client got a 500 for a write that had
committed, and its retry without an Idempotency-Key wrote it again. Here the whole request,
rendering included, is one atomic block: Django renders the response before it returns through
the middleware, so a failure anywhere in the request rolls everything back, and an error answer
(status >= 400) changes nothing, unless the refusal must keep what it wrote (`keeps_writes`: a
wrong pickup code counts towards the lockout).

It sits inside `IdempotencyMiddleware`, which opens the transaction first when a request has a
key: the key is then stored in the same transaction, beside the rolled-back savepoint of a
refused request, so a refusal is replayed (see `oms.core.idempotency`).

A view may say `atomic_request = False` when its write commits on its own by design and its
answer is built from validated, normalised data: the cart hold, whose one statement must commit
before Python renders anything, so the hot stock row's lock is never held for that
(`inventory.reservations`). The issue allows exactly that: the answer is then produced "from
already-validated, normalised data".

Services keep their own `transaction.atomic()` blocks: they also run from tasks, the cockpit and
management commands. Inside a request those blocks are savepoints of this one, and on-commit
work (outbox relay, tasks) runs once this block commits.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from oms.core.routing import view_class

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _atomic_request(request: HttpRequest) -> bool:
    return getattr(view_class(request), "atomic_request", True)


def keeps_writes(response: HttpResponse) -> bool:
    return response.status_code < 400 or getattr(response, "keeps_writes", False)


class AtomicWritesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in SAFE_METHODS or not request.path.startswith("/api/") \
                or not _atomic_request(request):
            return self.get_response(request)
        with transaction.atomic():
            response = self.get_response(request)
            if not keeps_writes(response):
                transaction.set_rollback(True)
        return response
