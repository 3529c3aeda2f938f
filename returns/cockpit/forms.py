"""Forms of the take-back screens. They only parse what staff enter (within what the screen
offered); whether the goods may come back is for `returns.services` to decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from payments.states import RefundMethod
from returns.cockpit.selectors import LineToReturn, OrderToReturn
from returns.cockpit.take_back import DISPOSITION_OF
from returns.models import Return, ReturnLine
from returns.reasons import return_reasons_active
from returns.services import LineRequest
from returns.states import Condition, Disposition

NUMBER = {"class": "vSmallField", "min": 0}


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Order number, customer email or QR code"), max_length=200, strip=True,
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True, "size": 36,
                                      "autocomplete": "off"}))


def _reasons() -> list[tuple[str, str]]:
    # Read when the form is built, so the labels are in the language of the request.
    return [("", "---------"), *((r.code, r.label) for r in return_reasons_active())]


class TakeBackForm(forms.Form):
    """Per line still returnable: how many units come back (0 leaves the line out), why, and
    in which condition; then how the money goes back and, after the window, why staff take
    the goods back anyway."""

    refund_method = forms.ChoiceField(label=_("Refund"), choices=RefundMethod.choices,
                                      initial=RefundMethod.ORIGINAL, widget=forms.RadioSelect)

    def __init__(self, *args: Any, order: OrderToReturn, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        self.open_lines = [ln for ln in order.lines if ln.returnable]
        reasons = _reasons()
        for ln in self.open_lines:
            pk = ln.line.pk
            self.fields[f"quantity_{pk}"] = forms.IntegerField(
                label=_("Units back"), min_value=0, max_value=ln.returnable, initial=0,
                required=False, widget=forms.NumberInput(attrs={**NUMBER, "max": ln.returnable}))
            self.fields[f"reason_{pk}"] = forms.ChoiceField(label=_("Reason"), choices=reasons,
                                                            required=False)
            self.fields[f"condition_{pk}"] = forms.ChoiceField(
                label=_("Condition"), choices=Condition.choices, initial=Condition.RESELLABLE)
        if order.window_closed:
            self.fields["override_reason"] = forms.CharField(
                label=_("Why take it back after the window"), max_length=500, required=False,
                help_text=_("Staff may take goods back after the return window; the reason is "
                            "kept on the return and in the order's history."),
                widget=forms.TextInput(attrs={"size": 60}))

    def rows(self) -> list[tuple[LineToReturn, dict[str, forms.BoundField] | None]]:
        """Every line of the order, with its inputs if units of it can still come back."""
        return [(ln, {name: self[f"{name}_{ln.line.pk}"]
                      for name in ("quantity", "reason", "condition")} if ln.returnable else None)
                for ln in self.order.lines]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = [ln for ln in self.open_lines if data.get(f"quantity_{ln.line.pk}")]
        if not chosen and not any(f"quantity_{ln.line.pk}" in self.errors
                                  for ln in self.open_lines):
            raise forms.ValidationError(_("Enter the units the customer brings back."),
                                        code="nothing_chosen")
        for ln in chosen:
            if not data.get(f"reason_{ln.line.pk}"):
                self.add_error(f"reason_{ln.line.pk}", _("Choose why it comes back."))
        return data

    def lines(self) -> list[LineRequest]:
        data = self.cleaned_data
        return [LineRequest(sku=ln.line.product_id, quantity=data[f"quantity_{ln.line.pk}"],
                            reason=data[f"reason_{ln.line.pk}"],
                            condition=data[f"condition_{ln.line.pk}"])
                for ln in self.open_lines if data.get(f"quantity_{ln.line.pk}")]

    def window_override(self) -> str:
        return self.cleaned_data.get("override_reason", "")


class ReceiveForm(forms.Form):
    """A return announced for the store (by the customer online, or by a till earlier): per
    line the units the customer hands over and where they go; lines with none are refused."""

    refund_method = forms.ChoiceField(label=_("Refund"), choices=RefundMethod.choices,
                                      widget=forms.RadioSelect)

    def __init__(self, *args: Any, ret: Return, **kwargs: Any) -> None:
        super().__init__(*args, initial={"refund_method": ret.refund_method}, **kwargs)
        self.ret = ret
        self.announced: list[ReturnLine] = list(ret.lines.all())
        for line in self.announced:
            self.fields[f"received_{line.pk}"] = forms.IntegerField(
                label=_("Units received"), min_value=0, max_value=line.quantity,
                initial=line.quantity,
                widget=forms.NumberInput(attrs={**NUMBER, "max": line.quantity}))
            self.fields[f"disposition_{line.pk}"] = forms.ChoiceField(
                label=_("Goes"), choices=Disposition.choices,
                initial=DISPOSITION_OF.get(Condition(line.condition), Disposition.RESTOCK))

    def rows(self) -> list[tuple[ReturnLine, forms.BoundField, forms.BoundField]]:
        return [(line, self[f"received_{line.pk}"], self[f"disposition_{line.pk}"])
                for line in self.announced]

    def received(self) -> dict[str, tuple[int, str]]:
        data = self.cleaned_data
        return {line.sku: (data[f"received_{line.pk}"], data[f"disposition_{line.pk}"])
                for line in self.announced if data[f"received_{line.pk}"]}
