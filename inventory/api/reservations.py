from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.models import LOCATION_CODE_PATTERN, Reservation
from inventory.reservations import (
    reservation_extend,
    reservation_get,
    reservation_hold,
    reservation_release,
)
from inventory.sourcing import DeliveryRequest, LineRequest
from oms.catalog.models import SKU_PATTERN
from oms.catalog.validation import require_known_skus
from oms.core.api.address import PostalAddressIn
from oms.core.api.base import (
    ErrorSerializer,
    client_of,
    validated,
    validated_query,
)
from oms.core.models import SELLING_KINDS, ClientKind
from oms.core.permissions import allow_kinds

MAX_LINES = 200
MAX_LINE_QUANTITY = 10_000


class LineIn(serializers.Serializer):
    sku = serializers.RegexField(SKU_PATTERN)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class DeliveryIn(serializers.Serializer):
    """`{"method": "ship", "address"?: {...}}` or `{"method": "pickup", "location": code}`."""

    method = serializers.ChoiceField(["ship", "pickup"])
    location = serializers.RegexField(LOCATION_CODE_PATTERN, required=False)
    address = PostalAddressIn(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["method"] == "pickup" and not attrs.get("location"):
            raise serializers.ValidationError(
                {"location": [_("A pickup names the store.")]}, code="required"
            )
        return attrs


def delivery_request(data: dict[str, Any]) -> DeliveryRequest:
    if data["method"] == "pickup":
        return DeliveryRequest(method="pickup", location=data["location"])
    return DeliveryRequest.to_address(data.get("address") or {})


def reject_duplicate_and_unknown_skus(lines: list[dict[str, Any]]) -> None:
    require_known_skus([ln["sku"] for ln in lines], attr="lines")


class HoldIn(serializers.Serializer):
    reference = serializers.CharField(max_length=200)
    lines = LineIn(many=True, allow_empty=False, max_length=MAX_LINES)
    delivery = DeliveryIn()
    ttl_seconds = serializers.IntegerField(required=False, min_value=1,
                                           max_value=settings.RESERVATION_MAX_TTL_SECONDS)


class ExtendIn(serializers.Serializer):
    # The bound as configured at start-up, for the schema; the service checks the current one.
    ttl_seconds = serializers.IntegerField(min_value=1,
                                           max_value=settings.RESERVATION_MAX_TTL_SECONDS)


class HoldLineOut(serializers.Serializer):
    sku = serializers.CharField(source="product_id")
    quantity = serializers.IntegerField()
    location = serializers.CharField(source="location.code")


class HoldOut(serializers.ModelSerializer):
    lines = HoldLineOut(many=True)

    class Meta:
        model = Reservation
        fields = ["id", "kind", "state", "reference", "expires_at", "lines", "created_at"]


SELLERS = tuple(SELLING_KINDS)


class ReservationsView(APIView):
    permission_classes = [allow_kinds(*SELLERS)]
    # A cart hold from one stock row is one statement that commits by itself, so the hot row's
    # lock is held only inside the database; the answer is the validated request's hold read
    # back (oms.core.atomic_writes).
    atomic_request = False

    @extend_schema(request=HoldIn, responses={201: HoldOut, 400: ErrorSerializer,
                                               409: ErrorSerializer, 422: ErrorSerializer})
    def post(self, request: Request) -> Response:
        data = validated(HoldIn, request.data)
        reject_duplicate_and_unknown_skus(data["lines"])
        client = client_of(request)
        hold = reservation_hold(
            reference=data["reference"], channel=client.channel, placed_by=client.name,
            lines=[LineRequest(ln["sku"], ln["quantity"]) for ln in data["lines"]],
            delivery=delivery_request(data["delivery"]), ttl_seconds=data.get("ttl_seconds"),
        )
        return Response(HoldOut(reservation_get(reservation_id=hold.pk, client=None)).data,
                        status=status.HTTP_201_CREATED)


class ReservationView(APIView):
    permission_classes = [allow_kinds(*SELLERS, ClientKind.STAFF)]

    @extend_schema(responses={200: HoldOut, 404: ErrorSerializer})
    def get(self, request: Request, pk: str) -> Response:
        validated_query(request)
        return Response(HoldOut(reservation_get(reservation_id=pk,
                                                client=client_of(request))).data)

    @extend_schema(request=None, responses={204: None, 404: ErrorSerializer,
                                            409: ErrorSerializer})
    def delete(self, request: Request, pk: str) -> Response:
        validated_query(request)  # it takes no query parameters
        hold = reservation_get(reservation_id=pk, client=client_of(request))
        reservation_release(reservation=hold)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReservationExtendView(APIView):
    permission_classes = [allow_kinds(*SELLERS, ClientKind.STAFF)]

    @extend_schema(request=ExtendIn, responses={200: HoldOut, 404: ErrorSerializer,
                                                 409: ErrorSerializer})
    def post(self, request: Request, pk: str) -> Response:
        data = validated(ExtendIn, request.data)
        hold = reservation_get(reservation_id=pk, client=client_of(request))
        extended = reservation_extend(reservation=hold, ttl_seconds=data["ttl_seconds"])
        return Response(HoldOut(reservation_get(reservation_id=extended.pk, client=None)).data)
