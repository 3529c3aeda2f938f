"""`/api/v1/fulfillments`: what locations' systems (WMS, store POS, supplier portal) see and
do. A client confined to a location sees only that location's fulfilment orders."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.dispatch import dispatch_summary
from fulfillment.lifecycle import (
    fulfillment_accept,
    fulfillment_pick,
    fulfillment_reject,
    fulfillment_ship,
    fulfillment_tracking_event,
)
from fulfillment.models import FulfillmentOrder
from fulfillment.pickup import pickup_handover, pickup_pick, transfer_receive
from fulfillment.pickup_lookup import pickups_by_code
from fulfillment.selectors import fulfillment_get, fulfillment_list, transfer_get_for_receiver
from fulfillment.states import FulfillmentKind, FulfillmentStatus, ShipmentStatus
from inventory.api.reservations import MAX_LINE_QUANTITY, MAX_LINES
from oms.catalog.models import SKU_PATTERN
from oms.core.api.base import (
    ErrorSerializer,
    InstantField,
    PageQuery,
    StrictCharField,
    client_of,
    unique_skus,
    validated,
    validated_query,
)
from oms.core.api.pagination import paginated
from oms.core.api.schema import page_of
from oms.core.models import ClientKind
from oms.core.permissions import allow_kinds

LOCATION_SYSTEMS = (ClientKind.WMS, ClientKind.POS, ClientKind.SUPPLIER, ClientKind.STAFF)
READERS = (*LOCATION_SYSTEMS, ClientKind.ERP)


class LineOut(serializers.Serializer):
    sku = serializers.CharField(source="order_line.product_id")
    quantity = serializers.IntegerField()
    picked = serializers.IntegerField(allow_null=True)
    shipped = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class ShipmentLineOut(serializers.Serializer):
    sku = serializers.CharField(source="fulfillment_line.order_line.product_id")
    quantity = serializers.IntegerField()


class ShipmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    status = serializers.CharField()
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    lines = ShipmentLineOut(many=True)


class PickupOut(serializers.Serializer):
    """Never the code itself: the counter checks the code the customer shows."""

    ready_at = serializers.DateTimeField(allow_null=True)
    deadline = serializers.DateTimeField(source="pickup_deadline", allow_null=True)
    picked_up_at = serializers.DateTimeField(allow_null=True)
    wrong_codes = serializers.IntegerField(source="pickup_failed_attempts")
    locked_until = serializers.DateTimeField(source="pickup_locked_until", allow_null=True)
    customer_email = serializers.CharField(source="order.customer.email")
    customer_name = serializers.CharField(source="order.customer.name")


class FulfillmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.CharField(source="order.number")
    location = serializers.CharField(source="location.code")
    kind = serializers.CharField()
    destination = serializers.CharField(source="destination.code", allow_null=True,
                                        default=None)
    status = serializers.CharField()
    reason = serializers.CharField()
    lines = LineOut(many=True)
    shipments = ShipmentOut(many=True)
    dispatch = serializers.SerializerMethodField()
    pickup = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(PickupOut(allow_null=True))
    def get_pickup(self, fo: FulfillmentOrder) -> dict[str, Any] | None:
        return PickupOut(fo).data if fo.kind == FulfillmentKind.PICKUP else None

    def get_dispatch(self, fo: FulfillmentOrder) -> dict[str, Any]:
        return dispatch_summary(fo)


class ListQuery(PageQuery):
    location = serializers.CharField(required=False, max_length=50)
    status = serializers.ChoiceField(FulfillmentStatus.choices, required=False)
    kind = serializers.ChoiceField(FulfillmentKind.choices, required=False)
    order = serializers.CharField(required=False, max_length=30, help_text="Order number")
    customer_email = serializers.EmailField(required=False, max_length=254)
    pickup_code = serializers.CharField(required=False, max_length=20, help_text=(
        "The code a customer shows: finds their ready pickup (store-confined clients)."))


class FulfillmentsView(APIView):
    permission_classes = [allow_kinds(read=READERS)]

    @extend_schema(operation_id="fulfillments_list", parameters=[ListQuery],
                   responses={200: page_of(FulfillmentOut), 400: ErrorSerializer,
                              429: ErrorSerializer})
    def get(self, request: Request) -> Response:
        query = validated_query(request, ListQuery)
        client = client_of(request)
        fulfillments = fulfillment_list(
            client=client, location=query.get("location"), status=query.get("status"),
            kind=query.get("kind"), order=query.get("order"),
            customer_email=query.get("customer_email"))
        if "pickup_code" in query:
            # Scope required, rate limited: the policy every counter shares.
            fulfillments = fulfillments.filter(pk__in=pickups_by_code(
                pickups=fulfillments, scoped=bool(client.scope_code),
                requester_key=f"client:{client.pk}", code=query["pickup_code"]))
        return paginated(request, self, fulfillments, FulfillmentOut, ordering="pk")


class FulfillmentView(APIView):
    permission_classes = [allow_kinds(read=READERS)]

    @extend_schema(responses={200: FulfillmentOut, 404: ErrorSerializer})
    def get(self, request: Request, pk: int) -> Response:
        validated_query(request)
        return Response(FulfillmentOut(
            fulfillment_get(client=client_of(request), pk=pk, incoming=True)).data)


class _Command(APIView):
    permission_classes = [allow_kinds(*LOCATION_SYSTEMS)]

    def respond(self, request: Request, pk: int) -> Response:
        return Response(FulfillmentOut(
            fulfillment_get(client=client_of(request), pk=pk, incoming=True)).data)


class AcceptView(_Command):
    @extend_schema(request=None, responses={200: FulfillmentOut, 404: ErrorSerializer,
                                            409: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        client = client_of(request)
        fulfillment_accept(fulfillment=fulfillment_get(client=client, pk=pk), actor=client.name)
        return self.respond(request, pk)


class RejectIn(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class RejectView(_Command):
    @extend_schema(request=RejectIn, responses={200: FulfillmentOut, 400: ErrorSerializer,
                                                 404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = validated(RejectIn, request.data)
        client = client_of(request)
        fulfillment = fulfillment_get(client=client, pk=pk)
        fulfillment_reject(fulfillment=fulfillment, reason=data["reason"], actor=client.name)
        return self.respond(request, pk)


class PickLineIn(serializers.Serializer):
    sku = serializers.RegexField(SKU_PATTERN)
    picked = serializers.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY)


class PickIn(serializers.Serializer):
    lines = PickLineIn(many=True, allow_empty=False, max_length=MAX_LINES)
    validate_lines = staticmethod(unique_skus)


class PickView(_Command):
    @extend_schema(request=PickIn, responses={200: FulfillmentOut, 400: ErrorSerializer,
                                               404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = validated(PickIn, request.data)
        client = client_of(request)
        fulfillment = fulfillment_get(client=client, pk=pk)
        # A store pickup becomes ready (code, deadline) once every unit is picked.
        pick = pickup_pick if fulfillment.kind == FulfillmentKind.PICKUP else fulfillment_pick
        pick(fulfillment=fulfillment, picked={ln["sku"]: ln["picked"] for ln in data["lines"]},
             actor=client.name)
        return self.respond(request, pk)


class ReceiveView(_Command):
    @extend_schema(request=None, responses={200: FulfillmentOut, 404: ErrorSerializer,
                                            409: ErrorSerializer, 422: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        client = client_of(request)
        transfer = transfer_get_for_receiver(client=client, pk=pk)
        transfer_receive(fulfillment=transfer, actor=client.name)
        return self.respond(request, pk)


class HandoverIn(serializers.Serializer):
    pickup_code = StrictCharField(max_length=20)


class HandoverView(_Command):
    @extend_schema(request=HandoverIn, responses={
        200: FulfillmentOut, 400: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer,
        422: ErrorSerializer, 423: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = validated(HandoverIn, request.data)
        client = client_of(request)
        pickup_handover(fulfillment=fulfillment_get(client=client, pk=pk),
                        code=data["pickup_code"], actor=client.name)
        return self.respond(request, pk)


class ShipLineIn(serializers.Serializer):
    sku = serializers.RegexField(SKU_PATTERN)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class ShipIn(serializers.Serializer):
    carrier = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,49}$")
    tracking_number = serializers.CharField(max_length=100)
    lines = ShipLineIn(many=True, required=False, allow_empty=False, max_length=MAX_LINES)
    validate_lines = staticmethod(unique_skus)


class ShipView(_Command):
    @extend_schema(request=ShipIn, responses={200: FulfillmentOut, 400: ErrorSerializer,
                                               404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = validated(ShipIn, request.data)
        client = client_of(request)
        lines = {ln["sku"]: ln["quantity"] for ln in data["lines"]} if "lines" in data else None
        fulfillment_ship(fulfillment=fulfillment_get(client=client, pk=pk),
                         carrier=data["carrier"].lower(), tracking_number=data["tracking_number"],
                         lines=lines, actor=client.name)
        return self.respond(request, pk)


class TrackingIn(serializers.Serializer):
    status = serializers.ChoiceField([ShipmentStatus.IN_TRANSIT,
                                      ShipmentStatus.OUT_FOR_DELIVERY,
                                      ShipmentStatus.DELIVERED, ShipmentStatus.FAILED])
    at = InstantField()
    tracking_number = serializers.CharField(max_length=100, required=False)


class TrackingView(_Command):
    @extend_schema(request=TrackingIn, responses={200: FulfillmentOut, 400: ErrorSerializer,
                                                   404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = validated(TrackingIn, request.data)
        client = client_of(request)
        fulfillment_tracking_event(fulfillment=fulfillment_get(client=client, pk=pk),
                                   status=data["status"], at=data["at"], actor=client.name,
                                   tracking_number=data.get("tracking_number"))
        return self.respond(request, pk)
