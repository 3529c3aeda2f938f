"""A real HTTP server on 127.0.0.1 standing in for a webhook subscriber, a WMS or a PSP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpReceiver:
    """Answers every POST with `status` after `delay`, unless `script` holds (status, delay)
    pairs for the next requests, which are used first."""

    port: int = 0
    status: int = 200
    delay: float = 0.0
    script: list[tuple[int, float]] = field(default_factory=list)
    requests: list[ReceivedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/oms"

    def record(self, request: ReceivedRequest) -> tuple[int, float]:
        with self._lock:
            self.requests.append(request)
            return self.script.pop(0) if self.script else (self.status, self.delay)


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, delay = receiver.record(ReceivedRequest(
                self.path, {k.lower(): v for k, v in self.headers.items()}, body
            ))
            if delay:
                threading.Event().wait(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the caller gave up waiting (a killed worker, a timeout)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
