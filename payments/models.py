"""Payments recorded against orders, the captures taken from them, and the PSP's events."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from oms.orders.models import Order
from payments.states import (
    CAPTURE_SOURCES,
    CHARGEBACK_SOURCES,
    REFUND_SOURCES,
    SECURED_STATUSES,
    SECURED_WITHOUT_PSP,
    CaptureSource,
    CaptureStatus,
    PaymentMethod,
    PaymentStatus,
    PspEventOutcome,
    PspEventType,
    RefundMethod,
    RefundRoute,
    RefundStatus,
    ReversalKind,
    StoreCreditEntryKind,
)

S = PaymentStatus

__all__ = ["CHANNEL_PAYMENT_METHODS", "SECURED_STATUSES", "SECURED_WITHOUT_PSP",
           "STORE_CREDIT_CODE_PATTERN", "Payment", "PaymentCapture", "PaymentMethod",
           "PaymentReversal", "PaymentStatus", "PspEvent", "Refund", "StoreCredit",
           "StoreCreditEntry"]

# What a channel may name at intake: every method but the value of returned goods, which only an
# exchange records.
CHANNEL_PAYMENT_METHODS = [(m.value, m.label) for m in PaymentMethod
                           if m != PaymentMethod.RETURN_CREDIT]
# SC-XXXX-XXXX-XXXX from an alphabet without 0/O and 1/I (payments.store_credit); customers
# type them in any case, and the code is looked up upper-cased.
_CODE_GROUP = "[2-9A-HJ-NP-Za-hj-np-z]{4}"
STORE_CREDIT_CODE_PATTERN = rf"^[Ss][Cc]-{_CODE_GROUP}-{_CODE_GROUP}-{_CODE_GROUP}$"


def secures_order(method: str, status: str) -> bool:
    """May an order be fulfilled as far as a payment by `method` in `status` is concerned?"""
    if status in (S.FAILED, S.CHARGEBACK):
        return False
    return method in SECURED_WITHOUT_PSP or status in SECURED_STATUSES


class Payment(ConcurrentTransitionMixin, models.Model):
    """`amount` is what the customer was asked for (for card and PayPal: what the PSP
    authorized). `captured_amount` is the sum of the succeeded captures, `refunded_amount` what
    went back, `voided_amount` the part of the authorization released without being captured;
    the database keeps 0 ≤ refunded ≤ captured and captured + voided ≤ amount."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    status = FSMField(_("status"), default=PaymentStatus.PENDING,
                      choices=PaymentStatus.choices, protected=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    captured_amount = models.DecimalField(_("captured"), max_digits=12, decimal_places=2,
                                          default=0)
    refunded_amount = models.DecimalField(_("refunded"), max_digits=12, decimal_places=2,
                                          default=0)
    voided_amount = models.DecimalField(_("voided"), max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    psp_reference = models.CharField(_("PSP reference"), max_length=200, null=True, blank=True,
                                     unique=True)
    # When the status last stated by the PSP (or by the channel at intake) was true: an
    # `authorized` or `failed` event older than this arrived out of order and is ignored.
    status_at = models.DateTimeField(_("status as of"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(captured_amount__gte=0) & Q(captured_amount__lte=F("amount")),
                name="payment_captured_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("captured_amount")),
                name="payment_refunded_within_captured",
            ),
            # What was released can no longer be captured, and the other way round.
            models.CheckConstraint(
                condition=Q(voided_amount__gte=0)
                & Q(voided_amount__lte=F("amount") - F("captured_amount")),
                name="payment_voided_within_uncaptured",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.amount} {self.currency} ({self.status})"

    @property
    def secures_order(self) -> bool:
        """May the order be fulfilled as far as this payment is concerned?"""
        return secures_order(self.method, self.status)

    # Transitions: bodies are empty on purpose; the amounts and everything around a transition
    # are handled by `payments.services`.
    @transition(field=status, source=[S.PENDING, S.FAILED], target=S.AUTHORIZED)
    def authorize(self) -> None: ...

    @transition(field=status, source=[S.PENDING, S.AUTHORIZED], target=S.FAILED)
    def fail(self) -> None: ...

    @transition(field=status, source=CAPTURE_SOURCES, target=S.PARTIALLY_CAPTURED)
    def capture_partially(self) -> None: ...

    @transition(field=status, source=CAPTURE_SOURCES, target=S.CAPTURED)
    def capture_fully(self) -> None: ...

    @transition(field=status, source=REFUND_SOURCES, target=S.PARTIALLY_REFUNDED)
    def refund_partially(self) -> None: ...

    # Everything back needs everything captured first (see `services.core.refund_step`).
    @transition(field=status, source=[S.CAPTURED, S.PARTIALLY_REFUNDED], target=S.REFUNDED)
    def refund_fully(self) -> None: ...

    @transition(field=status, source=CHARGEBACK_SOURCES, target=S.CHARGEBACK)
    def charge_back(self) -> None: ...

    # The whole authorization released with nothing captured (see `services.core.void_step`).
    @transition(field=status, source=[S.AUTHORIZED], target=S.VOIDED)
    def void(self) -> None: ...

    # A pay-in-store payment nothing will be collected for: its goods were not picked up, so
    # the whole amount is written off (see `services.reversals`). Nothing was authorized.
    @transition(field=status, source=[S.PENDING], target=S.VOIDED)
    def write_off(self) -> None: ...

    # The rest of a partly captured authorization released: everything that will ever be
    # captured is, so the payment reads `captured` (and can be refunded in full later).
    @transition(field=status, source=[S.PARTIALLY_CAPTURED], target=S.CAPTURED)
    def void_rest(self) -> None: ...


class PaymentCapture(models.Model):
    """Money taken from an authorization: one row per capture, whoever made it.

    Captures we make when a shipment leaves are written `pending` first (unique per payment and
    idempotency key, so planning twice for one event plans once), then executed against the PSP
    with the same key, so executing twice captures once. Those are tried through the attempt
    mechanism (kind ``psp_capture``, `oms.core.attempts`): tries, backoff, lease and each
    call's answer are there."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="captures")
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    # Sent to the PSP; empty means `idempotency_key`. A retry from the cockpit after a refusal
    # needs a fresh one: a PSP answers a key it refused before with the same refusal.
    psp_idempotency_key = models.CharField(_("PSP idempotency key"), max_length=250,
                                           blank=True, default="")
    source = models.CharField(_("source"), max_length=20, choices=CaptureSource.choices)
    status = models.CharField(_("status"), max_length=20, choices=CaptureStatus.choices,
                              default=CaptureStatus.PENDING)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    # What caused it: the shipment (fulfilment and shipment ids, the event id), or the PSP event.
    context = models.JSONField(_("context"), default=dict, blank=True)
    psp_capture_reference = models.CharField(_("PSP capture reference"), max_length=200,
                                             blank=True, default="")
    succeeded_at = models.DateTimeField(_("succeeded"), null=True, blank=True)
    # The PSP's own `captured` event for this capture arrived.
    confirmed_at = models.DateTimeField(_("confirmed by the PSP"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("capture")
        verbose_name_plural = _("captures")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "idempotency_key"],
                                    name="capture_once_per_payment_and_key"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="capture_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in CaptureStatus]),
                name="capture_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.status})"

    @property
    def psp_key(self) -> str:
        return self.psp_idempotency_key or self.idempotency_key


class PaymentReversal(models.Model):
    """Money we gave back through the PSP: a refund of captured money, or the release (void) of
    an authorization that will not be captured. Written in the same transaction as the change
    of the payment's amounts, only after the PSP said yes, so a row is always a done deal. A
    pay-in-store amount the till will never collect is written off as a void too, without the
    PSP (no `psp_reference`).

    The idempotency key (unique per payment) is the one the PSP was called with: running the
    same cause again finds the row, and a call retried after the PSP answered but before we
    committed sends the same key and gets the first answer back."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="reversals")
    kind = models.CharField(_("kind"), max_length=10, choices=ReversalKind.choices)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    psp_reference = models.CharField(_("PSP reference"), max_length=200, blank=True,
                                     default="")
    # What caused it: the expired pickup (fulfilment, location, the event id).
    context = models.JSONField(_("context"), default=dict, blank=True)
    # The PSP's own `refunded` event for this refund arrived.
    confirmed_at = models.DateTimeField(_("confirmed by the PSP"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("refund or void")
        verbose_name_plural = _("refunds and voids")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "idempotency_key"],
                                    name="reversal_once_per_payment_and_key"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="reversal_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ReversalKind]),
                name="reversal_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"


class PspEvent(models.Model):
    """A PSP event we processed. PSPs retry their webhooks without an Idempotency-Key header;
    the unique key (reference, type, amount, time) makes a redelivery a replay of the stored
    response instead of a second effect."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="psp_events")
    psp_reference = models.CharField(_("PSP reference"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=PspEventType.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    at = models.DateTimeField(_("at"))
    outcome = models.CharField(_("outcome"), max_length=30, choices=PspEventOutcome.choices)
    received_at = models.DateTimeField(_("received"))
    received_from = models.CharField(_("received from"), max_length=100)
    response = models.JSONField(_("response"))

    class Meta:
        verbose_name = _("PSP event")
        verbose_name_plural = _("PSP events")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["psp_reference", "type", "amount", "at"],
                                    name="psp_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount} {self.currency} ({self.outcome})"


class StoreCredit(models.Model):
    """A credit a customer holds with us: issued for returned goods, spent later as the payment
    method ``store_credit`` at intake. The code is what the customer shows (printed on the
    return receipt); the balance is the sum of its entries, kept on the row under its lock and
    never below zero (the database refuses it)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    currency = models.CharField(_("currency"), max_length=3)
    balance = models.DecimalField(_("balance"), max_digits=12, decimal_places=2, default=0)
    customer = models.ForeignKey("orders.Customer", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="store_credits",
                                 verbose_name=_("customer"))
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("store credit")
        verbose_name_plural = _("store credits")
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0),
                                              name="store_credit_balance_not_negative")]

    def __str__(self) -> str:
        return f"{self.code} {self.balance} {self.currency}"


class StoreCreditEntry(models.Model):
    """The history of a store credit: every issue (+), redemption (-) and give-back (+), with
    the balance after it. One entry per (credit, reference): the same cause never books twice."""

    store_credit = models.ForeignKey(StoreCredit, on_delete=models.PROTECT,
                                     related_name="entries")
    kind = models.CharField(_("kind"), max_length=10, choices=StoreCreditEntryKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    balance_after = models.DecimalField(_("balance after"), max_digits=12, decimal_places=2)
    reference = models.CharField(_("reference"), max_length=200)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("order"))
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="store_credit_entries")
    actor = models.CharField(_("actor"), max_length=100)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("store credit entry")
        verbose_name_plural = _("store credit entries")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["store_credit", "reference"],
                                    name="store_credit_entry_once"),
            models.CheckConstraint(condition=~Q(amount=0), name="store_credit_entry_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0),
                                   name="store_credit_entry_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class Refund(ConcurrentTransitionMixin, models.Model):
    """Money given back for returned goods: one row per way the money moves (`route`), so a
    refund split over two payments is two rows. `reference` names the cause (the return); the
    idempotency key, unique, makes issuing the same part twice find the first row.

    A refund through the PSP is written `pending` with an attempt (kind ``psp_refund``) and
    becomes `issued` once the PSP said yes; cash at the till, store credit and a credit against
    an open invoice are issued in the transaction that writes them."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds",
                              verbose_name=_("order"))
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="refunds", verbose_name=_("payment"))
    method = models.CharField(_("method"), max_length=20, choices=RefundMethod.choices)
    route = models.CharField(_("paid out as"), max_length=20, choices=RefundRoute.choices)
    status = FSMField(_("status"), default=RefundStatus.PENDING, choices=RefundStatus.choices,
                      protected=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    reference = models.CharField(_("reference"), max_length=100, db_index=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    store_credit = models.ForeignKey(StoreCredit, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="refunds",
                                     verbose_name=_("store credit"))
    location_code = models.CharField(_("paid out at"), max_length=50, blank=True, default="")
    # Sent to the PSP; empty means `idempotency_key` (a retry after a refusal needs a fresh one).
    psp_idempotency_key = models.CharField(_("PSP idempotency key"), max_length=250,
                                           blank=True, default="")
    psp_refund_reference = models.CharField(_("PSP refund reference"), max_length=200,
                                            blank=True, default="")
    failure = models.CharField(_("why it failed"), max_length=2000, blank=True, default="")
    actor = models.CharField(_("actor"), max_length=100)
    created_at = models.DateTimeField(_("created"))
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=~Q(route=RefundRoute.STORE_CREDIT)
                                   | Q(store_credit__isnull=False),
                                   name="refund_store_credit_named"),
        ]

    def __str__(self) -> str:
        return f"{self.route} {self.amount} {self.currency} ({self.status})"

    @property
    def psp_key(self) -> str:
        return self.psp_idempotency_key or self.idempotency_key

    @transition(field=status, source=RefundStatus.PENDING, target=RefundStatus.ISSUED)
    def issue(self) -> None: ...

    @transition(field=status, source=RefundStatus.PENDING, target=RefundStatus.FAILED)
    def fail(self) -> None: ...

    # Retried by hand from the cockpit after the PSP refused (a fresh key is sent then).
    @transition(field=status, source=RefundStatus.FAILED, target=RefundStatus.PENDING)
    def retry(self) -> None: ...
