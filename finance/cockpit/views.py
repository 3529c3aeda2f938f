"""The finance cockpit, under /cockpit/finance/ (oms/urls.py): open items with their ageing,
bank transactions waiting for a match, dunning, the trial balance and the ledger's exports.

Finance staff only (finance.cockpit.access): others are sent to the login form, or get 403.
Each view reads through `finance.cockpit.selectors`, calls at most one service, and shows a
service's refusal (`DomainError`) on the form it came from, with nothing changed. Every action
is a POST from a page that shows what it will do (the confirmation), with Django's CSRF check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from finance.cockpit.access import CHANGE_ITEMS, LEDGER, MATCH, RUN_DUNNING, VIEW
from finance.cockpit.charts import ageing_chart
from finance.cockpit.forms import (
    ConfirmForm,
    DayForm,
    ExportForm,
    MatchForm,
    OpenItemFilterForm,
    OrderSearchForm,
    ReasonForm,
    TrialBalanceForm,
)
from finance.cockpit.selectors import (
    ageing,
    collection_list,
    dunning_days,
    dunning_notices,
    items_of_order,
    levels,
    open_items_filtered,
    trial_balance_at,
    unmatched_transaction,
    unmatched_transactions,
)
from finance.models import BankTransaction, OpenItem
from finance.services import (
    bank_transaction_match,
    dunning_sweep,
    open_item_dispute,
    open_item_undispute,
    open_item_write_off,
)
from finance.states import DISPUTABLE, SETTLEABLE, OpenItemStatus
from fulfillment.cockpit.views import cockpit
from ledger.exports import ledger_export
from oms.core.errors import DomainError, InvalidInput

PAGE_SIZE = 50
# The dunning screen shows the start of the collection list; the open items list (filtered to
# the collection list) has all of it.
COLLECTION_SHOWN = 20
# The open items list's filters, carried through an action and back (only these names).
FILTER_PARAMS = ("status", "email", "overdue_days", "dunning_level", "collection", "page")


def _render(request: HttpRequest, template: str, title: str, tab: str,
            **context: Any) -> HttpResponse:
    """`tab`: the finance screen to mark in the tabs (finance/cockpit/base.html)."""
    return render(request, template, {**admin.site.each_context(request), "title": title,
                                      "now": timezone.now(), "finance_tab": tab, **context})


def _actor(request: HttpRequest) -> str:
    """Who did it, as the other cockpit screens name staff in the history."""
    return f"staff:{request.user.get_username()}"


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _page(request: HttpRequest, rows: Any) -> Page:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _money(amount: Any, currency: str) -> str:
    return f"{formats.number_format(amount, 2, use_l10n=True, force_grouping=True)} {currency}"


# --- open items -------------------------------------------------------------------------------
def _filters_of(query: QueryDict) -> str:
    """The list's query string, only its own parameters: where an action returns to."""
    kept = QueryDict(mutable=True)
    for name in FILTER_PARAMS:
        if query.get(name):
            kept[name] = query[name]
    return kept.urlencode()


def _back_to_list(query: str) -> str:
    url = reverse("finance_cockpit:open_items")
    return f"{url}?{query}" if query else url


@dataclass(frozen=True)
class ItemRow:
    item: OpenItem
    days_overdue: int  # by the calendar; 0 or less: not yet due

    @property
    def can_dispute(self) -> bool:
        return self.item.status in DISPUTABLE

    @property
    def can_undispute(self) -> bool:
        return self.item.status == OpenItemStatus.DISPUTED

    @property
    def can_write_off(self) -> bool:
        return self.item.status in SETTLEABLE and self.item.open_amount > 0


@cockpit(VIEW)
def open_items(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = OpenItemFilterForm(request.GET or None)
    page = _page(request, open_items_filtered(form.filters(), today=today))
    charts = [(currency, buckets, ageing_chart(buckets, currency))
              for currency, buckets in ageing(today=today).items()]
    return _render(request, "finance/cockpit/open_items.html", _("Open items"), "open_items",
                   form=form, page=page, charts=charts,
                   rows=[ItemRow(item, (today - item.due_date).days) for item in page],
                   back=_filters_of(request.GET), can_change=request.user.has_perm(CHANGE_ITEMS))


def _item(pk: int) -> OpenItem:
    return get_object_or_404(OpenItem.objects.select_related("order", "customer"), pk=pk)


def _item_action(request: HttpRequest, item: OpenItem, *, title: str, form_class: type,
                 allowed: bool, run: Any, done: str, intro: str, button: str) -> HttpResponse:
    """The confirmation page of an action on one item (GET) and the action (POST): `run(item,
    form)` calls the service; its refusal is shown on the form and nothing changes. `allowed`:
    whether the item's state offers the action at all (the service decides in the end)."""
    back = _filters_of(QueryDict(request.POST.get("back") or request.GET.get("back", "")))
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        _require(request, CHANGE_ITEMS)
        if form.is_valid():
            try:
                item = run(item, form)
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(request, done % {"order": item.order.number})
                return redirect(_back_to_list(back))
    return _render(request, "finance/cockpit/item_action.html", title, "open_items",
                   item=item, form=form, back=back, intro=intro, button=button,
                   allowed=allowed, can_change=request.user.has_perm(CHANGE_ITEMS),
                   list_url=_back_to_list(back))


@cockpit(VIEW)
@require_http_methods(["GET", "POST"])
def item_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(pk)
    return _item_action(
        request, item, title=_("Dispute an open item"), form_class=ReasonForm,
        allowed=item.status in DISPUTABLE,
        run=lambda item, form: open_item_dispute(item=item, reason=form.cleaned_data["reason"],
                                                 actor=_actor(request)),
        done=_("The open item of order %(order)s is disputed: dunning pauses."),
        intro=_("The customer contests the invoice. Dunning pauses until the dispute is "
                "resolved; money coming in still counts."),
        button=_("Dispute"))


@cockpit(VIEW)
@require_http_methods(["GET", "POST"])
def item_undispute(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(pk)
    return _item_action(
        request, item, title=_("Resolve a dispute"), form_class=ConfirmForm,
        allowed=item.status == OpenItemStatus.DISPUTED,
        run=lambda item, form: open_item_undispute(item=item, actor=_actor(request)),
        done=_("The dispute of order %(order)s is resolved: dunning goes on."),
        intro=_("The item returns to what its amounts and due date say, and dunning goes on "
                "from the level it had reached."),
        button=_("Resolve the dispute"))


@cockpit(VIEW)
@require_http_methods(["GET", "POST"])
def item_write_off(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(pk)
    return _item_action(
        request, item, title=_("Write off an open item"), form_class=ReasonForm,
        allowed=item.status in SETTLEABLE and item.open_amount > 0,
        run=lambda item, form: open_item_write_off(
            item=item, reason=form.cleaned_data["reason"], actor=_actor(request)),
        done=_("What order %(order)s still owed is written off."),
        intro=_("%(amount)s still owed is given up: booked as a bad debt, the VAT in it "
                "corrected. Dunning stops. This cannot be undone.")
        % {"amount": _money(item.open_amount, item.currency)},
        button=_("Write off"))


# --- bank transactions ------------------------------------------------------------------------
@cockpit(VIEW)
def bank(request: HttpRequest) -> HttpResponse:
    page = _page(request, unmatched_transactions())
    return _render(request, "finance/cockpit/bank.html", _("Unmatched bank transactions"),
                   "bank", page=page, can_match=request.user.has_perm(MATCH))


@cockpit(VIEW)
@require_http_methods(["GET", "POST"])
def bank_match(request: HttpRequest, pk: int) -> HttpResponse:
    """Find the order the money is for, choose its item, match. The page is the confirmation:
    it shows the transaction and what the order still owes before anything is posted."""
    try:
        txn = unmatched_transaction(pk)
    except BankTransaction.DoesNotExist:
        get_object_or_404(BankTransaction, pk=pk)  # unknown: 404; else matched meanwhile
        messages.info(request, _("This bank transaction is matched already."))
        return redirect("finance_cockpit:bank")
    data = request.POST if request.method == "POST" else request.GET
    search = OrderSearchForm(data if "order" in data else None)
    number = search.cleaned_data["order"] if search.is_valid() else ""
    items = items_of_order(number) if number else OpenItem.objects.none()
    form = MatchForm(request.POST if request.method == "POST" else None, items=items,
                     initial={"order": number})
    if request.method == "POST":
        _require(request, MATCH)
        if form.is_valid():
            try:
                txn = bank_transaction_match(transaction=txn,
                                             open_item=form.cleaned_data["open_item"],
                                             actor=_actor(request))
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(request, _(
                    "Bank transaction %(reference)s (%(amount)s) is matched to order "
                    "%(order)s.") % {"reference": txn.reference,
                                     "amount": _money(txn.amount, txn.currency),
                                     "order": form.cleaned_data["open_item"].order.number})
                return redirect("finance_cockpit:bank")
    return _render(request, "finance/cockpit/bank_match.html",
                   _("Match bank transaction %(reference)s") % {"reference": txn.reference},
                   "bank", txn=txn, search=search, form=form, number=number,
                   items=form.items, selected=str(form["open_item"].value() or ""),
                   can_match=request.user.has_perm(MATCH))


# --- dunning ----------------------------------------------------------------------------------
@cockpit(VIEW)
def dunning(request: HttpRequest) -> HttpResponse:
    picked = DayForm(request.GET if "day" in request.GET else None)
    day = picked.cleaned_data["day"] if picked.is_valid() else None
    page = _page(request, dunning_notices(day=day))
    collection = collection_list()
    return _render(request, "finance/cockpit/dunning.html", _("Dunning"), "dunning",
                   days=dunning_days(), day=day, page=page,
                   collection=collection[:COLLECTION_SHOWN],
                   collection_total=collection.count(), levels=levels(),
                   can_run=request.user.has_perm(RUN_DUNNING))


@cockpit(VIEW)
@require_POST
def dunning_run(request: HttpRequest) -> HttpResponse:
    """The beat's sweep, now: a second run right after finds nothing due (finance.services
    .dunning), so pressing the button twice sends nothing twice."""
    _require(request, RUN_DUNNING)
    report = dunning_sweep()
    if report.notices or report.overdue:
        messages.success(request, ngettext(
            "Dunning run: %(count)d notice sent", "Dunning run: %(count)d notices sent",
            report.notices) % {"count": report.notices} + " · " + ngettext(
            "%(count)d item fell due", "%(count)d items fell due", report.overdue)
            % {"count": report.overdue} + " · " + _("fees %(fees)s") % {
            "fees": formats.number_format(report.fees, 2, use_l10n=True)} + " · " + ngettext(
            "%(count)d item put on the collection list",
            "%(count)d items put on the collection list", report.for_collection)
            % {"count": report.for_collection})
    else:
        messages.info(request, _("Dunning run: no item was due for a dunning step."))
    if report.paused:
        messages.info(request, ngettext(
            "%(count)d item waits for a return to be received first.",
            "%(count)d items wait for a return to be received first.", report.paused)
            % {"count": report.paused})
    return redirect("finance_cockpit:dunning")


# --- ledger -----------------------------------------------------------------------------------
@cockpit(VIEW)
def trial_balance(request: HttpRequest) -> HttpResponse:
    _require(request, LEDGER)
    form = TrialBalanceForm(request.GET or None, initial={"at": timezone.localdate()})
    return _render(request, "finance/cockpit/trial_balance.html", _("Trial balance"),
                   "trial_balance", form=form, balance=trial_balance_at(form.day()))


@cockpit(VIEW)
def export(request: HttpRequest) -> HttpResponse:
    """The form, and with its fields filled in, the file: the ledger's own export
    (ledger.exports.ledger_export, as `GET /api/v1/ledger/export` streams it), streamed from
    a server-side cursor in constant memory."""
    _require(request, LEDGER)
    form = ExportForm(request.GET if "format" in request.GET else None)
    if form.is_valid():
        try:
            file = ledger_export(fmt=form.cleaned_data["format"],
                                 start=form.cleaned_data["from"], end=form.cleaned_data["to"])
        except InvalidInput as exc:
            for error in exc.errors():
                form.add_error(error["attr"] if error["attr"] in form.fields else None,
                               error["detail"])
        else:
            response = StreamingHttpResponse(file.chunks, content_type=file.content_type)
            response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
            return response
    return _render(request, "finance/cockpit/export.html", _("Export the ledger"), "export",
                   form=form)
