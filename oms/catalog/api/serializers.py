from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from oms.catalog.models import SKU_PATTERN, Product
from oms.catalog.services import PriceData, ProductData
from oms.core.api.bounded_json import BoundedJSONField

CURRENCY_PATTERN = r"^[A-Z]{3}$"
MAX_PRICES = 100
MAX_MEDIA = 50


class PriceIn(serializers.Serializer):
    channel = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$")
    currency = serializers.RegexField(CURRENCY_PATTERN)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class MediaIn(serializers.Serializer):
    url = serializers.URLField(max_length=1000)
    kind = serializers.ChoiceField(["image", "video", "document"], default="image")
    alt = serializers.CharField(max_length=255, required=False, allow_blank=True)


class ProductIn(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    ean = serializers.RegexField(r"^(\d{8}|\d{12,14})$", required=False, allow_blank=True,
                                 default="")
    attributes = BoundedJSONField(required=False, default=dict)
    prices = PriceIn(many=True, required=False, allow_null=False, max_length=MAX_PRICES)
    media = MediaIn(many=True, required=False, default=list, max_length=MAX_MEDIA)

    def validate_prices(self, prices: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = [(p["channel"], p["currency"]) for p in prices]
        if len(keys) != len(set(keys)):
            raise serializers.ValidationError(
                _("Only one price per channel and currency."), code="duplicate"
            )
        return prices

    @staticmethod
    def to_data(sku: str, data: dict[str, Any]) -> ProductData:
        prices = data.get("prices")
        return ProductData(
            sku=sku,
            name=data["name"],
            ean=data.get("ean", ""),
            attributes=data.get("attributes", {}),
            media=[dict(m) for m in data.get("media", [])],
            prices=None if prices is None else [PriceData(**p) for p in prices],
        )


class BulkProductIn(ProductIn):
    sku = serializers.RegexField(SKU_PATTERN)


class BulkIn(serializers.Serializer):
    products = BulkProductIn(many=True, allow_empty=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read the limit per call, not once at import, so a changed setting takes effect.
        # ListSerializer checks it before validating any product.
        self.fields["products"].max_length = settings.PRODUCTS_BULK_MAX

    def validate_products(self, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
        skus = [p["sku"] for p in products]
        if len(skus) != len(set(skus)):
            raise serializers.ValidationError(_("Each SKU may appear once per call."),
                                              code="duplicate_sku")
        return products


class PriceOut(serializers.Serializer):
    channel = serializers.CharField()
    currency = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class ProductOut(serializers.ModelSerializer):
    prices = PriceOut(many=True)

    class Meta:
        model = Product
        fields = ["sku", "name", "ean", "attributes", "media", "prices", "updated_at"]


class BulkOut(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
