"""Finance in the back office: open items with what settled them, their notices and history;
bank transactions; customer credits; payment terms and dunning levels (configuration).

Money is read-only here: every change goes through a service, started by an action. Open
items: dispute, undispute, write off (with a reason); bank transactions: match to an open item
by hand. Payment terms and dunning levels are settings and may be edited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from finance.models import (
    BankTransaction,
    CustomerCredit,
    DunningLevel,
    DunningNotice,
    OpenItem,
    OpenItemEvent,
    PaymentTerms,
    Settlement,
)
from finance.services import (
    bank_transaction_match,
    open_item_dispute,
    open_item_undispute,
    open_item_write_off,
)
from oms.core.admin_base import ReadOnlyAdmin
from oms.core.errors import DomainError
from oms.orders.admin import ReadOnlyInline

ACTION_TEMPLATE = "admin/finance/action_form.html"


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500,
                             widget=forms.TextInput(attrs={"size": 60}))


class MatchForm(forms.Form):
    open_item = forms.ModelChoiceField(
        label=_("Open item"), queryset=OpenItem.objects.all(),
        widget=ForeignKeyRawIdWidget(Settlement._meta.get_field("open_item").remote_field,
                                     admin.site),
        help_text=_("What the transaction pays; anything beyond what it owes becomes the "
                    "customer's credit."))


def _actor(request: HttpRequest) -> str:
    return request.user.get_username()


class FormActionMixin:
    """An action that asks for input first (a reason, an open item) on a page of its own, then
    calls a service per selected row; a refusal is shown per row, the rest go through."""

    def form_action(self, request: HttpRequest, queryset: QuerySet, *, form_class: type,
                    title: str, apply: Callable[[Any, dict[str, Any]], None]) -> Any:
        form = form_class(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = 0
            for obj in queryset:
                try:
                    apply(obj, form.cleaned_data)
                except DomainError as error:
                    self.message_user(request, f"{obj}: {error.detail}", messages.ERROR)
                else:
                    done += 1
            if done:
                self.message_user(request, _("%(count)d done.") % {"count": done},
                                  messages.SUCCESS)
            return None
        return TemplateResponse(request, ACTION_TEMPLATE, {
            **self.admin_site.each_context(request), "title": title, "form": form,
            "queryset": queryset, "action": request.POST.get("action", ""),
            "action_checkbox_name": ACTION_CHECKBOX_NAME, "opts": self.model._meta,
            "media": self.media + form.media})


class SettlementInline(ReadOnlyInline):
    model = Settlement
    fields = ["at", "kind", "amount", "source", "bank_transaction", "customer_credit", "actor"]


class DunningNoticeInline(ReadOnlyInline):
    model = DunningNotice
    fields = ["sent_at", "level", "name", "fee", "open_amount", "for_collection", "entry"]


class OpenItemEventInline(ReadOnlyInline):
    model = OpenItemEvent
    fields = ["at", "type", "actor", "data"]


@admin.register(OpenItem)
class OpenItemAdmin(FormActionMixin, ReadOnlyAdmin):
    list_display = ["pk", "order", "customer", "kind", "amount", "paid", "credited", "fees",
                    "open_amount", "currency", "due_date", "status", "dunning_level",
                    "for_collection"]
    list_filter = ["status", "for_collection", "kind", "dunning_level"]
    search_fields = ["order__number", "customer__email"]
    list_select_related = ["order", "customer"]
    date_hierarchy = "due_date"
    inlines = [SettlementInline, DunningNoticeInline, OpenItemEventInline]
    actions = ["dispute", "undispute", "write_off"]

    def has_change_permission(self, request: HttpRequest, obj: OpenItem | None = None) -> bool:
        # needed to run the actions; every field stays read-only
        return request.user.has_perm("finance.change_openitem")

    def get_readonly_fields(self, request: HttpRequest, obj: OpenItem | None = None) -> list[str]:
        return [*(f.name for f in OpenItem._meta.fields), "open_amount"]

    @admin.display(description=_("open"))
    def open_amount(self, item: OpenItem) -> Any:
        return item.open_amount

    @admin.action(description=_("Dispute the selected items (pauses dunning)"))
    def dispute(self, request: HttpRequest, queryset: QuerySet[OpenItem]) -> Any:
        return self.form_action(
            request, queryset, form_class=ReasonForm, title=_("Dispute open items"),
            apply=lambda item, data: open_item_dispute(item=item, reason=data["reason"],
                                                       actor=_actor(request)))

    @admin.action(description=_("Resolve the dispute of the selected items"))
    def undispute(self, request: HttpRequest, queryset: QuerySet[OpenItem]) -> None:
        done = 0
        for item in queryset:
            try:
                open_item_undispute(item=item, actor=_actor(request))
            except DomainError as error:
                self.message_user(request, f"{item}: {error.detail}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, _("%(count)d done.") % {"count": done},
                              messages.SUCCESS)

    @admin.action(description=_("Write off what the selected items still owe"))
    def write_off(self, request: HttpRequest, queryset: QuerySet[OpenItem]) -> Any:
        return self.form_action(
            request, queryset, form_class=ReasonForm, title=_("Write off open items"),
            apply=lambda item, data: open_item_write_off(item=item, reason=data["reason"],
                                                         actor=_actor(request)))


class BankSettlementInline(SettlementInline):
    fk_name = "bank_transaction"


@admin.register(BankTransaction)
class BankTransactionAdmin(FormActionMixin, ReadOnlyAdmin):
    list_display = ["reference", "booked_on", "amount", "currency", "purpose", "status",
                    "customer", "received_at", "matched_by"]
    list_filter = ["status"]
    search_fields = ["reference", "purpose"]
    list_select_related = ["customer"]
    date_hierarchy = "booked_on"
    inlines = [BankSettlementInline]
    actions = ["match"]

    def has_change_permission(self, request: HttpRequest,
                              obj: BankTransaction | None = None) -> bool:
        return request.user.has_perm("finance.change_banktransaction")

    def get_readonly_fields(self, request: HttpRequest,
                            obj: BankTransaction | None = None) -> list[str]:
        return [f.name for f in BankTransaction._meta.fields]

    @admin.action(description=_("Match the selected transactions to an open item"))
    def match(self, request: HttpRequest, queryset: QuerySet[BankTransaction]) -> Any:
        return self.form_action(
            request, queryset, form_class=MatchForm, title=_("Match bank transactions"),
            apply=lambda txn, data: bank_transaction_match(
                transaction=txn, open_item=data["open_item"], actor=_actor(request)))


@admin.register(CustomerCredit)
class CustomerCreditAdmin(ReadOnlyAdmin):
    list_display = ["pk", "customer", "amount", "remaining", "currency", "source", "reference",
                    "created_at"]
    list_filter = ["source"]
    search_fields = ["customer__email", "reference"]
    list_select_related = ["customer"]


@admin.register(DunningNotice)
class DunningNoticeAdmin(ReadOnlyAdmin):
    list_display = ["open_item", "level", "name", "fee", "open_amount", "currency",
                    "for_collection", "sent_at"]
    list_filter = ["level", "for_collection"]
    search_fields = ["open_item__order__number"]
    date_hierarchy = "sent_at"


@admin.register(PaymentTerms)
class PaymentTermsAdmin(admin.ModelAdmin):
    list_display = ["channel", "days"]


@admin.register(DunningLevel)
class DunningLevelAdmin(admin.ModelAdmin):
    list_display = ["level", "name", "days_after_due", "fee"]
