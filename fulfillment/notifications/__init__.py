"""Customer notifications: order confirmation, shipped (with a carrier tracking link), delay,
items unavailable, delivered, and for click-and-collect ready for pickup, the pickup reminder and
not collected, by email and as app push.

Domain events (`handlers.py`) create one :class:`~fulfillment.notifications.models.Notification`
row per channel, rendered in the order's language, inside the event handler's transaction. After
commit a task (`tasks.py`) sends each row through its channel's adapter (`adapters.py`) under a
row lock and marks it sent, so a task that runs twice sends once; a beat sweep retries failed
sends and sends rows whose task was lost (`services.py`). Pickup codes are never stored: they are
derived when a pickup notice is sent (`pickup.py`).

This package is not a Django app: its model is imported by `fulfillment/models.py` and its
handlers by `FulfillmentConfig.ready()`. Nothing below `fulfillment` may import it.
"""
