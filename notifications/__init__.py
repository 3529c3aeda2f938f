"""Customer notifications: order confirmation, shipped (with a carrier tracking link), delay,
items unavailable, delivered, and for click-and-collect ready for pickup, the pickup reminder and
not collected, by email and as app push.

Domain events (`handlers.py`) create one :class:`~notifications.models.Notification`
row per channel, rendered in the order's language, inside the event handler's transaction. After
commit a task (`tasks.py`) sends each row through its channel's adapter (`adapters.py`) under a
row lock and marks it sent, so a task that runs twice sends once; a beat sweep retries failed
sends and sends rows whose task was lost (`services.py`). Pickup codes are never stored: they are
derived when a pickup notice is sent (`pickup.py`).

A Django app of its own (label ``notifications``), above `fulfillment` in the layers of
ARCHITECTURE.md rule 1: it reads orders and fulfilment orders and reacts to their events, and
nothing below it imports it. Its model was registered under the ``fulfillment`` app before; the
table keeps its name (``fulfillment_notification``, `models.py`), and its event handlers and
Celery task keep the names they are stored and queued under (`handlers.py`, `tasks.py`).
"""
