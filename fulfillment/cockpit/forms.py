"""Forms of the cockpit screens. They only parse what staff enter; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fulfillment.models import FulfillmentLine


class PickForm(forms.Form):
    """One number per open line: the units found on the shelf. It starts at the open quantity;
    entering fewer reports a shortage."""

    def __init__(self, *args: Any, lines: list[FulfillmentLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        self.open_lines = [line for line in lines if line.open_quantity]
        for line in self.open_lines:
            self.fields[self.field_name(line)] = forms.IntegerField(
                label=line.sku, min_value=0, max_value=line.open_quantity,
                initial=line.open_quantity,
                widget=forms.NumberInput(attrs={"class": "vSmallField"}))

    @staticmethod
    def field_name(line: FulfillmentLine) -> str:
        return f"line_{line.pk}"  # SKUs may hold characters a field name should not

    def rows(self) -> list[tuple[FulfillmentLine, forms.BoundField | None]]:
        """Every line, with its input if it still has units to pick."""
        return [(line, self[self.field_name(line)] if line.open_quantity else None)
                for line in self.lines]

    def picked(self) -> dict[str, int]:
        return {line.sku: self.cleaned_data[self.field_name(line)] for line in self.open_lines}

    def missing_units(self) -> int:
        return sum(line.open_quantity - self.cleaned_data[self.field_name(line)]
                   for line in self.open_lines)


class HandoverForm(forms.Form):
    code = forms.CharField(
        label=_("Pickup code"), max_length=20, strip=True,
        help_text=_("The code the customer shows (app, email or wallet pass)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True,
                                      "autocapitalize": "characters"}))
