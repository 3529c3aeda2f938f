"""`/api/v1/fulfillments`: what locations' systems (WMS, store POS, supplier portal) see and
do. A client confined to a location sees only that location's fulfilment orders."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.lifecycle import (
    fulfillment_accept,
    fulfillment_pick,
    fulfillment_reject,
    fulfillment_ship,
    fulfillment_tracking_event,
)
from fulfillment.models import FulfillmentLine, FulfillmentOrder, Shipment
from fulfillment.pickup import (
    pickup_handover,
    pickup_pick,
    pickups_matching_code,
    transfer_receive,
)
from fulfillment.states import FulfillmentKind, FulfillmentStatus, ShipmentStatus
from inventory.api.reservations import MAX_LINES
from oms.catalog.models import SKU_PATTERN
from oms.core.api.base import (
    ErrorSerializer,
    InstantField,
    LeanSerializer,
    PageQuery,
    StrictCharField,
    client_of,
    paginated,
    unique_skus,
    validated,
    validated_query,
)
from oms.core.api.schema import page_of
from oms.core.errors import InvalidInput, NotFound
from oms.core.models import ApiClient, ClientKind
from oms.core.permissions import allow_kinds
from oms.core.throttle import require_within_limit

LOCATION_SYSTEMS = (ClientKind.WMS, ClientKind.POS, ClientKind.SUPPLIER, ClientKind.STAFF)
READERS = (*LOCATION_SYSTEMS, ClientKind.ERP)


class LineOut(LeanSerializer):
    sku = serializers.CharField(source="order_line.product_id")
    quantity = serializers.IntegerField()
    picked = serializers.IntegerField(allow_null=True)
    shipped = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class ShipmentLineOut(LeanSerializer):
    sku = serializers.CharField(source="fulfillment_line.order_line.product_id")
    quantity = serializers.IntegerField()


class ShipmentOut(LeanSerializer):
    id = serializers.IntegerField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    status = serializers.CharField()
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    lines = ShipmentLineOut(many=True)


class PickupOut(LeanSerializer):
    """Never the code itself: the counter checks the code the customer shows."""

    ready_at = serializers.DateTimeField(allow_null=True)
    deadline = serializers.DateTimeField(source="pickup_deadline", allow_null=True)
    picked_up_at = serializers.DateTimeField(allow_null=True)
    wrong_codes = serializers.IntegerField(source="pickup_failed_attempts")
    locked_until = serializers.DateTimeField(source="pickup_locked_until", allow_null=True)
    customer_email = serializers.CharField(source="order.customer.email")
    customer_name = serializers.CharField(source="order.customer.name")


class FulfillmentOut(LeanSerializer):
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
        return {"status": fo.dispatch_status, "attempts": fo.dispatch_attempts,
                "dispatched_at": fo.dispatched_at}


def fulfillments_visible_to(client: ApiClient, *,
                            incoming: bool = True) -> QuerySet[FulfillmentOrder]:
    """A client confined to a location sees its fulfilment orders and, when `incoming`, the
    transfers on their way to it (which it may only receive)."""
    fulfillments = FulfillmentOrder.objects.select_related(
        "order", "order__customer", "location", "destination").prefetch_related(
        Prefetch("lines", queryset=FulfillmentLine.objects.select_related("order_line")
                 .order_by("pk")),
        Prefetch("shipments", queryset=Shipment.objects.prefetch_related(
            "lines__fulfillment_line__order_line").order_by("pk")),
    )
    if client.scope_code:
        mine = Q(location__code=client.scope_code)
        if incoming:
            mine |= Q(destination__code=client.scope_code)
        fulfillments = fulfillments.filter(mine)
    return fulfillments


def fulfillment_for_client(client: ApiClient, pk: int, *,
                           incoming: bool = False) -> FulfillmentOrder:
    fulfillment = fulfillments_visible_to(client, incoming=incoming).filter(pk=pk).first()
    if fulfillment is None:
        raise NotFound(_("No fulfilment %(id)s.") % {"id": pk}, attr="id")
    return fulfillment


def transfer_for_receiver(client: ApiClient, pk: int) -> FulfillmentOrder:
    """A transfer only the store it is meant for receives, not the location sending it."""
    transfers = fulfillments_visible_to(client, incoming=True)
    if client.scope_code:
        transfers = transfers.filter(destination__code=client.scope_code)
    transfer = transfers.filter(pk=pk).first()
    if transfer is None:
        raise NotFound(_("No fulfilment %(id)s.") % {"id": pk}, attr="id")
    return transfer


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
        fulfillments = fulfillments_visible_to(client_of(request))
        if "location" in query:
            fulfillments = fulfillments.filter(location__code=query["location"])
        if "status" in query:
            fulfillments = fulfillments.filter(status=query["status"])
        if "kind" in query:
            fulfillments = fulfillments.filter(kind=query["kind"])
        if "order" in query:
            fulfillments = fulfillments.filter(order__number=query["order"])
        if "customer_email" in query:
            fulfillments = fulfillments.filter(
                order__customer__email=query["customer_email"].lower())
        if "pickup_code" in query:
            client = client_of(request)
            if not client.scope_code:
                raise InvalidInput([("scope_required", _(
                    "Looking a pickup up by its code needs a client confined to the store."),
                    "pickup_code")])
            require_within_limit(f"pickup-code:client:{client.pk}",
                                 settings.PICKUP_CODE_SEARCHES_PER_MINUTE, attr="pickup_code")
            fulfillments = fulfillments.filter(
                pk__in=pickups_matching_code(fulfillments, query["pickup_code"]))
        return paginated(request, self, fulfillments, FulfillmentOut, ordering="pk")


class FulfillmentView(APIView):
    permission_classes = [allow_kinds(read=READERS)]

    @extend_schema(responses={200: FulfillmentOut, 404: ErrorSerializer})
    def get(self, request: Request, pk: int) -> Response:
        validated_query(request)
        return Response(FulfillmentOut(
            fulfillment_for_client(client_of(request), pk, incoming=True)).data)


class _Command(APIView):
    permission_classes = [allow_kinds(*LOCATION_SYSTEMS)]

    def respond(self, request: Request, pk: int) -> Response:
        return Response(FulfillmentOut(
            fulfillment_for_client(client_of(request), pk, incoming=True)).data)


class AcceptView(_Command):
    @extend_schema(request=None, responses={200: FulfillmentOut, 404: ErrorSerializer,
                                            409: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        client = client_of(request)
        fulfillment_accept(fulfillment=fulfillment_for_client(client, pk), actor=client.name)
        return self.respond(request, pk)


class RejectIn(LeanSerializer):
    reason = serializers.CharField(max_length=500)


class RejectView(_Command):
    @extend_schema(request=RejectIn, responses={200: FulfillmentOut, 400: ErrorSerializer,
                                                 404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = validated(RejectIn, request.data)
        client = client_of(request)
        fulfillment = fulfillment_for_client(client, pk)
        fulfillment_reject(fulfillment=fulfillment, reason=data["reason"], actor=client.name)
        return self.respond(request, pk)


class PickLineIn(LeanSerializer):
    sku = serializers.RegexField(SKU_PATTERN)
    picked = serializers.IntegerField(min_value=0)


class PickIn(LeanSerializer):
    lines = PickLineIn(many=True, allow_empty=False, max_length=MAX_LINES)
    validate_lines = staticmethod(unique_skus)


class PickView(_Command):
    @extend_schema(request=PickIn, responses={200: FulfillmentOut, 400: ErrorSerializer,
                                               404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = validated(PickIn, request.data)
        client = client_of(request)
        fulfillment = fulfillment_for_client(client, pk)
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
        transfer = transfer_for_receiver(client, pk)
        transfer_receive(fulfillment=transfer, actor=client.name)
        return self.respond(request, pk)


class HandoverIn(LeanSerializer):
    pickup_code = StrictCharField(max_length=20)


class HandoverView(_Command):
    @extend_schema(request=HandoverIn, responses={
        200: FulfillmentOut, 400: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer,
        422: ErrorSerializer, 423: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = validated(HandoverIn, request.data)
        client = client_of(request)
        pickup_handover(fulfillment=fulfillment_for_client(client, pk),
                        code=data["pickup_code"], actor=client.name)
        return self.respond(request, pk)


class ShipLineIn(LeanSerializer):
    sku = serializers.RegexField(SKU_PATTERN)
    quantity = serializers.IntegerField(min_value=1)


class ShipIn(LeanSerializer):
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
        fulfillment_ship(fulfillment=fulfillment_for_client(client, pk),
                         carrier=data["carrier"].lower(), tracking_number=data["tracking_number"],
                         lines=lines, actor=client.name)
        return self.respond(request, pk)


class TrackingIn(LeanSerializer):
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
        fulfillment_tracking_event(fulfillment=fulfillment_for_client(client, pk),
                                   status=data["status"], at=data["at"], actor=client.name,
                                   tracking_number=data.get("tracking_number"))
        return self.respond(request, pk)
