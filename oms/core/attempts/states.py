"""The statuses of an attempt to call the outside world, and which of them the sweep and the
admin look at."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AttemptStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for its turn")
    IN_FLIGHT = "in_flight", _("Being sent")
    SUCCEEDED = "succeeded", _("Succeeded")
    DEAD = "dead", _("Gave up")
    # Nothing to send any more (the fulfilment order was cancelled before it went out).
    CANCELLED = "cancelled", _("Cancelled")


S = AttemptStatus
# What the beat sweep looks at: waiting ones whose time has come, and claimed ones whose lease
# ran out (a killed worker) — one index covers both (`next_attempt_at` is the lease end then).
OPEN = [S.PENDING, S.IN_FLIGHT]
FINISHED = [S.SUCCEEDED, S.DEAD, S.CANCELLED]
