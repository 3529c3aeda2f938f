"""Cockpit pages for payments: each payment with its captures, the refunds and voids we made and
the PSP events it received, the captures with every attempt at the PSP (a failed one can be
retried), refunds for returned goods (a failed PSP refund can be retried) and store credits with
their history."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from oms.core.admin_base import ReadOnlyAdmin
from oms.core.attempts.kinds import AttemptKind
from oms.core.attempts.selectors import attempt_of
from oms.orders.admin import ReadOnlyInline
from payments.models import (
    Payment,
    PaymentCapture,
    PaymentReversal,
    PspEvent,
    Refund,
    StoreCredit,
    StoreCreditEntry,
)
from payments.services import PSP_CAPTURE, PSP_REFUND, payment_capture_retry, refund_retry


class PaymentCaptureInline(ReadOnlyInline):
    model = PaymentCapture
    fields = ["amount", "currency", "source", "status", "psp_capture_reference",
              "succeeded_at", "confirmed_at", "context"]
    show_change_link = True


class PaymentReversalInline(ReadOnlyInline):
    model = PaymentReversal
    fields = ["kind", "amount", "currency", "psp_reference", "created_at", "confirmed_at",
              "context"]


class PspEventInline(ReadOnlyInline):
    model = PspEvent
    fields = ["type", "amount", "currency", "at", "outcome", "received_at", "received_from"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["order", "method", "status", "amount", "captured_amount", "refunded_amount",
                    "voided_amount", "currency", "psp_reference", "created_at"]
    list_filter = ["method", "status"]
    search_fields = ["order__number", "psp_reference"]
    list_select_related = ["order"]
    inlines = [PaymentCaptureInline, PaymentReversalInline, PspEventInline]


@admin.register(PaymentCapture)
class PaymentCaptureAdmin(ReadOnlyAdmin):
    list_display = ["pk", "payment", "amount", "currency", "source", "status", "calls",
                    "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["payment__order__number", "payment__psp_reference", "idempotency_key"]
    list_select_related = ["payment"]
    actions = ["retry"]

    def has_change_permission(self, request: HttpRequest,
                              obj: PaymentCapture | None = None) -> bool:
        # needed to run the action; every field stays read-only
        return request.user.has_perm("payments.change_paymentcapture")

    def get_readonly_fields(self, request: HttpRequest,
                            obj: PaymentCapture | None = None) -> list[str]:
        return [*(f.name for f in PaymentCapture._meta.fields), "calls"]

    @admin.display(description=_("PSP calls"))
    def calls(self, capture: PaymentCapture) -> str:
        """Its attempt at the PSP (tries, status), linked to the page with every try."""
        return _attempt_link(PSP_CAPTURE, capture.pk)

    @admin.action(description=_("Retry the selected failed captures now"))
    def retry(self, request: HttpRequest, queryset: QuerySet[PaymentCapture]) -> None:
        retried = sum(payment_capture_retry(capture=capture) for capture in queryset)
        self.message_user(request, _("%(count)d captures queued again.") % {"count": retried},
                          messages.SUCCESS if retried else messages.WARNING)


def _attempt_link(kind: AttemptKind, target_id: int) -> str:
    """An outbound call's attempt (status: tries), linked to the page with every try."""
    attempt = attempt_of(kind=kind, target_id=target_id)
    if attempt is None:
        return "-"
    url = reverse("admin:core_attempt_change", args=[attempt.pk])
    return format_html('<a href="{}">{}: {}</a>', url, attempt.status, attempt.tries)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["pk", "order", "reference", "method", "route", "amount", "currency",
                    "status", "location_code", "calls", "created_at", "issued_at"]
    list_filter = ["status", "route", "method"]
    search_fields = ["order__number", "reference"]
    list_select_related = ["order"]
    actions = ["retry"]

    def has_change_permission(self, request: HttpRequest, obj: Refund | None = None) -> bool:
        return request.user.has_perm("payments.change_refund")

    def get_readonly_fields(self, request: HttpRequest, obj: Refund | None = None) -> list[str]:
        return [*(f.name for f in Refund._meta.fields), "calls"]

    @admin.display(description=_("PSP calls"))
    def calls(self, refund: Refund) -> str:
        return _attempt_link(PSP_REFUND, refund.pk)

    @admin.action(description=_("Retry the selected failed refunds now"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        retried = sum(refund_retry(refund=refund) for refund in queryset)
        self.message_user(request, _("%(count)d refunds queued again.") % {"count": retried},
                          messages.SUCCESS if retried else messages.WARNING)


class StoreCreditEntryInline(ReadOnlyInline):
    model = StoreCreditEntry
    fields = ["at", "kind", "amount", "balance_after", "reference", "order", "actor"]


@admin.register(StoreCredit)
class StoreCreditAdmin(ReadOnlyAdmin):
    list_display = ["code", "balance", "currency", "customer", "created_at", "updated_at"]
    search_fields = ["code", "customer__email"]
    list_select_related = ["customer"]
    inlines = [StoreCreditEntryInline]
