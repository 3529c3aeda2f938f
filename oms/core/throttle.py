"""Counting attempts per caller in fixed one-minute windows, shared by every process through
the cache (Redis when configured)."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.utils.translation import gettext as _

from oms.core.errors import DomainError

WINDOW_SECONDS = 60


class TooManyRequests(DomainError):
    status_code = 429
    default_code = "throttled"


def seconds_left_in_window() -> int:
    return WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS


def within_limit(key: str, limit: int) -> bool:
    """Count one attempt for `key`; False once more than `limit` were made this minute."""
    bucket = f"throttle:{key}:{int(time.time()) // WINDOW_SECONDS}"
    cache.add(bucket, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    return count <= limit


def require_within_limit(key: str, limit: int, *, attr: str | None = None) -> None:
    if not within_limit(key, limit):
        wait = seconds_left_in_window()
        raise TooManyRequests(
            _("Too many attempts; try again in %(seconds)d seconds.") % {"seconds": wait},
            attr=attr, extra={"retry_after": wait})
