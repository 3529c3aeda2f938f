"""Customer notifications: order confirmation, shipped (with a carrier tracking link), delay,
items unavailable, delivered, for click-and-collect ready for pickup, the pickup reminder and
not collected, and for returns registered, the return label, received and each refund, by email
and as app push.

Domain events (`handlers.py`) create one :class:`~notifications.models.Notification`
row per channel, rendered in the order's language, inside the event handler's transaction. After
commit a task (`tasks.py`) sends each row through its channel's adapter (`adapters.py`) under a
row lock and marks it sent, so a task that runs twice sends once; a beat sweep retries failed
sends and sends rows whose task was lost (`services.py`). Pickup codes and store credit codes are
never stored: they are put in when a pickup or refund notice is sent (`pickup.py`,
`return_notices.py`).

A Django app of its own (label ``notifications``), above `returns` and `fulfillment` in the
layers of ARCHITECTURE.md rule 1: it reads orders, fulfilment orders, returns and refunds and
reacts to their events, and nothing below it imports it. Its model was registered under the
``fulfillment`` app before; the table keeps its name (``fulfillment_notification``,
`models.py`), and its event handlers and Celery task keep the names they are stored and
queued under (`handlers.py`, `tasks.py`).
"""
