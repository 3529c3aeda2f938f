"""The supplier portal's stock pages: the stock at the supplier's sites (on hand, reserved,
available per SKU and site), and the upload of a CSV snapshot with its report
(`suppliers.portal.stock_upload`). Every page is confined to the supplier of the signed-in user:
another supplier's upload is a 404, its sites are never listed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inventory.models import StockLevel
from suppliers.portal.access import supplier_locations, supplier_required
from suppliers.portal.stock_upload import (
    MAX_UPLOAD_BYTES,
    UploadState,
    UploadStatus,
    error_message,
    new_upload_id,
    size_text,
    stock_upload_apply_valid,
    stock_upload_get,
    stock_upload_progress,
    stock_upload_run,
)

PAGE_SIZE = 50
TEMPLATES = "suppliers/portal/"
CLOCK_SKEW_SECONDS = 5 * 60  # as the snapshot API: a count from the future is refused


def supplier_stock_levels(supplier: Any, *, sku: str = "", site: str = "") -> QuerySet[StockLevel]:
    """Stock levels at the supplier's sites, by SKU then site; `sku` matches part of the SKU."""
    rows = StockLevel.objects.filter(location__in=supplier_locations(supplier)) \
        .select_related("location", "product")
    if sku:
        rows = rows.filter(product__sku__icontains=sku)
    if site:
        rows = rows.filter(location__code=site)
    return rows.order_by("product__sku", "location__code")


@supplier_required
@require_GET
def stock(request: HttpRequest) -> HttpResponse:
    supplier = request.supplier  # type: ignore[attr-defined]
    sites = list(supplier_locations(supplier).order_by("code"))
    sku = request.GET.get("q", "").strip()[:64]
    site = request.GET.get("site", "").strip()
    if site not in {s.code for s in sites}:
        site = ""
    page = Paginator(supplier_stock_levels(supplier, sku=sku, site=site), PAGE_SIZE) \
        .get_page(request.GET.get("page"))
    return render(request, TEMPLATES + "stock.html", {
        "portal_tab": "stock", "page": page, "sites": sites, "q": sku, "site": site,
    })


class StockUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))
    as_of = forms.DateTimeField(
        label=gettext_lazy("Counted at"),
        help_text=gettext_lazy("When the counts in the file were taken. A count older than the "
                               "last one applied for a SKU is ignored."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    # Chosen when the form is shown, so the page can poll the progress while the file is sent.
    upload_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def clean_file(self) -> Any:
        file = self.cleaned_data["file"]
        if file.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file has %(size)s; at most %(max)s are accepted.")
                % {"size": size_text(file.size), "max": size_text(MAX_UPLOAD_BYTES)},
                code="too_large")
        return file

    def clean_as_of(self) -> datetime:
        as_of = self.cleaned_data["as_of"]
        if (as_of - timezone.now()).total_seconds() > CLOCK_SKEW_SECONDS:
            raise forms.ValidationError(_("The time lies in the future."), code="future")
        return as_of


def _upload_page(request: HttpRequest, form: StockUploadForm, status: int = 200) -> HttpResponse:
    return render(request, TEMPLATES + "stock_upload.html", {
        "portal_tab": "stock", "form": form, "max_bytes": MAX_UPLOAD_BYTES,
        "max_size": size_text(MAX_UPLOAD_BYTES),
    }, status=status)


@supplier_required
@require_http_methods(["GET", "POST"])
def stock_upload(request: HttpRequest) -> HttpResponse:
    supplier = request.supplier  # type: ignore[attr-defined]
    if request.method == "GET":
        now = timezone.localtime().replace(second=0, microsecond=0)
        return _upload_page(request, StockUploadForm(initial={"as_of": now,
                                                              "upload_id": new_upload_id()}))
    form = StockUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        form.data = form.data.copy()
        form.data["upload_id"] = new_upload_id()
        return _upload_page(request, form, status=400)
    upload_id = str(form.cleaned_data["upload_id"] or new_upload_id())
    if stock_upload_get(supplier_id=supplier.pk, upload_id=upload_id) is not None:
        upload_id = new_upload_id()  # the same form sent twice: a new upload
    file = form.cleaned_data["file"]
    stock_upload_run(supplier_id=supplier.pk, user=request.user.get_username(),
                     upload_id=upload_id, file=file, size=file.size, file_name=file.name,
                     as_of=form.cleaned_data["as_of"])
    return redirect("supplier_portal:stock_upload_report", upload_id=upload_id)


def _upload_of(request: HttpRequest, upload_id: Any) -> UploadState:
    state = stock_upload_get(supplier_id=request.supplier.pk,  # type: ignore[attr-defined]
                             upload_id=str(upload_id))
    if state is None:
        raise Http404(_("No such upload; uploads are kept for an hour."))
    return state


@supplier_required
@require_GET
def stock_upload_report(request: HttpRequest, upload_id: Any) -> HttpResponse:
    state = _upload_of(request, upload_id)
    errors = [{"line": line, "column": column, "value": value,
               "message": error_message(code, params)}
              for line, column, code, value, params in state.errors]
    return render(request, TEMPLATES + "stock_upload_report.html", {
        "portal_tab": "stock", "upload": state, "errors": errors,
        "file_errors": [error_message(code, params) for code, params in state.file_errors],
        "more_errors": state.error_count - len(errors),
        "can_apply_valid": state.status == UploadStatus.INVALID and state.valid_rows > 0,
    })


@supplier_required
@require_GET
def stock_upload_progress_view(request: HttpRequest, upload_id: Any) -> JsonResponse:
    """Polled by the upload page while its request is in flight: {status, phase, done, total}."""
    progress = stock_upload_progress(supplier_id=request.supplier.pk,  # type: ignore[attr-defined]
                                     upload_id=str(upload_id))
    if progress is None:
        return JsonResponse({"status": "waiting"}, status=404)
    if progress["phase"] == "done":
        progress["report"] = reverse("supplier_portal:stock_upload_report",
                                     kwargs={"upload_id": upload_id})
    return JsonResponse(progress)


@supplier_required
@require_POST
def stock_upload_apply(request: HttpRequest, upload_id: Any) -> HttpResponse:
    """"Apply the valid rows" of a file with errors."""
    state = stock_upload_apply_valid(
        supplier_id=request.supplier.pk,  # type: ignore[attr-defined]
        upload_id=str(upload_id), user=request.user.get_username())
    if state is None:
        raise Http404(_("No such upload; uploads are kept for an hour."))
    return redirect("supplier_portal:stock_upload_report", upload_id=upload_id)
