"""The portal's "Returns" page: returns by mail of dropship orders that returns.routing sent
back to one of the supplier's sites (announced, and received), and their receipt.

Receiving goes through `returns.services.return_receive`, as the API's
``POST /returns/{id}/receive`` and the store cockpit's receive form do: per line the units in
the parcel and where they go (back on the shelf, or written off as damaged); a line with none is
refused, with the supplier's reason. The refund follows as for any return. Every row is read
through the supplier's sites: another supplier's return is a 404."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from oms.core.errors import DomainError
from returns.models import Return, ReturnLine
from returns.services import Receipt, return_receive
from returns.states import Condition, Disposition, ReturnStatus
from suppliers.models import Supplier
from suppliers.portal.access import supplier_required

PAGE_SIZE = 50
# The list's two views: waiting for the parcel, and everything received since.
ANNOUNCED = "announced"
RECEIVED = "received"
DONE = [ReturnStatus.RECEIVED, ReturnStatus.REFUNDED, ReturnStatus.CLOSED]
# Where a line goes, in the supplier's words: restock, or damaged (written off).
DISPOSITIONS = [(Disposition.RESTOCK, gettext_lazy("Restock")),
                (Disposition.WRITE_OFF, gettext_lazy("Damaged (write off)"))]


def supplier_returns(supplier: Supplier) -> QuerySet[Return]:
    """Returns sent back to the supplier's sites."""
    return Return.objects.filter(location__supplier_site__supplier=supplier)


def _return_of(supplier: Supplier, pk: int) -> Return:
    lines = ReturnLine.objects.select_related("order_line__product", "reason").order_by("pk")
    return get_object_or_404(
        supplier_returns(supplier).select_related("order", "order__customer", "location")
        .defer("order__sourcing").prefetch_related(Prefetch("lines", queryset=lines)), pk=pk)


def _actor(request: HttpRequest) -> str:
    return f"supplier:{request.user.get_username()}"


class SupplierReceiveForm(forms.Form):
    """Per announced line: the units in the parcel, where they go, and why a line with none
    was refused (empty: it was not in the parcel)."""

    def __init__(self, *args: Any, ret: Return, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.announced: list[ReturnLine] = list(ret.lines.all())
        for line in self.announced:
            self.fields[f"received_{line.pk}"] = forms.IntegerField(
                label=_("Units received"), min_value=0, max_value=line.quantity,
                initial=line.quantity,
                widget=forms.NumberInput(attrs={"min": 0, "max": line.quantity}))
            self.fields[f"disposition_{line.pk}"] = forms.ChoiceField(
                label=_("Goes"), choices=DISPOSITIONS,
                initial=(Disposition.WRITE_OFF if line.condition == Condition.DAMAGED
                         else Disposition.RESTOCK))
            self.fields[f"refused_{line.pk}"] = forms.CharField(
                label=_("Refused because"), max_length=500, required=False, strip=True)

    def rows(self) -> list[tuple[ReturnLine, forms.BoundField, forms.BoundField,
                                 forms.BoundField]]:
        return [(line, self[f"received_{line.pk}"], self[f"disposition_{line.pk}"],
                 self[f"refused_{line.pk}"]) for line in self.announced]

    def receipt(self) -> Receipt:
        data = self.cleaned_data
        received = {line.sku: (data[f"received_{line.pk}"], data[f"disposition_{line.pk}"])
                    for line in self.announced if data[f"received_{line.pk}"]}
        refused = {line.sku: data[f"refused_{line.pk}"] for line in self.announced
                   if line.sku not in received and data[f"refused_{line.pk}"]}
        # By mail the customer chose how the money goes back; the supplier does not change it.
        return Receipt(lines=received, refused=refused)


@supplier_required
def returns_list(request: HttpRequest) -> HttpResponse:
    supplier = request.supplier  # type: ignore[attr-defined]
    view = RECEIVED if request.GET.get("status") == RECEIVED else ANNOUNCED
    returns = supplier_returns(supplier).filter(
        status__in=DONE if view == RECEIVED else [ReturnStatus.REQUESTED])
    returns = (returns.select_related("order", "location").defer("order__sourcing")
               .annotate(announced_units=Sum("lines__quantity"),
                         received_units=Sum("lines__received"))
               .order_by("-created_at", "-pk"))
    page = Paginator(returns, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "suppliers/portal/returns/list.html", {
        "title": _("Returns"), "portal_tab": "returns", "page": page, "view": view,
        "ANNOUNCED": ANNOUNCED, "RECEIVED": RECEIVED})


@supplier_required
@require_http_methods(["GET", "POST"])
def return_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The return; while announced, the receipt form."""
    supplier = request.supplier  # type: ignore[attr-defined]
    ret = _return_of(supplier, pk)
    form = None
    if ret.status == ReturnStatus.REQUESTED:
        form = SupplierReceiveForm(request.POST or None, ret=ret)
        if request.method == "POST" and form.is_valid():
            try:
                return_receive(ret=ret, receipt=form.receipt(), actor=_actor(request))
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(request, _("Return %(number)s is received; the customer's "
                                            "refund is on its way.") % {"number": ret.number})
                return redirect("supplier_portal:return_detail", pk=pk)
    elif request.method == "POST":
        messages.info(request, _("Return %(number)s is %(status)s.") % {
            "number": ret.number, "status": ret.get_status_display()})
        return redirect("supplier_portal:return_detail", pk=pk)
    return render(request, "suppliers/portal/returns/detail.html", {
        "title": _("Return %(number)s") % {"number": ret.number}, "portal_tab": "returns",
        "ret": ret, "form": form})
