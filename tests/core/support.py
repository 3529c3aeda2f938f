"""Helpers of the core tests: reading the Redis broker."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
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

    def _queues(self) -> list[bytes]:
        return [key for key in self.redis.scan_iter()
                if not key.startswith(b"_kombu") and self.redis.type(key) == b"list"]

    def take_all(self) -> None:
        """Remove the waiting messages, as a worker fetching them would; the rest of the
        database (the cache's keys) stays."""
        if queues := self._queues():
            self.redis.delete(*queues)

    def tasks(self, name: str | None = None) -> list[QueuedTask]:
        found = []
        for key in self._queues():
            for raw in self.redis.lrange(key, 0, -1):
                message = json.loads(raw)
                args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
                found.append(QueuedTask(message["headers"]["task"], args, kwargs))
        return [t for t in found if name is None or t.name == name]
