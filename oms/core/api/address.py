"""The postal address a customer's parcel goes to: one documented shape, every part bounded.

`{"name", "line1", "line2"?, "postal_code", "city", "country", "phone"?, "lat"?, "lon"?}`:
country as ISO 3166-1 alpha-2 (`DE`), coordinates optional and within the globe (they rank
nearby locations when sourcing). Keys outside the shape are refused rather than stored unseen,
so a typo (`postcode`) is told to the sender instead of losing the postal code.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries
from rest_framework import serializers

from oms.core.api.base import PLAIN_TEXT_PATTERN

PHONE_PATTERN = r"^\+?[0-9][0-9 ()./-]{2,49}$"
# A ship order cannot be shipped without these.
REQUIRED_FOR_SHIPPING = ("line1", "postal_code", "city", "country")


class CountryField(serializers.RegexField):
    """ISO 3166-1 alpha-2, upper case: the pattern is the schema's, the list the truth."""

    default_error_messages = {"unknown_country": gettext_lazy(
        "%(code)s is not an ISO 3166-1 alpha-2 country code.")}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(r"^[A-Z]{2}$", **kwargs)

    def to_internal_value(self, data: Any) -> str:
        code = super().to_internal_value(data)
        # The pattern is checked by the field's validators, after this: only a code of its
        # shape is looked up.
        if len(code) == 2 and code.isascii() and code.isupper() and code not in countries:
            self.fail("unknown_country", code=code)
        return code


class CoordinateField(serializers.FloatField):
    """A number: DRF's FloatField would take `true` for 1.0 (Python's bool is an int)."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    return serializers.RegexField(PLAIN_TEXT_PATTERN, max_length=max_length, required=False,
                                  allow_blank=True, **kwargs)


class ClosedSerializer(serializers.Serializer):
    """A serializer that refuses keys it does not declare (DRF drops them silently), naming
    each: a typo (`postcode`) reaches the sender instead of losing the value."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                allowed = ", ".join(self.fields)
                raise serializers.ValidationError({key: [serializers.ErrorDetail(
                    _("Unknown field; allowed are: %(fields)s.") % {"fields": allowed},
                    code="unknown_field")] for key in unknown[:10]})
        return super().to_internal_value(data)


class PostalAddressIn(ClosedSerializer):
    name = _text(200)
    line1 = _text(200, help_text="Street and house number.")
    line2 = _text(200)
    postal_code = _text(20)
    city = _text(100)
    country = CountryField(required=False)
    phone = serializers.RegexField(PHONE_PATTERN, max_length=50, required=False,
                                   allow_blank=True)
    lat = CoordinateField(min_value=-90, max_value=90, required=False)
    lon = CoordinateField(min_value=-180, max_value=180, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("lat" in attrs) != ("lon" in attrs):
            missing = "lon" if "lat" in attrs else "lat"
            raise serializers.ValidationError(
                {missing: [_("Give both lat and lon, or neither.")]}, code="required")
        return attrs


def require_shipping_address(address: dict[str, Any]) -> None:
    """For an order that ships: the parts a carrier needs, each present and not blank."""
    missing = [part for part in REQUIRED_FOR_SHIPPING if not str(address.get(part, "")).strip()]
    if missing:
        raise serializers.ValidationError(
            {"address": {part: [serializers.ErrorDetail(
                _("A parcel needs this part of the address."), code="required")]
                for part in missing}})
