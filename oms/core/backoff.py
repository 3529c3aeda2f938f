"""Retry timing shared by everything that retries through a database timer."""

from __future__ import annotations

import random
from datetime import timedelta

CAP_SECONDS = 6 * 3600


def exponential_backoff(attempts: int, base_seconds: float) -> timedelta:
    """base * 2^(n-1), capped at 6 h, scaled by a random factor in [0.5, 1] so that retries of
    many deliveries that failed together do not arrive together."""
    delay = base_seconds * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(delay, CAP_SECONDS) * random.uniform(0.5, 1.0))
