"""The chart of accounts: which account number each posting role books to, in SKR03 (the
default) or SKR04 (`LEDGER_CHART`), each number overridable (`LEDGER_ACCOUNTS`, a JSON object
of role to number). Accounts are created on first use, so a chart changed before the first
booking simply takes effect; after it, the numbers stay as booked (change them in the admin
with the accountant, never silently).

Roles: ``receivables``; ``revenue:<rate>`` and ``vat:<rate>`` for the rates 19, 7 and 0;
``returns:<rate>`` (Erlösschmälerungen); ``shipping`` (shipping revenue, 19 %);
``psp_clearing:<method>`` for card and PayPal (the provider's money in transit until it pays
out); ``bank``; ``cash:<store code>``, one till account per store, numbered on from the chart's
cash account; ``store_credit`` and ``gift_cards`` (liabilities to customers);
``exchange_clearing`` (the value of returned goods paying an exchange order);
``write_offs``; ``dunning_fees``; for dropship suppliers ``cost_of_goods``,
``input_vat:<rate>`` and ``payables``."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger.models import Account, AccountKind

K = AccountKind


@dataclass(frozen=True)
class Default:
    skr03: str
    skr04: str
    name: str
    kind: str


DEFAULTS: dict[str, Default] = {
    "receivables": Default("1400", "1200", "Forderungen aus Lieferungen und Leistungen", K.ASSET),
    "revenue:19": Default("8400", "4400", "Erlöse 19 % USt", K.REVENUE),
    "revenue:7": Default("8300", "4300", "Erlöse 7 % USt", K.REVENUE),
    "revenue:0": Default("8100", "4100", "Steuerfreie Umsätze", K.REVENUE),
    "vat:19": Default("1776", "3806", "Umsatzsteuer 19 %", K.LIABILITY),
    "vat:7": Default("1771", "3801", "Umsatzsteuer 7 %", K.LIABILITY),
    "returns:19": Default("8720", "4720", "Erlösschmälerungen 19 % USt", K.REVENUE),
    "returns:7": Default("8710", "4710", "Erlösschmälerungen 7 % USt", K.REVENUE),
    "returns:0": Default("8700", "4700", "Erlösschmälerungen", K.REVENUE),
    "shipping": Default("8401", "4401", "Erlöse Versand 19 % USt", K.REVENUE),
    "psp_clearing:card": Default("1361", "1461", "Geldtransit Kartenzahlungen", K.ASSET),
    "psp_clearing:paypal": Default("1362", "1462", "Geldtransit PayPal", K.ASSET),
    "bank": Default("1200", "1800", "Bank", K.ASSET),
    "cash": Default("1000", "1600", "Kasse", K.ASSET),
    "store_credit": Default("1700", "3500", "Verbindlichkeiten aus Gutschriften (Store Credit)",
                            K.LIABILITY),
    "gift_cards": Default("1701", "3501", "Verbindlichkeiten aus Geschenkgutscheinen",
                          K.LIABILITY),
    "exchange_clearing": Default("1590", "1370", "Durchlaufende Posten (Umtausch)", K.ASSET),
    # Dropship suppliers (suppliers app): what a supplier's shipment costs us, its input VAT,
    # and what we owe the supplier until finance pays it.
    "cost_of_goods": Default("3400", "5400", "Wareneingang 19 % Vorsteuer", K.EXPENSE),
    "input_vat:19": Default("1576", "1406", "Abziehbare Vorsteuer 19 %", K.ASSET),
    "input_vat:7": Default("1571", "1401", "Abziehbare Vorsteuer 7 %", K.ASSET),
    "payables": Default("1600", "3300", "Verbindlichkeiten aus Lieferungen und Leistungen",
                        K.LIABILITY),
    "write_offs": Default("2400", "6930", "Forderungsverluste", K.EXPENSE),
    "dunning_fees": Default("2650", "7100", "Mahngebühren (sonstige Erträge)", K.REVENUE),
}
CASH_PREFIX = "cash:"
MAX_TILLS = 99


def chart() -> str:
    name = str(settings.LEDGER_CHART).upper()
    if name not in ("SKR03", "SKR04"):
        raise ImproperlyConfigured(f"LEDGER_CHART must be SKR03 or SKR04, not {name!r}")
    return name


def _overrides() -> dict[str, str]:
    raw = settings.LEDGER_ACCOUNTS
    overrides = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
    return {str(role): str(number) for role, number in overrides.items()}


def _number(default: Default) -> str:
    return default.skr03 if chart() == "SKR03" else default.skr04


def _new(role: str) -> Account:
    overrides = _overrides()
    base_role = CASH_PREFIX.rstrip(":") if role.startswith(CASH_PREFIX) else role
    default = DEFAULTS.get(base_role)
    if default is None:
        raise ImproperlyConfigured(f"no account for the posting role {role!r}")
    name = default.name
    if role in overrides:
        number = overrides[role]
    elif role.startswith(CASH_PREFIX):
        # One till account per store, numbered on from the cash account: Kasse ST-BER 1001.
        base = int(overrides.get("cash", _number(default)))
        taken = set(Account.objects.filter(role__startswith=CASH_PREFIX)
                    .values_list("number", flat=True))
        number = next((str(base + n) for n in range(1, MAX_TILLS + 1)
                       if str(base + n) not in taken), "")
        if not number:
            raise ImproperlyConfigured("more store tills than cash accounts: set "
                                       f"LEDGER_ACCOUNTS[{role!r}]")
        name = f"{name} {role.removeprefix(CASH_PREFIX)}"
    else:
        number = _number(default)
    return Account(number=number, name=name, role=role, kind=default.kind,
                   created_at=timezone.now())


def account_for(role: str) -> Account:
    """The account of a posting role, created from the chart on first use."""
    account = Account.objects.filter(role=role).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            new = _new(role)
            new.save()
            return new
    except IntegrityError:  # created meanwhile by a concurrent posting
        return Account.objects.get(role=role)


def accounts_for(roles: set[str]) -> dict[str, Account]:
    found = {a.role: a for a in Account.objects.filter(role__in=roles)}
    return {role: found.get(role) or account_for(role) for role in roles}
