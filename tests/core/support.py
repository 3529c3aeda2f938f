"""Helpers of the core tests: reading the Redis broker, and the webhook receiver's state."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import redis


@dataclass(frozen=True)
class QueuedTask:
    name: str
    args: list[Any]
    kwargs: dict[str, Any]


class BrokerQueues:
    """Reads the messages waiting in Redis, as a worker would receive them."""

    def __init__(self, url: str) -> None:
        self.redis = redis.Redis.from_url(url)

    def flush(self) -> None:
        self.redis.flushdb()

    def tasks(self, name: str | None = None) -> list[QueuedTask]:
        found = []
        for key in self.redis.scan_iter():
            if key.startswith(b"_kombu") or self.redis.type(key) != b"list":
                continue
            for raw in self.redis.lrange(key, 0, -1):
                message = json.loads(raw)
                args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
                found.append(QueuedTask(message["headers"]["task"], args, kwargs))
        return [t for t in found if name is None or t.name == name]


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 answering every POST with `status` after `delay`."""

    port: int = 0
    status: int = 200
    delay: float = 0.0
    requests: list[ReceivedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/oms"

    def record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)
