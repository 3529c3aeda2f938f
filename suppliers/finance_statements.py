"""Supplier statements for finance staff, in the finance cockpit's look at
/cockpit/finance/supplier-statements/: every supplier's months with what it is owed, and the
same CSV the supplier downloads in its portal (suppliers.statements). The finance app is a lower
layer and may not import this one; its tab bar links here by URL name when the page exists."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from finance.cockpit.access import VIEW
from fulfillment.cockpit.views import cockpit
from suppliers.models import Supplier
from suppliers.portal.settlement import statement_response
from suppliers.statements import statement_months


@cockpit(VIEW)
def supplier_statements(request: HttpRequest) -> HttpResponse:
    suppliers = [(supplier, statement_months(supplier))
                 for supplier in Supplier.objects.order_by("name")]
    return render(request, "suppliers/finance/statements.html", {
        **admin.site.each_context(request), "title": _("Supplier statements"),
        "now": timezone.now(), "finance_tab": "supplier_statements", "suppliers": suppliers})


@cockpit(VIEW)
def supplier_statement_download(request: HttpRequest, code: str, month: str) -> HttpResponse:
    return statement_response(get_object_or_404(Supplier, code=code), month)


app_name = "supplier_statements"
urlpatterns = [
    path("", supplier_statements, name="list"),
    path("<str:code>/<str:month>.csv", supplier_statement_download, name="download"),
]
