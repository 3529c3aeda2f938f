"""`/api/v1/store-visits` and `/api/v1/pickup-offers` (API.md, Store visits and
pickup-on-visit): the app or the till says the customer is in the store, and gets the goods of
their unshipped orders the store can hand over now."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.models import LOCATION_CODE_PATTERN
from inventory.scope import location_for_client
from oms.catalog.models import SKU_PATTERN
from oms.core.api.address import ClosedSerializer
from oms.core.api.base import (
    EXTERNAL_ID_PATTERN,
    ErrorSerializer,
    client_of,
    validated,
    validated_query,
)
from oms.core.api.written import Written
from oms.core.models import ClientKind
from oms.core.permissions import allow_kinds
from visits.accept import offer_accept
from visits.browsing import in_store, signals_record
from visits.models import SignalKind
from visits.selectors import customer_named, offer_get, visit_get
from visits.services import offer_decline, visit_register_named
from visits.states import ShipmentStop, VisitSource

REGISTER = (ClientKind.APP, ClientKind.POS)
READ = (*REGISTER, ClientKind.STAFF)


class VisitCustomerIn(ClosedSerializer):
    email = serializers.EmailField(max_length=254, required=False)
    external_id = serializers.RegexField(EXTERNAL_ID_PATTERN, max_length=100, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("email" in attrs) == ("external_id" in attrs):
            raise serializers.ValidationError(
                _("Name the customer by email or by external_id, one of them."),
                code="invalid")
        return attrs


class VisitIn(ClosedSerializer):
    location = serializers.RegexField(LOCATION_CODE_PATTERN)
    customer = VisitCustomerIn()
    source = serializers.ChoiceField(VisitSource.choices)


class OfferLineOut(serializers.Serializer):
    sku = serializers.CharField(source="fulfillment_line.order_line.product_id")
    quantity = serializers.IntegerField()


class OfferOut(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.CharField(source="order.number")
    status = serializers.CharField()
    lines = OfferLineOut(many=True)
    expires_at = serializers.DateTimeField()
    pickup = serializers.IntegerField(source="pickup_id", allow_null=True, help_text=(
        "Once accepted: the fulfilment order (kind pickup) the store prepares; its pickup code "
        "is in the order (GET /api/v1/orders/{number}) once it is ready."))
    shipment_stop = serializers.ChoiceField(ShipmentStop.choices, allow_blank=True, help_text=(
        "Once accepted: what the warehouse made of the parcel (not_needed, requested, "
        "stopped, too_late, failed). The pickup is ready only once it is not_needed or "
        "stopped; too_late withdraws the offer."))


class InStoreOut(serializers.Serializer):
    sku = serializers.CharField()
    available = serializers.IntegerField()
    source = serializers.CharField()
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2,
                                                required=False)


class VisitOut(serializers.Serializer):
    id = serializers.IntegerField()
    location = serializers.CharField(source="location.code")
    source = serializers.CharField()
    started_at = serializers.DateTimeField()
    offers = OfferOut(many=True)
    in_store = serializers.SerializerMethodField(help_text=(
        "What the customer looked at online (browsing signals) and this store has available "
        "now, with the store's or channel's discount; only with consent to in_store_offers."))

    @extend_schema_field(InStoreOut(many=True))
    def get_in_store(self, visit: Any) -> list[dict[str, Any]]:
        # "consented": read by the visit's registration just now (see StoreVisitsView)
        return InStoreOut(in_store(visit, consented=self.context.get("consented")),
                          many=True).data


class StoreVisitsView(APIView):
    permission_classes = [allow_kinds(*REGISTER)]

    @extend_schema(request=VisitIn, responses={201: VisitOut, 200: VisitOut,
                                                400: ErrorSerializer, 404: ErrorSerializer})
    def post(self, request: Request) -> Response:
        data = validated(VisitIn, request.data)
        client = client_of(request)
        store = location_for_client(client, data["location"])
        registered = visit_register_named(
            location=store, email=data["customer"].get("email"),
            external_id=data["customer"].get("external_id"), source=data["source"],
            actor=client.name)
        if not registered.created:  # seen again: its offers may have moved on since
            return Response(VisitOut(visit_get(client=None, pk=registered.visit.pk)).data)
        # A new visit is answered from the rows just written (its offers and their lines are
        # in it), not read back: the customer is standing in the store.
        return Response(VisitOut(Written(registered.visit, offers=registered.offers),
                                 context={"consented": registered.consented}).data,
                        status=status.HTTP_201_CREATED)


class StoreVisitView(APIView):
    permission_classes = [allow_kinds(read=READ)]

    @extend_schema(responses={200: VisitOut, 404: ErrorSerializer})
    def get(self, request: Request, pk: int) -> Response:
        validated_query(request)
        return Response(VisitOut(visit_get(client=client_of(request), pk=pk)).data)


class PickupOfferView(APIView):
    permission_classes = [allow_kinds(read=READ)]

    @extend_schema(responses={200: OfferOut, 404: ErrorSerializer})
    def get(self, request: Request, pk: int) -> Response:
        validated_query(request)
        return Response(OfferOut(offer_get(client=client_of(request), pk=pk)).data)


class PickupOfferAcceptView(APIView):
    permission_classes = [allow_kinds(*REGISTER)]

    @extend_schema(request=None, responses={200: OfferOut, 404: ErrorSerializer,
                                            409: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        client = client_of(request)
        offer_accept(offer=offer_get(client=client, pk=pk), actor=client.name)
        return Response(OfferOut(offer_get(client=client, pk=pk)).data)


class PickupOfferDeclineView(APIView):
    permission_classes = [allow_kinds(*REGISTER)]

    @extend_schema(request=None, responses={200: OfferOut, 404: ErrorSerializer,
                                            409: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        client = client_of(request)
        offer_decline(offer=offer_get(client=client, pk=pk), actor=client.name)
        return Response(OfferOut(offer_get(client=client, pk=pk)).data)


SIGNAL_SENDERS = (ClientKind.WEBSHOP, ClientKind.APP)
MAX_SIGNAL_SKUS = 100


class SignalIn(ClosedSerializer):
    customer = VisitCustomerIn()
    kind = serializers.ChoiceField(SignalKind.choices)
    skus = serializers.ListField(child=serializers.RegexField(SKU_PATTERN), allow_empty=False,
                                 max_length=MAX_SIGNAL_SKUS)


class SignalOut(serializers.Serializer):
    recorded = serializers.IntegerField(help_text=(
        "How many SKUs the call named (the same whether or not the customer is known: the "
        "answer reveals nothing about who has a profile)."))


class BrowsingSignalsView(APIView):
    permission_classes = [allow_kinds(*SIGNAL_SENDERS)]

    @extend_schema(request=SignalIn, responses={201: SignalOut, 400: ErrorSerializer})
    def post(self, request: Request) -> Response:
        data = validated(SignalIn, request.data)
        client = client_of(request)
        customer = customer_named(email=data["customer"].get("email"),
                                  external_id=data["customer"].get("external_id"))
        signals_record(customer=customer, kind=data["kind"], skus=data["skus"],
                       channel=client.channel)
        return Response(SignalOut({"recorded": len(set(data["skus"]))}).data,
                        status=status.HTTP_201_CREATED)
