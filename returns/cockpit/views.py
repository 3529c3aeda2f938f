"""The take-back screens, under /cockpit/returns/ (oms/urls.py). Each view finds its rows through
the user's stores (another store's return is a 404), calls at most one use case, and shows a
refusal of the services (`DomainError`) on the form, with nothing changed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import TextChoices
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from fulfillment.cockpit.scope import cockpit_stores, store_of
from fulfillment.cockpit.views import cockpit
from inventory.models import Location
from oms.core.errors import DomainError
from payments.states import RefundMethod
from returns.api.views import refund_status
from returns.cockpit.forms import ReceiveForm, SearchForm, TakeBackForm
from returns.cockpit.selectors import (
    order_for_take_back,
    order_to_return,
    orders_matching,
    refunds_of,
    return_of,
    store_credit_codes,
    store_returns,
)
from returns.cockpit.take_back import return_take_back
from returns.models import Return
from returns.services import Receipt, return_receive
from returns.states import ReturnStatus

VIEW = "returns.view_return"
TAKE_BACK = "returns.add_return"
RECEIVE = "returns.change_return"
PAGE_SIZE = 50
# Stored on a refused line (data, not a screen text): the customer did not bring it along.
NOT_HANDED_OVER = "not handed over at the counter"
# The refund's state as returns.api.views.refund_status names it, for people.
REFUND_STATUS_LABELS = {
    "estimated": gettext_lazy("estimated, paid once the goods are received"),
    "pending": gettext_lazy("on its way to the payment provider"),
    "issued": gettext_lazy("paid out"),
    "failed": gettext_lazy("failed: customer service follows up"),
    "none": gettext_lazy("nothing to refund"),
}


def _label(choices: type[TextChoices], value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _render(request: HttpRequest, template: str, title: str, tab: str,
            **context: Any) -> HttpResponse:
    """`tab`: the cockpit's tab to mark ("take_back" or "list", cockpit/base.html)."""
    return render(request, template, {**admin.site.each_context(request), "title": title,
                                      "now": timezone.now(), "returns_tab": tab, **context})


def _actor(request: HttpRequest) -> str:
    """Who did it, as the pickup screens name store staff in the audit trail."""
    return f"staff:{request.user.get_username()}"


def _person(actor: str) -> str:
    """The name on a receipt: "staff:mia" is mia; a till's client name stays as it is."""
    kind, _sep, name = actor.partition(":")
    return name if kind == "staff" and name else actor


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _store(request: HttpRequest) -> Location | None:
    """The store the user works at right now: the selector's choice (kept in the query
    string, or posted with a form), else their first store; 404 for a store not theirs."""
    return store_of(request.user, request.POST.get("store") or request.GET.get("store"))


def _stores_context(request: HttpRequest, store: Location | None) -> dict[str, Any]:
    return {"store": store, "stores": cockpit_stores(request.user)}


@cockpit(VIEW)
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """Find the order the customer brings back: by number, e-mail or the QR code of the
    pickup confirmation. Posted from the screen: a scanned QR code holds the pickup code, and
    e-mail addresses are personal data; neither belongs in URLs and access logs."""
    store = _store(request)
    data = request.POST if request.method == "POST" else request.GET
    form = SearchForm(data if "q" in data else None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    found = [order_to_return(order) for order in orders_matching(query)]
    return _render(request, "returns/cockpit/search.html", _("Take back"), "take_back", form=form,
                   query=query, found=found, **_stores_context(request, store))


@cockpit(VIEW)
@require_http_methods(["GET", "POST"])
def take_back(request: HttpRequest, pk: int) -> HttpResponse:
    store = _store(request)
    order = order_to_return(order_for_take_back(pk))
    form = TakeBackForm(request.POST or None, order=order)
    if request.method == "POST":
        _require(request, TAKE_BACK)
        if store is None:
            raise PermissionDenied  # works in no store: nowhere to take goods back
        if form.is_valid():
            try:
                ret = return_take_back(
                    order=order.order, store=store, lines=form.lines(),
                    refund_method=form.cleaned_data["refund_method"],
                    override_reason=form.window_override(), actor=_actor(request))
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(request, _("Return %(number)s is taken back.") % {
                    "number": ret.number})
                return redirect("returns_cockpit:detail", pk=ret.pk)
    return _render(request, "returns/cockpit/take_back.html",
                   _("Take back order %(number)s") % {"number": order.order.number}, "take_back",
                   form=form, found=order, can_take_back=request.user.has_perm(TAKE_BACK),
                   **_stores_context(request, store))


@cockpit(VIEW)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The return and its receipt, printable."""
    ret = return_of(request.user, pk)
    refunds = refunds_of(ret)
    status = refund_status(ret, refunds)
    return _render(request, "returns/cockpit/detail.html",
                   _("Return %(number)s") % {"number": ret.number}, "list", ret=ret,
                   refunds=refunds, refund_status=status,
                   refund_status_label=REFUND_STATUS_LABELS.get(status, status),
                   refund_method_label=_label(RefundMethod, ret.refund_method),
                   served_by=_person(ret.received_by or ret.placed_by),
                   store_credit_codes=store_credit_codes(refunds),
                   can_receive=ret.status == ReturnStatus.REQUESTED
                   and request.user.has_perm(RECEIVE))


@cockpit(VIEW)
@require_http_methods(["GET", "POST"])
def receive(request: HttpRequest, pk: int) -> HttpResponse:
    """A return announced for the store (in store or sent here): the customer hands the goods
    over, staff count them and the money goes back."""
    ret = return_of(request.user, pk)
    if ret.status != ReturnStatus.REQUESTED:
        messages.info(request, _("Return %(number)s is %(status)s.") % {
            "number": ret.number, "status": ret.get_status_display()})
        return redirect("returns_cockpit:detail", pk=pk)
    form = ReceiveForm(request.POST or None, ret=ret)
    if request.method == "POST":
        _require(request, RECEIVE)
        if form.is_valid():
            received = form.received()
            try:
                ret = return_receive(ret=ret, actor=_actor(request), receipt=Receipt(
                    lines=received,
                    refused={line.sku: NOT_HANDED_OVER for line in form.announced
                             if line.sku not in received},
                    refund_method=form.cleaned_data["refund_method"]))
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(request, _("Return %(number)s is received.") % {
                    "number": ret.number})
                return redirect("returns_cockpit:detail", pk=pk)
    return _render(request, "returns/cockpit/receive.html",
                   _("Receive return %(number)s") % {"number": ret.number}, "list", ret=ret,
                   form=form, can_receive=request.user.has_perm(RECEIVE))


@cockpit(VIEW)
def returns_list(request: HttpRequest) -> HttpResponse:
    store = _store(request)
    status = request.GET.get("status", "")
    if status not in ReturnStatus.values:
        status = ""
    returns = store_returns(store, status) if store else Return.objects.none()
    page = Paginator(returns, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "returns/cockpit/list.html", _("Returns"), "list", page=page,
                   status=status, statuses=ReturnStatus.choices,
                   take_back_url=_with_store(reverse("returns_cockpit:search"), store),
                   **_stores_context(request, store))


def _with_store(url: str, store: Location | None) -> str:
    return f"{url}?{urlencode({'store': store.code})}" if store else url
