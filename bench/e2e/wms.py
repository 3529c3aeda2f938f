"""The fake WMS of the end-to-end benchmark (``bench.e2e``), and the worker-side probe task of
its broker baseline.

:class:`WmsReceiver` is a tiny HTTP server (``ThreadingHTTPServer`` in a thread of the benchmark
process) that a warehouse's ``wms_url`` points at. It answers every push ``200`` at once and
records, per request, the wall-clock arrival time and the ``webhook-id`` header (``fo_<id>``), so
the real ``HttpWarehouseGateway`` is exercised over real HTTP and arrival times can be compared
with commit times written by other processes (same machine, same clock). Signatures are checked
after answering, with the location's ``wms_secret``; duplicates (same ``webhook-id``) are counted
and keep their first arrival.

:func:`probe` is the baseline: an otherwise empty Celery task that POSTs ``{"token", "sent",
"started"}`` to the same receiver with urllib, as the WMS gateway does. The worker imports this
module with ``-I bench.e2e.wms``; it must stay free of Django imports at module level.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from celery import shared_task

PROBE_TASK = "bench.e2e.wms.probe"
DISPATCH_PATH = "/wms"
PROBE_PATH = "/probe"


@shared_task(name=PROBE_TASK, ignore_result=True)
def probe(url: str, token: str, sent: float) -> None:
    """Report the moment a worker process started this task, over HTTP to the receiver."""
    body = json.dumps({"token": token, "sent": sent, "started": time.time()}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@dataclass(frozen=True)
class Arrival:
    message_id: str  # "fo_<id>"
    at: float  # time.time() when the request reached the handler
    order: str  # the order number from the payload


@dataclass(frozen=True)
class ProbeArrival:
    sent: float
    started: float
    at: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the listen backlog: bursts of dispatches are not refused


class WmsReceiver:
    """Thread-safe record of what the fake WMS received."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.arrivals: dict[str, Arrival] = {}  # first arrival per webhook-id
        self.probes: dict[str, ProbeArrival] = {}
        self.duplicates = 0
        self.bad_signatures = 0
        self.unsigned = 0
        self.secret = ""  # set once the location exists; signatures are checked from then on
        self.feed: queue.Queue[Arrival] | None = None  # new dispatches go here when set
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def dispatch_count(self) -> int:
        with self._lock:
            return len(self.arrivals)

    def dispatched(self) -> set[int]:
        """The fulfilment ids whose dispatch arrived."""
        with self._lock:
            return {int(m.removeprefix("fo_")) for m in self.arrivals}

    def _dispatch(self, at: float, headers: dict[str, str], body: bytes) -> None:
        message_id = headers.get("webhook-id", "")
        try:
            order = str(json.loads(body).get("order", ""))
        except ValueError:
            order = ""
        arrival = Arrival(message_id, at, order)
        with self._lock:
            if message_id in self.arrivals:
                self.duplicates += 1
                return
            self.arrivals[message_id] = arrival
            feed = self.feed
        if feed is not None:
            feed.put(arrival)
        self._check_signature(headers, body)

    def _check_signature(self, headers: dict[str, str], body: bytes) -> None:
        if not self.secret:
            return
        from oms.core.webhooks.signing import verify

        try:
            ok = verify(self.secret, headers.get("webhook-id", ""),
                        int(headers.get("webhook-timestamp", "0")), body,
                        headers.get("webhook-signature", ""))
        except ValueError:
            ok = False
        with self._lock:
            if not headers.get("webhook-signature"):
                self.unsigned += 1
            elif not ok:
                self.bad_signatures += 1

    def _probe(self, at: float, body: bytes) -> None:
        data = json.loads(body)
        with self._lock:
            self.probes.setdefault(data["token"], ProbeArrival(data["sent"], data["started"], at))

    @contextlib.contextmanager
    def serving(self) -> Iterator[WmsReceiver]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.time()
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                self.wfile.flush()
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path.startswith(PROBE_PATH):
                    receiver._probe(at, body)
                else:
                    receiver._dispatch(at, headers, body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = _Server(("127.0.0.1", 0), Handler)
        self._server = server
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                  name="fake-wms", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
