"""Payment statuses and transition groups. Transitions are methods on `Payment` (models.py),
declared with django-fsm-2; only the services in `payments.services` call them.

The status summarises where the money is; the amounts (`captured_amount`, `refunded_amount`,
`voided_amount`) are the truth. A card or PayPal payment is authorized for the whole order and
captured in parts as shipments leave or pickups are handed over, so it may sit in
`partially_captured` for a while. The part of an authorization that will never be captured
(goods a customer did not collect) is released at the PSP (`voided_amount`); once nothing is left
open, a payment with nothing captured is `voided` and one captured in part is `captured`. A
pay-in-store payment the till will never collect is written off the same way, without the PSP.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    AUTHORIZED = "authorized", _("Authorized")
    PARTIALLY_CAPTURED = "partially_captured", _("Partially captured")
    CAPTURED = "captured", _("Captured")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    FAILED = "failed", _("Failed")
    CHARGEBACK = "chargeback", _("Chargeback")
    VOIDED = "voided", _("Voided")


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Card")
    PAYPAL = "paypal", _("PayPal")
    INVOICE = "invoice", _("Invoice")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    CASH = "cash", _("Cash")
    GIFT_CARD = "gift_card", _("Gift card")
    PAY_IN_STORE = "pay_in_store", _("Pay in store")
    STORE_CREDIT = "store_credit", _("Store credit")
    # The value of goods a customer brought back, paying the exchange order they took instead
    # (returns.exchange): recorded by us, never sent by a channel.
    RETURN_CREDIT = "return_credit", _("Value of returned goods")


class PspEventType(models.TextChoices):
    AUTHORIZED = "authorized", _("Authorized")
    CAPTURED = "captured", _("Captured")
    REFUNDED = "refunded", _("Refunded")
    FAILED = "failed", _("Failed")
    CHARGEBACK = "chargeback", _("Chargeback")


class PspEventOutcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    UNCHANGED = "unchanged", _("Already in that state")
    CAPTURE_CONFIRMED = "capture_confirmed", _("Confirmed a capture we made")
    OUT_OF_ORDER = "ignored_out_of_order", _("Ignored: older than the payment's status")
    REFUND_CONFIRMED = "refund_confirmed", _("Confirmed a refund we made")


class CaptureStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class CaptureSource(models.TextChoices):
    SHIPMENT = "shipment", _("Shipment left (captured by us)")
    PSP = "psp", _("Reported by the PSP")
    INTAKE = "intake", _("Captured when the order was placed")
    HANDOVER = "handover", _("Pickup handed over (captured by us)")
    STORE = "store", _("Paid at the till on collection")


class RefundMethod(models.TextChoices):
    """What the customer chose for a return (API.md, Returns)."""

    ORIGINAL = "original", _("Original payment")
    CASH = "cash", _("Cash at the till")
    STORE_CREDIT = "store_credit", _("Store credit")


class RefundRoute(models.TextChoices):
    """How the money of one refund actually moves."""

    PSP = "psp", _("Back to the card or PayPal account (PSP)")
    TILL = "till", _("Cash paid out at the till")
    STORE_CREDIT = "store_credit", _("Store credit")
    RECEIVABLE = "receivable", _("Credited against the open invoice")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ISSUED = "issued", _("Issued")
    FAILED = "failed", _("Failed")


class StoreCreditEntryKind(models.TextChoices):
    ISSUE = "issue", _("Issued for a return")
    REDEEM = "redeem", _("Paid an order")
    REFUND = "refund", _("Given back for returned goods")


class ReversalKind(models.TextChoices):
    REFUND = "refund", _("Refund of captured money")
    VOID = "void", _("Release of an authorization")


S = PaymentStatus
M = PaymentMethod
# Shown under the diagrams in docs/state-machines.md (manage.py state_diagrams).
RULES = {"Payment": __doc__, "Refund": """
A refund for returned goods is one row per way the money moves (`route`): cash at the till, a
store credit and a credit against an open invoice are `issued` in the transaction that writes
them; a card or PayPal refund is `pending` until the PSP says yes (through the attempt
mechanism, kind `psp_refund`), then `issued`, or `failed` once the PSP refused or the tries ran
out. A failed refund can be retried from the cockpit (`retry`), which puts it back to
`pending`.
"""}

# Captured as shipments leave (and pickups are handed over), through the PSP adapter, and given
# back through it when collected goods are not taken. Every other method is not captured by us:
# invoices and direct debits are collected by finance, cash and pay-in-store at the till (see
# `payment_collect_in_store`), gift cards are redeemed by the channel.
CAPTURED_ON_SHIPMENT = frozenset({M.CARD, M.PAYPAL})
# Methods that secure an order without money having moved yet: the invoice is collected later,
# pay-in-store at the handover.
SECURED_WITHOUT_PSP = frozenset({M.INVOICE, M.PAY_IN_STORE, M.STORE_CREDIT, M.RETURN_CREDIT})
# Money is promised or has moved: the order may be fulfilled.
SECURED_STATUSES = frozenset({S.AUTHORIZED, S.PARTIALLY_CAPTURED, S.CAPTURED,
                              S.PARTIALLY_REFUNDED})
# What can still be captured (an authorization with money left on it) ...
CAPTURABLE = [S.AUTHORIZED, S.PARTIALLY_CAPTURED, S.PARTIALLY_REFUNDED]
# ... or released instead, when the goods it was meant to pay for are not taken.
VOIDABLE = CAPTURABLE
# A pay-in-store payment is `pending` until the till takes money: the part still open when goods
# are not collected is written off (recorded as voided, without the PSP).
WRITE_OFF_SOURCES = [S.PENDING, *VOIDABLE]
# Money may arrive (a capture) from these ...
CAPTURE_SOURCES = [S.PENDING, S.FAILED, *CAPTURABLE]
# ... and leave again (a refund, a chargeback) from these.
REFUND_SOURCES = [S.PARTIALLY_CAPTURED, S.CAPTURED, S.PARTIALLY_REFUNDED]
CHARGEBACK_SOURCES = [*REFUND_SOURCES, S.REFUNDED]
