"""`POST /api/v1/payments/events`: what the payment service provider tells us."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oms.catalog.api.serializers import CURRENCY_PATTERN
from oms.core.api.base import ErrorSerializer, InstantField, client_of, validated
from oms.core.idempotency import REPLAYED_HEADER
from oms.core.models import ClientKind
from oms.core.permissions import allow_kinds
from payments.services import PspEventData, psp_event_receive
from payments.states import PaymentStatus, PspEventOutcome, PspEventType

MONEY_EVENTS = {PspEventType.CAPTURED, PspEventType.REFUNDED, PspEventType.CHARGEBACK}


class PspEventIn(serializers.Serializer):
    psp_reference = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(PspEventType.choices)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.RegexField(CURRENCY_PATTERN)
    at = InstantField()

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["type"] in MONEY_EVENTS and data["amount"] <= 0:
            raise serializers.ValidationError(
                {"amount": [_("A captured, refunded or chargeback event moves more than 0.")]},
                code="min_value")
        return data


class PspEventPaymentOut(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField()
    status = serializers.ChoiceField(PaymentStatus.choices)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    captured_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    refunded_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()


class PspEventOrderOut(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()


class PspEventOut(serializers.Serializer):
    """For the schema: the body is stored with the event and replayed as it was."""

    id = serializers.IntegerField()
    psp_reference = serializers.CharField()
    type = serializers.ChoiceField(PspEventType.choices)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    at = serializers.DateTimeField()
    outcome = serializers.ChoiceField(PspEventOutcome.choices)
    payment = PspEventPaymentOut()
    order = PspEventOrderOut()


class PspEventsView(APIView):
    permission_classes = [allow_kinds(ClientKind.PSP)]

    @extend_schema(
        request=PspEventIn,
        responses={200: PspEventOut, 400: ErrorSerializer, 403: ErrorSerializer,
                   404: ErrorSerializer, 409: ErrorSerializer, 422: ErrorSerializer},
        description="A payment event from the PSP, matched by `psp_reference`. Redelivering "
                    "the same event (reference, type, amount, at) answers the first response "
                    "again with `Idempotent-Replayed: true` and changes nothing.",
    )
    def post(self, request: Request) -> Response:
        data = validated(PspEventIn, request.data)
        receipt = psp_event_receive(data=PspEventData(**data), actor=client_of(request).name)
        headers = {REPLAYED_HEADER: "true"} if receipt.replayed else None
        return Response(receipt.body, status=200, headers=headers)
