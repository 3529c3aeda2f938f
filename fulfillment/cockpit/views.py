"""The cockpit screens. Each view finds its rows through `scope` (another store's pickup is a
404), calls at most one service, and reports the outcome through the messages framework."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from fulfillment.cockpit.charts import ready_time_chart
from fulfillment.cockpit.dashboard import ready_times_per_day, store_figures
from fulfillment.cockpit.forms import HandoverForm, PickForm
from fulfillment.cockpit.panels import dashboard_panels_render
from fulfillment.cockpit.scope import cockpit_stores, pickup_of, pickups_of, store_of
from fulfillment.cockpit.selectors import (
    PAGE_SIZE,
    incoming_transfers,
    pickup_lines,
    pickup_rows,
    pickups_to_pick,
    pickups_waiting,
)
from fulfillment.models import FulfillmentOrder
from fulfillment.pickup import PickupLocked, WrongPickupCode, pickup_handover, pickup_pick
from fulfillment.states import TO_PICK, FulfillmentStatus
from oms.core.errors import DomainError

VIEW = "fulfillment.view_fulfillmentorder"
CHANGE = "fulfillment.change_fulfillmentorder"


def cockpit(permission: str) -> Callable[[Callable[..., HttpResponse]],
                                         Callable[..., HttpResponse]]:
    """Staff only (others go to the admin login), with the model permission the admin asks
    for the same records."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        return staff_member_required(permission_required(permission, raise_exception=True)(view))

    return wrap


def _render(request: HttpRequest, template: str, title: str, **context: Any) -> HttpResponse:
    return render(request, template, {**admin.site.each_context(request), "title": title,
                                      "now": timezone.now(), **context})


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


def _with_query(url: str, **params: str) -> str:
    return f"{url}?{urlencode(params)}"


def _require_change(request: HttpRequest) -> None:
    if not request.user.has_perm(CHANGE):
        raise PermissionDenied


def _page(request: HttpRequest, rows: Any) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@cockpit(VIEW)
def home(request: HttpRequest) -> HttpResponse:
    return redirect("cockpit:to_pick")


@cockpit(VIEW)
def to_pick(request: HttpRequest) -> HttpResponse:
    store = store_of(request.user, request.GET.get("store"))
    pickups = pickups_to_pick(store) if store else FulfillmentOrder.objects.none()
    page = _page(request, pickups)
    return _render(request, "cockpit/to_pick.html", _("To pick"), store=store,
                   stores=cockpit_stores(request.user), page=page,
                   rows=pickup_rows(page.object_list))


def _pick_outcome(request: HttpRequest, fo: FulfillmentOrder, missing: int) -> None:
    number = fo.order.number
    if missing:
        messages.warning(request, ngettext(
            "%(count)d unit was short: it is sourced elsewhere or cancelled, and the customer "
            "is told.",
            "%(count)d units were short: they are sourced elsewhere or cancelled, and the "
            "customer is told.", missing) % {"count": missing})
    if fo.status == FulfillmentStatus.READY_FOR_PICKUP:
        messages.success(request, _(
            "Order %(number)s is ready for pickup (until %(deadline)s).") % {
            "number": number,
            "deadline": formats.date_format(timezone.localtime(fo.pickup_deadline),
                                            "DATETIME_FORMAT")})
    else:
        messages.info(request, _("Order %(number)s is not ready for pickup: %(status)s.") % {
            "number": number, "status": fo.get_status_display()})


@cockpit(VIEW)
@require_http_methods(["GET", "POST"])
def pick(request: HttpRequest, pk: int) -> HttpResponse:
    fo = pickup_of(request.user, pk)
    lines = list(pickup_lines().filter(fulfillment=fo))
    form = PickForm(request.POST or None, lines=lines)
    if request.method == "POST":
        _require_change(request)
        if form.is_valid():
            try:
                fo = pickup_pick(fulfillment=fo, picked=form.picked(), actor=_actor(request))
            except DomainError as exc:
                messages.error(request, exc.detail)
                return redirect("cockpit:pick", pk=pk)
            _pick_outcome(request, fo, form.missing_units())
            return redirect(_with_query(reverse("cockpit:to_pick"), store=fo.location.code))
    return _render(request, "cockpit/pick.html", _("Pick order %(number)s") % {
        "number": fo.order.number}, fo=fo, lines=lines, form=form,
        incoming=incoming_transfers([fo]).get(fo.pk, []),
        can_pick=fo.status in TO_PICK and request.user.has_perm(CHANGE))


PREFILLED_CODES = "cockpit_pickup_codes"


@cockpit(VIEW)
@require_http_methods(["GET", "POST"])
def handover_search(request: HttpRequest) -> HttpResponse:
    """The counter: find the customer's pickup by order number, email or code (or scan its QR
    code). A single match opens its handover form at once. The query is posted and a code
    found travels in the session, never in a URL (access logs keep URLs)."""
    query = (request.POST.get("q") or request.GET.get("q", "")).strip()
    # Each code lookup tries every ready pickup: counted per user, so nobody guesses codes.
    search = pickups_waiting(pickups_of(request.user), query,
                             requester_key=f"user:{request.user.pk}")
    if search.codes_refused:
        messages.error(request, _("Too many searches in a minute: pickup codes are not looked "
                                  "up for a moment; search by order number or email."))
    page = _page(request, search.results)
    if query and page.paginator.count == 1:
        found = page.object_list[0]
        if found.pk in search.opened_by_code:
            request.session[PREFILLED_CODES] = {str(found.pk): search.code}
        return redirect("cockpit:handover", pk=found.pk)
    return _render(request, "cockpit/handover_search.html", _("Hand over"), query=query,
                   page=page, rows=pickup_rows(page.object_list))


def _refusal(exc: DomainError) -> str:
    """The service's message, with what staff need next: attempts left, or until when."""
    # Both refusals that lock the pickup say for how long (`retry_after`, as the API's header).
    until = timezone.now() + timedelta(seconds=exc.extra.get("retry_after", 0))
    if isinstance(exc, WrongPickupCode):
        left = exc.extra.get("attempts_left", 0)
        if left:
            return ngettext("%(detail)s %(count)d attempt left.",
                            "%(detail)s %(count)d attempts left.", left) % {
                "detail": exc.detail, "count": left}
        return _("%(detail)s No attempts left: the pickup is locked until %(time)s.") % {
            "detail": exc.detail, "time": _time(until)}
    if isinstance(exc, PickupLocked):
        return _("%(detail)s Try again after %(time)s.") % {"detail": exc.detail,
                                                           "time": _time(until)}
    return exc.detail


def _time(moment: datetime) -> str:
    return formats.time_format(timezone.localtime(moment), "TIME_FORMAT")


@cockpit(VIEW)
@require_http_methods(["GET", "POST"])
def handover(request: HttpRequest, pk: int) -> HttpResponse:
    fo = pickup_of(request.user, pk)
    prefilled = request.session.pop(PREFILLED_CODES, {}).get(str(pk), "")
    form = HandoverForm(request.POST or None, initial={"code": prefilled})
    if request.method == "POST":
        _require_change(request)
        if form.is_valid():
            try:
                fo = pickup_handover(fulfillment=fo, code=form.cleaned_data["code"],
                                     actor=_actor(request))
            except DomainError as exc:
                messages.error(request, _refusal(exc))
                return redirect("cockpit:handover", pk=pk)
            messages.success(request, _("Order %(number)s handed over to %(name)s.") % {
                "number": fo.order.number, "name": fo.order.customer.name or
                fo.order.customer.email})
            return redirect("cockpit:handover_search")
    lines = list(pickup_lines().filter(fulfillment=fo))
    return _render(request, "cockpit/handover.html", _("Hand over order %(number)s") % {
        "number": fo.order.number}, fo=fo, lines=lines, form=form,
        incoming=incoming_transfers([fo]).get(fo.pk, []), to_pick_statuses=TO_PICK,
        can_hand_over=fo.status == FulfillmentStatus.READY_FOR_PICKUP
        and request.user.has_perm(CHANGE))


@cockpit(VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    store = store_of(request.user, request.GET.get("store"))
    now = timezone.now()
    figures = store_figures(store, now) if store else None
    days = ready_times_per_day(store, now) if store else []
    return _render(request, "cockpit/dashboard.html", _("Pickup dashboard"), store=store,
                   stores=cockpit_stores(request.user), figures=figures,
                   chart=ready_time_chart(days) if days else None,
                   # What other apps show about the store (fulfillment.cockpit.panels).
                   panels=dashboard_panels_render(request, store, now) if store else [])
