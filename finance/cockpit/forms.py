"""Forms of the finance cockpit. They only parse what finance staff enter; whether a dispute, a
write-off or a match is possible is for `finance.services` to decide (its refusal is shown on
the form)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from finance.cockpit.selectors import ALL, OWED, OpenItemFilter
from finance.models import OpenItem
from finance.states import OpenItemStatus
from ledger.exports import ExportFormat

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SMALL_NUMBER = {"class": "vSmallField", "min": 0}
# Order numbers are digits; people paste them with spaces, dashes or a prefix ("# 1000-123").
_NOT_DIGITS = re.compile(r"\D+")
ORDER_NUMBER_MAX = 20  # Order.number


class OpenItemFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[(OWED, _("still owed")), (ALL, _("all")), *OpenItemStatus.choices])
    email = forms.CharField(label=_("Customer e-mail"), required=False, max_length=254,
                            widget=forms.TextInput(attrs={"type": "search", "size": 22}))
    overdue_days = forms.IntegerField(
        label=_("Overdue by at least (days)"), required=False, min_value=0, max_value=3650,
        widget=forms.NumberInput(attrs={**SMALL_NUMBER, "max": 3650}))
    dunning_level = forms.IntegerField(
        label=_("Dunning level"), required=False, min_value=0, max_value=99,
        widget=forms.NumberInput(attrs={**SMALL_NUMBER, "max": 99}))
    collection = forms.BooleanField(label=_("On the collection list"), required=False)

    def filters(self) -> OpenItemFilter:
        """What to show; a filter that does not parse is left out (its error is shown)."""
        data = self.cleaned_data if self.is_valid() else {
            name: value for name, value in getattr(self, "cleaned_data", {}).items()
            if name not in self.errors}
        return OpenItemFilter(status=data.get("status") or OWED,
                              email=(data.get("email") or "").strip(),
                              overdue_days=data.get("overdue_days"),
                              dunning_level=data.get("dunning_level"),
                              collection=bool(data.get("collection")))


class ReasonForm(forms.Form):
    """Disputing or writing off an item: why (kept on the item and in its history)."""

    reason = forms.CharField(label=_("Reason"), max_length=500, strip=True,
                             widget=forms.TextInput(attrs={"size": 60, "autofocus": True}))


class ConfirmForm(forms.Form):
    """An action without input (undispute): the form only carries the CSRF token."""


class OrderSearchForm(forms.Form):
    order = forms.CharField(label=_("Order number"), max_length=40, strip=True,
                            widget=forms.TextInput(attrs={"type": "search", "size": 16,
                                                          "autocomplete": "off"}))

    def clean_order(self) -> str:
        number = _NOT_DIGITS.sub("", self.cleaned_data["order"])
        if not number or len(number) > ORDER_NUMBER_MAX:
            raise forms.ValidationError(_("Enter an order number."), code="invalid")
        return number


class MatchForm(forms.Form):
    """Which of the order's open items the transaction pays."""

    order = forms.CharField(widget=forms.HiddenInput, max_length=ORDER_NUMBER_MAX)
    open_item = forms.ModelChoiceField(label=_("Open item"), queryset=OpenItem.objects.none(),
                                       widget=forms.RadioSelect, empty_label=None)

    def __init__(self, *args: Any, items: QuerySet[OpenItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["open_item"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = items
        self.items = list(items)
        if len(self.items) == 1:
            self.initial.setdefault("open_item", self.items[0].pk)


class DayForm(forms.Form):
    """The dunning screen's day: the notices of that day only."""

    day = forms.DateField(widget=DATE)


class TrialBalanceForm(forms.Form):
    at = forms.DateField(label=_("Balances at"), required=False, widget=DATE,
                         help_text=_("Bookings up to and including this day."))

    def day(self) -> date:
        if self.is_valid() and self.cleaned_data.get("at"):
            return self.cleaned_data["at"]
        return timezone.localdate()


class ExportForm(forms.Form):
    """`from`, `to` (booking dates, both included) and the format, as the API's
    ``GET /api/v1/ledger/export`` takes them; `from` is a Python keyword, so the date fields are
    added in `__init__`."""

    format = forms.ChoiceField(label=_("Format"), choices=ExportFormat.choices,
                               initial=ExportFormat.CSV, widget=forms.RadioSelect)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["from"] = forms.DateField(label=_("From"), widget=DATE,
                                              initial=today.replace(day=1))
        self.fields["to"] = forms.DateField(label=_("To"), widget=DATE, initial=today)
        self.order_fields(["from", "to", "format"])
