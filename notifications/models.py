"""One row per (event, kind, channel): the record that makes a notification go out once. Its
sending is an attempt of kind ``notification`` (`oms.core.attempts`): status, tries, errors.

The row carries the rendered message (subject, text, HTML, link), so a retry hours later sends
exactly what the event produced, and the cockpit shows what the customer received. One thing is
never stored: a pickup code, or a store credit's code. Pickup rows hold a placeholder where the
code goes and point at the fulfilment order; the code is derived from it when the message is sent
(`pickup.py`). Refund rows likewise point at the refund, whose store credit's code is put in
place of its placeholder when the message is sent (`return_notices.py`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from oms.orders.models import Order


class NotificationKind(models.TextChoices):
    ORDER_CONFIRMATION = "order_confirmation", _("Order confirmation")
    SHIPPED = "shipped", _("Shipped")
    DELAY = "delay", _("Delay")
    ITEMS_UNAVAILABLE = "items_unavailable", _("Items unavailable")
    DELIVERED = "delivered", _("Delivered")
    PICKUP_READY = "pickup_ready", _("Ready for pickup")
    PICKUP_REMINDER = "pickup_reminder", _("Pickup reminder")
    PICKUP_EXPIRED = "pickup_expired", _("Not collected")
    RETURN_REQUESTED = "return_requested", _("Return registered")
    RETURN_LABEL = "return_label", _("Return label")
    RETURN_RECEIVED = "return_received", _("Return received")
    REFUND_ISSUED = "refund_issued", _("Refund issued")
    PICKUP_OFFER = "pickup_offer", _("Take it with you now")
    PICKUP_OFFER_WITHDRAWN = "pickup_offer_withdrawn", _("Parcel on its way after all")
    DUNNING_NOTICE = "dunning_notice", _("Payment reminder or dunning notice")
    # E-mails to dropship suppliers and to staff about them (written by suppliers.notices
    # through this app's rows and attempt kind).
    SUPPLIER_NEW_ORDER = "supplier_new_order", _("New dropship order (to the supplier)")
    SUPPLIER_ORDER_DIGEST = "supplier_order_digest", _("Daily digest of dropship orders")
    SUPPLIER_REMINDER = "supplier_reminder", _("Order not yet acknowledged (to the supplier)")
    SUPPLIER_ESCALATION = "supplier_escalation", _("Supplier late to acknowledge (to staff)")


class NotificationChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PUSH = "push", _("App push")


class Notification(models.Model):
    # The event's id, not a foreign key: notifications outlive any pruning of the outbox.
    event_id = models.UUIDField(_("event"))
    topic = models.CharField(_("topic"), max_length=100)
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=NotificationChannel.choices)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="notifications")
    # Set for pickup notifications: the code is derived from this fulfilment at send time.
    fulfillment = models.ForeignKey("fulfillment.FulfillmentOrder", on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="notifications")
    # Set for refund notices: a refund paid out as store credit gets its code at send time.
    refund = models.ForeignKey("payments.Refund", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="notifications",
                               verbose_name=_("refund"))
    recipient = models.CharField(_("recipient"), max_length=254)
    language = models.CharField(_("language"), max_length=5)
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True, default="")
    url = models.CharField(_("link"), max_length=500, blank=True, default="")
    created_at = models.DateTimeField(_("created"))

    class Meta:
        # Created when this model belonged to the `fulfillment` app; the app moved
        # (migrations/0001_initial.py), the table stayed.
        db_table = "fulfillment_notification"
        verbose_name = _("customer notification")
        verbose_name_plural = _("customer notifications")
        constraints = [
            models.UniqueConstraint(fields=["event_id", "kind", "channel"],
                                    name="notification_once_per_event_kind_channel"),
        ]
        indexes = [
            models.Index(fields=["order", "created_at"], name="notification_by_order"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} → {self.recipient}"
