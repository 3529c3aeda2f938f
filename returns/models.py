"""Returns: goods a customer sends or brings back, their lines, the reasons a customer may give
and each channel's return policy."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from inventory.models import Location
from oms.orders.models import Order, OrderLine
from returns.states import Condition, Disposition, LineStatus, ReturnMode, ReturnStatus

S = ReturnStatus


class ReturnReason(models.Model):
    """The list customers and staff choose a reason from, kept in the cockpit. A reason in use
    is switched off rather than deleted (its returns keep naming it)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label_en = models.CharField(_("label (English)"), max_length=100)
    label_de = models.CharField(_("label (German)"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        verbose_name = _("return reason")
        verbose_name_plural = _("return reasons")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.label_de if (get_language() or "en").startswith("de") else self.label_en


class ReturnPolicy(models.Model):
    """A channel's return rules; the row with an empty channel applies to every channel
    without its own."""

    channel = models.CharField(_("sales channel"), max_length=50, unique=True, blank=True,
                               help_text=_("Empty: the default for every other channel."))
    window_days = models.PositiveSmallIntegerField(
        _("return window (days)"), default=30,
        help_text=_("Days after delivery or pickup in which goods may come back."))
    refund_shipping_on_full_return = models.BooleanField(
        _("refund shipping when everything comes back"), default=True)
    exchange_ships_at_once = models.BooleanField(
        _("send a replacement by mail before the return arrives"), default=False)

    class Meta:
        verbose_name = _("return policy")
        verbose_name_plural = _("return policies")
        ordering = ["channel"]

    def __str__(self) -> str:
        return self.channel or str(_("default"))


class Return(ConcurrentTransitionMixin, models.Model):
    number = models.CharField(_("number"), max_length=30, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns",
                              verbose_name=_("order"))
    mode = models.CharField(_("how"), max_length=10, choices=ReturnMode.choices)
    # Where the goods come back: the store at the counter, or the site a parcel goes to.
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="returns",
                                 verbose_name=_("taken back at"))
    status = FSMField(_("status"), default=S.REQUESTED, choices=ReturnStatus.choices,
                      protected=True)
    refund_method = models.CharField(_("refund method"), max_length=20)
    # What the refund comes to: estimated from the announced units, final once received.
    refund_amount = models.DecimalField(_("refund"), max_digits=12, decimal_places=2,
                                        default=0)
    # Part of the goods' value that paid the exchange order instead of going back.
    exchange_credit = models.DecimalField(_("paid the exchange"), max_digits=12,
                                          decimal_places=2, default=0)
    shipping_refund = models.DecimalField(_("shipping refunded"), max_digits=12,
                                          decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    exchange_order = models.OneToOneField(Order, on_delete=models.PROTECT, null=True,
                                          blank=True, related_name="exchange_for",
                                          verbose_name=_("exchange order"))
    window_ends_at = models.DateTimeField(_("return window ends"), null=True, blank=True)
    override_reason = models.CharField(_("window overridden because"), max_length=500,
                                       blank=True, default="")
    label_url = models.URLField(_("return label"), max_length=500, blank=True, default="")
    carrier = models.CharField(_("carrier"), max_length=50, blank=True, default="")
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True,
                                       default="")
    placed_by = models.CharField(_("registered by"), max_length=150)
    received_by = models.CharField(_("received by"), max_length=150, blank=True, default="")
    created_at = models.DateTimeField(_("registered"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        indexes = [
            models.Index(fields=["location", "status", "created_at"], name="return_worklist"),
            models.Index(fields=["order", "status"], name="return_by_order"),
            models.Index(fields=["placed_by"], name="return_placed_by"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refund_amount__gte=0) & Q(exchange_credit__gte=0)
                & Q(shipping_refund__gte=0), name="return_amounts_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number

    # Transitions: bodies are empty on purpose; what happens around them lives in services.
    @transition(field=status, source=S.REQUESTED, target=S.RECEIVED)
    def receive(self) -> None: ...

    @transition(field=status, source=S.RECEIVED, target=S.REFUNDED)
    def mark_refunded(self) -> None: ...

    @transition(field=status, source=[S.RECEIVED, S.REFUNDED], target=S.CLOSED)
    def close(self) -> None: ...

    @transition(field=status, source=S.REQUESTED, target=S.CANCELLED)
    def cancel(self) -> None: ...


class ReturnLine(models.Model):
    """`quantity` is what the customer announced; `received` what came back. The order line's
    `returned` counts received units; announced units of open returns are spoken for too
    (returns.eligibility)."""

    return_order = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines",
                                     db_column="return_id")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("order line"))
    quantity = models.PositiveIntegerField(_("announced"))
    received = models.PositiveIntegerField(_("received"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=LineStatus.choices,
                              default=LineStatus.ANNOUNCED)
    reason = models.ForeignKey(ReturnReason, on_delete=models.PROTECT, to_field="code",
                               db_column="reason", related_name="+", verbose_name=_("reason"))
    condition = models.CharField(_("condition"), max_length=12, choices=Condition.choices)
    disposition = models.CharField(_("disposition"), max_length=12,
                                   choices=Disposition.choices, blank=True, default="")
    refused_reason = models.CharField(_("refused because"), max_length=500, blank=True,
                                      default="")
    refund_amount = models.DecimalField(_("refund"), max_digits=12, decimal_places=2,
                                        default=0)

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["return_order", "order_line"],
                                    name="return_line_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity_pos"),
            models.CheckConstraint(condition=Q(received__lte=F("quantity")),
                                   name="return_line_received_le_announced"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_line.product_id}"

    @property
    def sku(self) -> str:
        return self.order_line.product_id
