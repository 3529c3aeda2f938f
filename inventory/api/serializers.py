from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory.models import (
    FED_MOVEMENT_KINDS,
    LOCATION_CODE_PATTERN,
    Capability,
    Location,
    LocationKind,
    StockMovement,
)
from inventory.sql.snapshot import LevelRow
from oms.catalog.models import SKU_PATTERN
from oms.core.api.address import ClosedSerializer, CountryField
from oms.core.api.base import PLAIN_TEXT_PATTERN, InstantField
from oms.core.outbound import OutboundUrlField

_SKU = re.compile(SKU_PATTERN)
MAX_QUANTITY = 2_000_000_000
SNAPSHOT_CLOCK_SKEW = timedelta(minutes=5)
NEAR_PATTERN = r"^\s*-?\d{1,3}(\.\d+)?\s*,\s*-?\d{1,3}(\.\d+)?\s*$"


class AddressIn(ClosedSerializer):
    """A location's postal address; unknown keys are refused, as in a customer's address."""

    street = serializers.RegexField(PLAIN_TEXT_PATTERN, max_length=200, required=False,
                                    allow_blank=True)
    postal_code = serializers.RegexField(PLAIN_TEXT_PATTERN, max_length=20, required=False,
                                         allow_blank=True)
    city = serializers.RegexField(PLAIN_TEXT_PATTERN, max_length=100, required=False,
                                  allow_blank=True)
    country = CountryField(required=False)


class LocationIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(LocationKind.choices)
    address = AddressIn(required=False, default=dict)
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True,
                                 default=None)
    lon = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True,
                                 default=None)
    capabilities = serializers.ListField(child=serializers.ChoiceField(Capability.choices),
                                         required=False, default=list, max_length=10)
    priority = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False,
                                        default=100)
    wms_url = OutboundUrlField(max_length=500, required=False, allow_blank=True, default="")


class LocationOut(serializers.ModelSerializer):
    """`wms_url` is integration configuration: shown to erp and staff clients only."""

    capabilities = serializers.ListField(child=serializers.CharField())

    def to_representation(self, instance: Location) -> dict[str, Any]:
        data = super().to_representation(instance)
        client = self.context.get("client")
        if client is None or client.kind not in ("erp", "staff"):
            data.pop("wms_url", None)
        return data

    class Meta:
        model = Location
        fields = ["code", "name", "kind", "address", "lat", "lon", "capabilities", "priority",
                  "wms_url", "is_active", "updated_at"]


def location_code_valid(code: str) -> bool:
    return bool(re.match(LOCATION_CODE_PATTERN, code))


# The schema states what `_level_problem` checks, from the same constants.
@extend_schema_field({
    "type": "array", "maxItems": settings.SNAPSHOT_MAX_LEVELS, "minItems": 1,
    "items": {"type": "object", "required": ["sku", "on_hand"], "properties": {
        "sku": {"type": "string", "pattern": SKU_PATTERN},
        "on_hand": {"type": "integer", "minimum": 0, "maximum": MAX_QUANTITY},
        "safety_stock": {"type": "integer", "minimum": 0, "maximum": MAX_QUANTITY}}},
})
class LevelsField(serializers.Field):
    """Up to 50,000 ``{"sku", "on_hand", "safety_stock"?}`` rows, checked in one tight loop:
    a serializer per row would cost more than applying the snapshot."""

    def to_internal_value(self, data: Any) -> list[LevelRow]:
        if not isinstance(data, list):
            raise serializers.ValidationError(_("Expected a list of levels."), code="not_a_list")
        if not data:
            raise serializers.ValidationError(_("Give at least one level."), code="empty")
        if len(data) > settings.SNAPSHOT_MAX_LEVELS:
            raise serializers.ValidationError(
                _("At most %(max)d levels per snapshot.") % {"max": settings.SNAPSHOT_MAX_LEVELS},
                code="max_length",
            )
        rows, errors = [], {}
        for index, item in enumerate(data):
            problem = _level_problem(item)
            if problem:
                errors[index] = problem
                if len(errors) >= 20:
                    break
                continue
            rows.append(LevelRow(item["sku"], item["on_hand"], item.get("safety_stock")))
        if errors:
            raise serializers.ValidationError(errors)
        return rows

    def to_representation(self, value: Any) -> Any:
        return value


def _is_quantity(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_QUANTITY


def _level_problem(item: Any) -> dict[str, list[serializers.ErrorDetail]] | None:
    def error(field: str, message: str, code: str = "invalid") -> dict:
        return {field: [serializers.ErrorDetail(message, code=code)]}

    if not isinstance(item, dict):
        return error("sku", _("Each level is an object with sku and on_hand."))
    sku = item.get("sku")
    if not isinstance(sku, str) or not _SKU.match(sku):
        return error("sku", _("A SKU is 1-64 letters, digits or . _ / -."))
    if not _is_quantity(item.get("on_hand")):
        return error("on_hand", _("on_hand must be a whole number of at least 0."))
    if "safety_stock" in item and not _is_quantity(item["safety_stock"]):
        return error("safety_stock", _("safety_stock must be a whole number of at least 0."))
    return None


class SnapshotIn(serializers.Serializer):
    location = serializers.CharField(max_length=50)
    as_of = InstantField()
    levels = LevelsField()
    reference = serializers.CharField(max_length=200, required=False, default="")

    def validate_as_of(self, value: Any) -> Any:
        if value > timezone.now() + SNAPSHOT_CLOCK_SKEW:
            # A count from the future would make every real count look stale.
            raise serializers.ValidationError(_("as_of lies in the future."), code="future")
        return value


class SnapshotOut(serializers.Serializer):
    applied = serializers.IntegerField()
    ignored = serializers.IntegerField()
    movements = serializers.IntegerField()
    shortfalls = serializers.IntegerField()


class MovementIn(serializers.Serializer):
    location = serializers.CharField(max_length=50)
    sku = serializers.RegexField(SKU_PATTERN)
    quantity = serializers.IntegerField(min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY)
    kind = serializers.ChoiceField([(k.value, k.label) for k in FED_MOVEMENT_KINDS])
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                      default="")

    def validate_quantity(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError(_("Quantity must not be zero."), code="zero")
        return value


class MovementOut(serializers.ModelSerializer):
    location = serializers.CharField(source="location.code")
    sku = serializers.CharField(source="product_id")

    class Meta:
        model = StockMovement
        fields = ["id", "location", "sku", "quantity", "kind", "reference", "on_hand_after",
                  "created_at"]


class AvailabilityQuery(serializers.Serializer):
    skus = serializers.CharField(max_length=10_000, help_text="Comma-separated SKUs.")
    locations = serializers.CharField(required=False, max_length=10_000,
                                      help_text="Comma-separated location codes.")
    # The pattern is the shape; the ranges (-90..90, -180..180) are checked in validate_near.
    near = serializers.RegexField(NEAR_PATTERN, required=False, help_text="lat,lon")
    radius_km = serializers.FloatField(required=False, min_value=0.1, max_value=2000,
                                       help_text="Default 25 when near is given.")

    def validate_skus(self, value: str) -> list[str]:
        skus = [s.strip() for s in value.split(",") if s.strip()]
        if not skus:
            raise serializers.ValidationError(_("Name at least one SKU."), code="required")
        if len(skus) > settings.AVAILABILITY_MAX_SKUS:
            raise serializers.ValidationError(
                _("At most %(max)d SKUs per call.") % {"max": settings.AVAILABILITY_MAX_SKUS},
                code="max_length",
            )
        return list(dict.fromkeys(skus))

    def validate_locations(self, value: str) -> list[str]:
        return [c.strip() for c in value.split(",") if c.strip()]

    def validate_near(self, value: str) -> tuple[float, float]:
        try:
            lat, lon = (float(part) for part in value.split(","))
        except ValueError:
            raise serializers.ValidationError(
                _("near is 'lat,lon', e.g. 52.52,13.40."), code="invalid"
            ) from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise serializers.ValidationError(_("Coordinates out of range."), code="invalid")
        return lat, lon

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "radius_km" in attrs and "near" not in attrs:
            raise serializers.ValidationError(
                {"radius_km": [_("radius_km needs near.")]}, code="invalid"
            )
        return attrs


class AvailabilityLocationOut(serializers.Serializer):
    location = serializers.CharField()
    kind = serializers.CharField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()
    pickup = serializers.BooleanField()
    distance_km = serializers.FloatField(required=False)


class AvailabilitySkuOut(serializers.Serializer):
    sku = serializers.CharField()
    ship_available = serializers.IntegerField()
    locations = AvailabilityLocationOut(many=True)


class AvailabilityOut(serializers.Serializer):
    skus = AvailabilitySkuOut(many=True)
