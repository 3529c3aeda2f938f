"""Reads of the finance cockpit's screens (the API's reads are finance.selectors): the open
items as filtered, their ageing, the bank transactions waiting for a match, dunning by day and
the collection list, and the trial balance laid out for reading."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from finance.models import BankTransaction, DunningLevel, DunningNotice, OpenItem
from finance.states import SETTLEABLE, BankTransactionStatus
from ledger.selectors import AccountBalance, trial_balance

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)
# What an item still asks for (OpenItem.open_amount, in SQL).
OPEN_AMOUNT = F("amount") + F("fees") - F("paid") - F("credited") - F("written_off")
# The open items list's status filter beyond the statuses themselves: its default shows what
# finance works on, the items money is still owed for.
OWED = "owed"
ALL = "all"


# --- open items -------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenItemFilter:
    status: str = OWED  # OWED, ALL or an OpenItemStatus
    email: str = ""  # part of the customer's e-mail address
    overdue_days: int | None = None  # at least this many days past the due date
    dunning_level: int | None = None
    collection: bool = False  # only items on the collection list


def _owed() -> Q:
    return Q(status__in=SETTLEABLE, open__gt=0)


def open_items_filtered(filters: OpenItemFilter, *, today: date) -> QuerySet[OpenItem]:
    """The items the filters leave, the longest overdue first (then as invoiced)."""
    items = OpenItem.objects.select_related("order", "customer").annotate(
        open=OPEN_AMOUNT)
    if filters.status == OWED:
        items = items.filter(_owed())
    elif filters.status != ALL:
        items = items.filter(status=filters.status)
    if filters.email:
        items = items.filter(customer__email__icontains=filters.email)
    if filters.overdue_days is not None:
        # Past the due date by the calendar, whether or not the sweep has marked it yet; only
        # money still owed can be overdue.
        items = items.filter(_owed(), due_date__lte=today - timedelta(days=filters.overdue_days),
                             due_date__lt=today)
    if filters.dunning_level is not None:
        items = items.filter(dunning_level=filters.dunning_level)
    if filters.collection:
        items = items.filter(for_collection=True)
    return items.order_by("due_date", "pk")


@dataclass(frozen=True)
class AgeingBucket:
    key: str
    label: str
    count: int
    amount: Decimal
    overdue: bool
    # The open items list's "at least N days overdue" filter that starts at this bucket.
    from_days: int | None


# (key, first day overdue, last day overdue); None: open-ended.
BUCKETS: list[tuple[str, int | None, int | None]] = [
    ("not_due", None, 0), ("1_30", 1, 30), ("31_60", 31, 60), ("61_90", 61, 90),
    ("over_90", 91, None)]


def _bucket_label(key: str) -> str:
    # An en dash between the days, as the label is printed.
    return {"not_due": _("not due"), "1_30": _("1–30 days"),  # noqa: RUF001
            "31_60": _("31–60 days"), "61_90": _("61–90 days"),  # noqa: RUF001
            "over_90": _("over 90 days")}[key]


def _in_bucket(today: date, first: int | None, last: int | None) -> Q:
    """Items `first` to `last` days past their due date (today - due date)."""
    q = Q()
    if first is not None:
        q &= Q(due_date__lte=today - timedelta(days=first))
    if last is not None:
        q &= Q(due_date__gte=today - timedelta(days=last))
    return q


def ageing(*, today: date) -> dict[str, list[AgeingBucket]]:
    """The amounts still owed per currency and bucket of days past the due date (disputed
    items included: the money is owed until the dispute is settled). One aggregate query."""
    aggregates = {}
    for key, first, last in BUCKETS:
        where = _in_bucket(today, first, last)
        aggregates[f"{key}__amount"] = Sum("open", filter=where, default=ZERO,
                                           output_field=MONEY)
        aggregates[f"{key}__count"] = Count("pk", filter=where)
    rows = (OpenItem.objects.annotate(open=OPEN_AMOUNT).filter(_owed())
            .values("currency").annotate(**aggregates).order_by("currency"))
    return {row["currency"]: [
        AgeingBucket(key=key, label=_bucket_label(key), count=row[f"{key}__count"],
                     amount=row[f"{key}__amount"], overdue=first is not None,
                     from_days=first)
        for key, first, _last in BUCKETS] for row in rows}


# --- bank transactions ------------------------------------------------------------------------
def unmatched_transactions() -> QuerySet[BankTransaction]:
    """Waiting for a match by hand, oldest booking first (the partial index on booked_on)."""
    return BankTransaction.objects.filter(status=BankTransactionStatus.UNMATCHED) \
        .order_by("booked_on", "pk")


def unmatched_transaction(pk: int) -> BankTransaction:
    """An unmatched transaction (BankTransaction.DoesNotExist once it is matched)."""
    return unmatched_transactions().get(pk=pk)


def items_of_order(number: str) -> QuerySet[OpenItem]:
    """The open items of an order (several parcels: several invoices), as invoiced."""
    return OpenItem.objects.select_related("order", "customer").annotate(open=OPEN_AMOUNT) \
        .filter(order__number=number).order_by("pk")


# --- dunning ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DunningDay:
    day: date
    notices: int
    fees: Decimal
    for_collection: int


def dunning_days(*, limit: int = 30) -> list[DunningDay]:
    """Per day with notices (in the shop's time zone), newest first: how many, the fees
    charged, how many items went to the collection list."""
    rows = (DunningNotice.objects
            .annotate(day=TruncDate("sent_at", tzinfo=ZoneInfo(settings.TIME_ZONE)))
            .values("day")
            .annotate(notices=Count("pk"), fees=Sum("fee"),
                      collection=Count("pk", filter=Q(for_collection=True)))
            .order_by("-day")[:limit])
    return [DunningDay(r["day"], r["notices"], r["fees"], r["collection"]) for r in rows]


def dunning_notices(*, day: date | None = None) -> QuerySet[DunningNotice]:
    """The notices sent (of `day`, in the shop's time zone), newest first."""
    notices = DunningNotice.objects.select_related("open_item__order", "open_item__customer")
    if day is not None:
        zone = ZoneInfo(settings.TIME_ZONE)
        notices = notices.annotate(day=TruncDate("sent_at", tzinfo=zone)).filter(day=day)
    return notices.order_by("-sent_at", "-pk")


def collection_list() -> QuerySet[OpenItem]:
    """Items at the final dunning level with money still owed: for the collection agency."""
    return OpenItem.objects.select_related("order", "customer").annotate(open=OPEN_AMOUNT) \
        .filter(_owed(), for_collection=True).order_by("due_date", "pk")


def levels() -> list[DunningLevel]:
    return list(DunningLevel.objects.order_by("level"))


# --- trial balance ----------------------------------------------------------------------------
@dataclass(frozen=True)
class TrialBalanceRow:
    account: AccountBalance

    @property
    def balance(self) -> Decimal:
        """The balance as an amount, its side in `side`."""
        return abs(self.account.balance)

    @property
    def side(self) -> str:
        """"debit" or "credit": where the balance stands; "" when it is zero."""
        balance = self.account.balance
        return "debit" if balance > 0 else "credit" if balance < 0 else ""


@dataclass(frozen=True)
class TrialBalance:
    at: date
    rows: list[TrialBalanceRow]
    debit: Decimal
    credit: Decimal

    @property
    def balanced(self) -> bool:
        return self.debit == self.credit


def trial_balance_at(at: date) -> TrialBalance:
    """The ledger's trial balance at `at` (ledger.selectors.trial_balance), accounts without
    any booking left out; the totals over every account."""
    accounts = trial_balance(at=at)
    return TrialBalance(
        at=at, rows=[TrialBalanceRow(a) for a in accounts if a.debit or a.credit],
        debit=sum((a.debit for a in accounts), ZERO),
        credit=sum((a.credit for a in accounts), ZERO))

