"""The portal's "Statements" page: per month what the supplier's shipments are worth to it
(net, input VAT, gross) and the month's statement as CSV (suppliers.statements). Only the
supplier's own settlement lines are read; a month with none is a 404, for any supplier."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from suppliers.models import Supplier
from suppliers.portal.access import supplier_required
from suppliers.statements import (
    month_lines,
    month_parse,
    statement_csv,
    statement_filename,
    statement_months,
)


@supplier_required
def statements(request: HttpRequest) -> HttpResponse:
    supplier = request.supplier  # type: ignore[attr-defined]
    return render(request, "suppliers/portal/settlement/statements.html", {
        "title": _("Statements"), "portal_tab": "statements",
        "months": statement_months(supplier)})


def statement_response(supplier: Supplier, month: str) -> HttpResponse:
    """The month's statement as a CSV download; 404 for a month without parcels, or not a
    month (the portal's and the finance cockpit's download)."""
    first = month_parse(month)
    if first is None or not month_lines(supplier, first).exists():
        raise Http404
    response = HttpResponse(statement_csv(supplier, first),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = \
        f'attachment; filename="{statement_filename(supplier, first)}"'
    return response


@supplier_required
def statement_download(request: HttpRequest, month: str) -> HttpResponse:
    return statement_response(request.supplier, month)  # type: ignore[attr-defined]
