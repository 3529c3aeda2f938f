"""Payments recorded against orders."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField

from oms.orders.models import Order


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Card")
    PAYPAL = "paypal", _("PayPal")
    INVOICE = "invoice", _("Invoice")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    CASH = "cash", _("Cash")
    GIFT_CARD = "gift_card", _("Gift card")
    PAY_IN_STORE = "pay_in_store", _("Pay in store")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    AUTHORIZED = "authorized", _("Authorized")
    CAPTURED = "captured", _("Captured")
    FAILED = "failed", _("Failed")
    REFUNDED = "refunded", _("Refunded")
    CHARGEBACK = "chargeback", _("Chargeback")


# Methods that secure an order without money having moved yet: the invoice is collected later,
# pay-in-store at the handover.
SECURED_WITHOUT_PSP = frozenset({PaymentMethod.INVOICE, PaymentMethod.PAY_IN_STORE})
SECURED_STATUSES = frozenset({PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED})


class Payment(ConcurrentTransitionMixin, models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    status = FSMField(_("status"), default=PaymentStatus.PENDING,
                      choices=PaymentStatus.choices, protected=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    psp_reference = models.CharField(_("PSP reference"), max_length=200, null=True, blank=True,
                                     unique=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.amount} {self.currency} ({self.status})"

    @property
    def secures_order(self) -> bool:
        return self.method in SECURED_WITHOUT_PSP or self.status in SECURED_STATUSES
