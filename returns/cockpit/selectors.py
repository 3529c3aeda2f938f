"""Reads behind the take-back screens: the orders a query at the counter finds, what of each can
still come back and until when, and the returns of the stores a user works in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fulfillment.cockpit.scope import stores_of
from fulfillment.cockpit.selectors import QR_PREFIX
from inventory.models import Location
from oms.orders.models import Order, OrderLine
from payments.models import Refund
from payments.states import RefundRoute
from returns.eligibility import policy_for, returnable_units, window_end
from returns.models import Return, ReturnLine

# An e-mail address finds the customer's newest orders; older ones are rarely in the window.
MAX_ORDERS = 20
# A return number is "<order>-R<n>": typed at the counter, it finds its order.
RETURN_NUMBER = re.compile(r"^(?P<order>.+)-R\d+$", re.IGNORECASE)

User = AbstractBaseUser | AnonymousUser


def order_numbers_in(query: str) -> list[str]:
    """The order numbers a query may name: the text itself, the order in the QR code of a
    pickup confirmation (`OMS-PICKUP:<order>:<code>`, fulfillment.pickup_codes.qr_png) and the
    order of a return number."""
    query = query.strip()
    if query.upper().startswith(QR_PREFIX):
        number, _sep, _code = query[len(QR_PREFIX):].partition(":")
        return [number.strip()] if number.strip() else []
    numbers = [query]
    match = RETURN_NUMBER.match(query)
    if match:
        numbers.append(match["order"])
    return numbers


def _order_lines() -> QuerySet[OrderLine]:
    # Product names for the screen, not their media and attributes (large JSON documents).
    return (OrderLine.objects.select_related("product")
            .defer("product__media", "product__attributes").order_by("position"))


def orders_matching(query: str) -> list[Order]:
    """Orders of every channel (a store takes back what was bought anywhere) by number, QR
    code or the customer's e-mail address, newest first."""
    query = query.strip()
    if not query:
        return []
    orders = Order.objects.select_related("customer").defer("sourcing").prefetch_related(
        Prefetch("lines", queryset=_order_lines()))
    if "@" in query and not query.upper().startswith(QR_PREFIX):
        found = orders.filter(customer__email=query.lower())  # stored lower-cased
    else:
        found = orders.filter(number__in=order_numbers_in(query))
    return list(found.order_by("-created_at", "-pk")[:MAX_ORDERS])


@dataclass(frozen=True)
class LineToReturn:
    line: OrderLine
    returnable: int


@dataclass(frozen=True)
class OrderToReturn:
    """An order as the counter sees it: per line what can still come back, and the window."""

    order: Order
    lines: list[LineToReturn]
    window_ends_at: datetime | None  # None: nothing reached the customer yet

    @property
    def window_closed(self) -> bool:
        return self.window_ends_at is not None and timezone.now() > self.window_ends_at

    @property
    def returnable_units(self) -> int:
        return sum(ln.returnable for ln in self.lines)


def order_to_return(order: Order) -> OrderToReturn:
    left = returnable_units(order)
    return OrderToReturn(
        order=order,
        lines=[LineToReturn(line=ln, returnable=max(left.get(ln.product_id, 0), 0))
               for ln in order.lines.all()],
        window_ends_at=window_end(order, policy_for(order.channel)))


def order_for_take_back(pk: int) -> Order:
    """Any order (every channel comes back in any store); 404 if there is none."""
    return get_object_or_404(
        Order.objects.select_related("customer").defer("sourcing")
        .prefetch_related(Prefetch("lines", queryset=_order_lines())), pk=pk)


# --- the stores' returns ----------------------------------------------------------------------
def returns_of(user: User) -> QuerySet[Return]:
    """Returns taken back (or to be taken back) at the user's stores; every return for a
    superuser."""
    own = stores_of(user)
    returns = Return.objects.all()
    return returns if own is None else returns.filter(location__in=own)


def store_returns(store: Location, status: str | None = None) -> QuerySet[Return]:
    """A store's returns, newest first, with order, customer and units for the list."""
    returns = Return.objects.filter(location=store)
    if status:
        returns = returns.filter(status=status)
    return (returns.select_related("order", "order__customer", "location")
            .defer("order__sourcing")
            .annotate(announced_units=Sum("lines__quantity"),
                      received_units=Sum("lines__received"))
            .order_by("-created_at", "-pk"))


def return_of(user: User, pk: int) -> Return:
    """One of the user's stores' returns with everything its receipt shows; another store's
    return is a 404 like any unknown id."""
    lines = (ReturnLine.objects.select_related("order_line__product", "reason")
             .defer("order_line__product__media", "order_line__product__attributes")
             .order_by("pk"))
    return get_object_or_404(
        returns_of(user).select_related("order", "order__customer", "location",
                                        "exchange_order")
        .defer("order__sourcing").prefetch_related(Prefetch("lines", queryset=lines)), pk=pk)


def refunds_of(ret: Return) -> list[Refund]:
    """The refunds paid out for a return (one per way the money moved), store credit joined."""
    return list(Refund.objects.filter(order_id=ret.order_id, reference=ret.number)
                .select_related("store_credit").order_by("pk"))


def store_credit_codes(refunds: list[Refund]) -> list[str]:
    return [r.store_credit.code for r in refunds
            if r.route == RefundRoute.STORE_CREDIT and r.store_credit is not None]
