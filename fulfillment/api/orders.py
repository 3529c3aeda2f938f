"""`/api/v1/orders`: intake, reading, the audit trail and cancellation. The views live here, in
the top layer, because an order's representation includes its fulfilments and payments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.models import FulfillmentOrder
from fulfillment.pickup import pickup_code
from fulfillment.selectors import order_event_list, order_get, order_list
from fulfillment.use_cases.order_cancellation import order_cancel
from fulfillment.use_cases.order_intake import (
    OrderRequest,
    PlacedOrder,
    order_place,
    order_sourcing_preview,
)
from inventory.api.reservations import (
    MAX_LINE_QUANTITY,
    MAX_LINES,
    DeliveryIn,
    LineIn,
    delivery_request,
    reject_duplicate_and_unknown_skus,
)
from inventory.sourcing import LineRequest
from oms.catalog.api.serializers import CURRENCY_PATTERN
from oms.catalog.models import SKU_PATTERN
from oms.core.api.address import PHONE_PATTERN, require_shipping_address
from oms.core.api.base import (
    EXTERNAL_ID_PATTERN,
    PLAIN_TEXT_PATTERN,
    ErrorSerializer,
    InstantField,
    PageQuery,
    client_of,
    unique_skus,
    validated,
    validated_query,
)
from oms.core.api.pagination import paginated
from oms.core.api.schema import page_of
from oms.core.api.written import Written
from oms.core.models import SELLING_KINDS, ClientKind
from oms.core.permissions import allow_kinds
from oms.orders.models import Order
from oms.orders.services import CustomerData, OrderLineData
from oms.orders.states import OrderStatus
from payments.models import CHANNEL_PAYMENT_METHODS, STORE_CREDIT_CODE_PATTERN, PaymentMethod
from payments.services import PaymentData

PSP_METHODS = {PaymentMethod.CARD, PaymentMethod.PAYPAL, PaymentMethod.DIRECT_DEBIT}
ORDER_READERS = (*SELLING_KINDS, ClientKind.STAFF, ClientKind.ERP)
# The channels that show a customer their pickup code (the till checks it, it never reads it).
CUSTOMER_FACING = (ClientKind.WEBSHOP, ClientKind.APP, ClientKind.MARKETPLACE)


# --- input ---------------------------------------------------------------------------------
class CustomerIn(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.RegexField(PLAIN_TEXT_PATTERN, max_length=200, required=False,
                                  allow_blank=True, default="")
    phone = serializers.RegexField(PHONE_PATTERN, max_length=50, required=False,
                                   allow_blank=True, default="")
    external_id = serializers.RegexField(EXTERNAL_ID_PATTERN, max_length=100, required=False,
                                         allow_blank=True, default="")


class OrderLineIn(serializers.Serializer):
    sku = serializers.RegexField(SKU_PATTERN)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0,
                                        max_value=100)


class PaymentIn(serializers.Serializer):
    method = serializers.ChoiceField(CHANNEL_PAYMENT_METHODS)
    status = serializers.ChoiceField(["authorized", "captured", "pending"])
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    psp_reference = serializers.CharField(max_length=200, required=False, allow_blank=True)
    store_credit_code = serializers.RegexField(
        STORE_CREDIT_CODE_PATTERN, required=False,
        help_text="Method store_credit: the code of the store credit that pays the order.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["method"] in PSP_METHODS and not attrs.get("psp_reference"):
            raise serializers.ValidationError(
                {"psp_reference": [_("Card, PayPal and direct debit payments need the PSP "
                                     "reference.")]}, code="required")
        if attrs["method"] == PaymentMethod.STORE_CREDIT:
            if not attrs.get("store_credit_code"):
                raise serializers.ValidationError(
                    {"store_credit_code": [_("A store credit payment needs its code.")]},
                    code="required")
            if attrs["status"] != "captured":
                raise serializers.ValidationError(
                    {"status": [_("A store credit pays at once: its status is captured.")]},
                    code="invalid")
        elif attrs.get("store_credit_code"):
            raise serializers.ValidationError(
                {"store_credit_code": [_("Only a store credit payment has a code.")]},
                code="invalid")
        return attrs


class OrderIn(serializers.Serializer):
    external_id = serializers.RegexField(EXTERNAL_ID_PATTERN, max_length=100, required=False,
                                         allow_blank=True)
    customer = CustomerIn()
    currency = serializers.RegexField(CURRENCY_PATTERN)
    lines = OrderLineIn(many=True, allow_empty=False, max_length=MAX_LINES)
    delivery = DeliveryIn()
    payment = PaymentIn()
    reservation_id = serializers.UUIDField(required=False, allow_null=True)
    language = serializers.ChoiceField(["de", "en"], required=False, default="de")
    discount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, default=Decimal("0.00"),
        help_text="Order discount (vouchers, promotions) taken off the lines' total; a return "
                  "shares it out over the lines in proportion to their value.")
    shipping = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, default=Decimal("0.00"),
        help_text="Shipping charged; refunded when the whole order comes back (per channel).")

    def validate_delivery(self, delivery: dict[str, Any]) -> dict[str, Any]:
        # A cart hold may ship "somewhere in Germany"; an order ships to a door.
        if delivery["method"] == "ship":
            require_shipping_address(delivery.get("address") or {})
        return delivery


class CancelLineIn(serializers.Serializer):
    sku = serializers.RegexField(SKU_PATTERN)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class CancelIn(serializers.Serializer):
    reason = serializers.CharField(max_length=500)
    lines = CancelLineIn(many=True, required=False, allow_empty=False, max_length=MAX_LINES)

    validate_lines = staticmethod(unique_skus)


class PreviewIn(serializers.Serializer):
    lines = LineIn(many=True, allow_empty=False, max_length=MAX_LINES)
    delivery = DeliveryIn()


# --- output --------------------------------------------------------------------------------
class CustomerOut(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField()
    phone = serializers.CharField()


class OrderLineOut(serializers.Serializer):
    sku = serializers.CharField(source="product_id")
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    allocated = serializers.IntegerField()
    fulfilled = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    returned = serializers.IntegerField()


class FulfillmentLineOut(serializers.Serializer):
    sku = serializers.CharField(source="order_line.product_id")
    quantity = serializers.IntegerField()
    shipped = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class OrderFulfillmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    location = serializers.CharField(source="location.code")
    kind = serializers.CharField()
    status = serializers.CharField()
    lines = FulfillmentLineOut(many=True)
    pickup_code = serializers.SerializerMethodField(
        help_text="The code the customer shows at the store, while the pickup is ready.")
    pickup_deadline = serializers.DateTimeField(allow_null=True)

    def get_pickup_code(self, fo: FulfillmentOrder) -> str | None:
        return _shown_pickup_code(fo, self.context.get("show_pickup_code", False))


def _shown_pickup_code(fo: FulfillmentOrder, show: bool) -> str | None:
    # Only a single order read by the channel that shows it to its customer: never in lists,
    # never to back-office or till clients, never in a POST answer (the idempotency store would
    # keep it).
    return pickup_code(fo) if show else None


class PaymentOut(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField()
    status = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    captured_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    refunded_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    voided_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    psp_reference = serializers.CharField(allow_null=True)


class OrderOut(serializers.Serializer):
    """The order as the API shows it (its documented shape in OpenAPI). Read it with
    `fulfillment.selectors.order_get` or `order_list`, which load its relations."""

    number = serializers.CharField()
    external_id = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    channel = serializers.CharField()
    customer = CustomerOut()
    currency = serializers.CharField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount = serializers.DecimalField(source="discount_total", max_digits=12,
                                        decimal_places=2)
    shipping = serializers.DecimalField(source="shipping_total", max_digits=12,
                                        decimal_places=2)
    language = serializers.CharField()
    delivery = serializers.SerializerMethodField()
    lines = OrderLineOut(many=True)
    fulfillments = OrderFulfillmentOut(many=True)
    payments = PaymentOut(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_delivery(self, order: Order) -> dict[str, Any]:
        return _delivery(order)


def written_order(placed: PlacedOrder) -> Any:
    """The placed order as `OrderOut` reads it."""
    return Written(placed.order, lines=placed.lines, payments=[placed.payment],
                    fulfillments=[Written(created.fulfillment, lines=created.lines)
                                  for created in placed.fulfillments])


def _delivery(order: Order) -> dict[str, Any]:
    if order.delivery_method == "pickup":
        return {"method": "pickup", "location": order.pickup_location}
    return {"method": "ship", "address": order.delivery_address}


class OrderEventOut(serializers.Serializer):
    type = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    data = serializers.JSONField()


# --- input → use case ----------------------------------------------------------------------
def _order_request(data: dict[str, Any]) -> OrderRequest:
    payment = data["payment"]
    return OrderRequest(
        customer=CustomerData(**data["customer"]),
        currency=data["currency"],
        lines=[OrderLineData(**ln) for ln in data["lines"]],
        delivery=delivery_request(data["delivery"]),
        delivery_address=data["delivery"].get("address") or {},
        payment=PaymentData(method=payment["method"], status=payment["status"],
                            amount=payment["amount"],
                            psp_reference=payment.get("psp_reference") or None,
                            store_credit_code=payment.get("store_credit_code") or None),
        external_id=data.get("external_id") or None,
        reservation_id=str(data["reservation_id"]) if data.get("reservation_id") else None,
        language=data["language"],
        discount=data["discount"],
        shipping=data["shipping"],
    )


# --- views ---------------------------------------------------------------------------------
class OrderListQuery(PageQuery):
    status = serializers.ChoiceField(OrderStatus.choices, required=False)
    customer_email = serializers.EmailField(required=False, max_length=254)
    updated_since = InstantField(required=False, help_text="ISO 8601 with offset.")


class OrdersView(APIView):
    permission_classes = [allow_kinds(*SELLING_KINDS, read=ORDER_READERS)]

    @extend_schema(request=OrderIn, responses={201: OrderOut, 400: ErrorSerializer,
                                                404: ErrorSerializer, 409: ErrorSerializer,
                                                422: ErrorSerializer})
    def post(self, request: Request) -> Response:
        data = validated(OrderIn, request.data)
        client = client_of(request)
        placed = order_place(client=client, request=_order_request(data))
        # Answered from the rows the intake wrote, inside the request's transaction
        # (oms.core.atomic_writes): what a read would return, without reading it back.
        return Response(OrderOut(written_order(placed)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="orders_list",
        parameters=[OrderListQuery],
        responses={200: page_of(OrderOut), 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        query = validated_query(request, OrderListQuery)
        orders = order_list(client=client_of(request), status=query.get("status"),
                            customer_email=query.get("customer_email"),
                            updated_since=query.get("updated_since"))
        return paginated(request, self, orders, OrderOut)


class OrderView(APIView):
    permission_classes = [allow_kinds(read=ORDER_READERS)]

    @extend_schema(responses={200: OrderOut, 404: ErrorSerializer})
    def get(self, request: Request, number: str) -> Response:
        validated_query(request)
        client = client_of(request)
        return Response(OrderOut(order_get(client=client, number=number), context={
            "show_pickup_code": client.kind in CUSTOMER_FACING}).data)


class OrderEventsView(APIView):
    permission_classes = [allow_kinds(read=ORDER_READERS)]

    @extend_schema(parameters=[PageQuery],
                   responses={200: page_of(OrderEventOut), 404: ErrorSerializer})
    def get(self, request: Request, number: str) -> Response:
        validated_query(request, PageQuery)
        order = order_get(client=client_of(request), number=number)
        events = order_event_list(order=order)
        return paginated(request, self, events, OrderEventOut, ordering="pk")


class OrderCancelView(APIView):
    permission_classes = [allow_kinds(*SELLING_KINDS, ClientKind.STAFF)]

    @extend_schema(request=CancelIn, responses={200: OrderOut, 400: ErrorSerializer,
                                                 404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request: Request, number: str) -> Response:
        data = validated(CancelIn, request.data)
        client = client_of(request)
        order = order_get(client=client, number=number)
        lines = ({ln["sku"]: ln["quantity"] for ln in data["lines"]}
                 if data.get("lines") else None)
        order_cancel(order=order, reason=data["reason"], actor=client.name, lines=lines)
        return Response(OrderOut(order_get(client=client, number=number)).data)


class SourcingPreviewView(APIView):
    """The dry run of sourcing: where an order would be served now. Reserves nothing."""

    permission_classes = [allow_kinds(*SELLING_KINDS, ClientKind.STAFF)]

    @extend_schema(request=PreviewIn, responses={200: OpenApiTypes.OBJECT,
                                                  400: ErrorSerializer})
    def post(self, request: Request) -> Response:
        data = validated(PreviewIn, request.data)
        reject_duplicate_and_unknown_skus(data["lines"])
        decision = order_sourcing_preview(
            request_lines=[LineRequest(ln["sku"], ln["quantity"]) for ln in data["lines"]],
            delivery=delivery_request(data["delivery"]),
        )
        return Response(decision.as_json())
