"""Store credit: issued for returned goods, spent later as the payment method ``store_credit``.

The balance lives on the `StoreCredit` row and changes only here, under that row's lock, with an
entry per change (`StoreCreditEntry`, unique per credit and reference, so the same cause never
books twice). PostgreSQL keeps the balance at zero or above: two orders spending the same
credit at once queue on the row lock, and the second finds what the first left.

Codes are bearer values like a gift card: 12 characters from a 32-letter alphabet (60 bits)
drawn with `secrets`, so they cannot be guessed; an unknown code and one in another currency
answer the same 422, so a caller learns nothing about codes that are not theirs.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oms.core.errors import Unprocessable
from oms.orders.models import Customer, Order
from payments.models import Payment, StoreCredit, StoreCreditEntry
from payments.states import StoreCreditEntryKind

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, no 1/I
K = StoreCreditEntryKind


def new_code() -> str:
    groups = ("".join(secrets.choice(ALPHABET) for _i in range(4)) for _g in range(3))
    return "SC-" + "-".join(groups)


def _book(credit: StoreCredit, *, kind: str, amount: Decimal, reference: str, actor: str,
          order: Order | None = None, payment: Payment | None = None) -> StoreCreditEntry:
    """Change the locked credit's balance by `amount` (signed) and write the entry."""
    now = timezone.now()
    credit.balance += amount
    credit.updated_at = now
    credit.save(update_fields=["balance", "updated_at"])
    return StoreCreditEntry.objects.create(
        store_credit=credit, kind=kind, amount=amount, balance_after=credit.balance,
        reference=reference, order=order, payment=payment, actor=actor, at=now)


def store_credit_issue(*, amount: Decimal, currency: str, customer: Customer | None,
                       reference: str, actor: str, order: Order | None = None) -> StoreCredit:
    """A new store credit worth `amount` (call inside the caller's transaction)."""
    now = timezone.now()
    for _try in range(5):
        try:
            with transaction.atomic():
                credit = StoreCredit.objects.create(code=new_code(), currency=currency,
                                                    customer=customer, created_at=now,
                                                    updated_at=now)
            break
        except IntegrityError:  # a code drawn twice in 2^60: draw again
            continue
    else:  # pragma: no cover - five collisions in a row mean a broken random source
        raise RuntimeError("could not draw a unique store credit code")
    _book(credit, kind=K.ISSUE, amount=amount, reference=reference, actor=actor, order=order)
    return credit


def _unknown(code: str) -> Unprocessable:
    return Unprocessable(_("No store credit with this code can pay this order."),
                         code="store_credit_unusable", attr="payment.store_credit_code")


def store_credit_redeem(*, code: str, payment: Payment, order: Order,
                        actor: str) -> StoreCreditEntry | None:
    """Spend `payment.amount` of the credit `code` on the order (intake, inside its
    transaction). 422 ``store_credit_unusable`` for an unknown code or another currency,
    422 ``store_credit_insufficient`` when the balance does not cover it. An order worth
    nothing spends nothing: no entry (None)."""
    credit = StoreCredit.objects.select_for_update().filter(code=code.upper()).first()
    if credit is None or credit.currency != payment.currency:
        raise _unknown(code)
    if credit.balance < payment.amount:
        raise Unprocessable(
            _("The store credit holds %(balance)s %(currency)s, less than %(amount)s.")
            % {"balance": credit.balance, "currency": credit.currency,
               "amount": payment.amount},
            code="store_credit_insufficient", attr="payment.amount",
            extra={"balance": str(credit.balance)})
    if payment.amount == 0:
        # The history has no zero entries (a database CHECK): nothing moved, nothing to book.
        return None
    return _book(credit, kind=K.REDEEM, amount=-payment.amount,
                 reference=f"order:{order.number}:payment:{payment.pk}", actor=actor,
                 order=order, payment=payment)


def store_credit_give_back(*, payment: Payment, amount: Decimal, reference: str,
                           actor: str) -> StoreCredit:
    """Put `amount` back on the credit that paid `payment` (a refund to the original store
    credit payment); booking the same reference again changes nothing."""
    spent = (StoreCreditEntry.objects.filter(payment=payment, kind=K.REDEEM)
             .values_list("store_credit_id", flat=True).first())
    credit = StoreCredit.objects.select_for_update().get(pk=spent)
    if not StoreCreditEntry.objects.filter(store_credit=credit, reference=reference).exists():
        _book(credit, kind=K.REFUND, amount=amount, reference=reference, actor=actor,
              order=payment.order, payment=payment)
    return credit


def store_credit_get(*, code: str) -> StoreCredit | None:
    return StoreCredit.objects.filter(code=code.upper()).first()

