"""`/api/v1/returns`: register a return (in store or by mail, with an exchange), receive the
goods, read and list returns, cancel one that never came (API.md, Returns)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.orders import PaymentIn
from inventory.api.reservations import MAX_LINE_QUANTITY, MAX_LINES
from inventory.models import LOCATION_CODE_PATTERN
from oms.catalog.models import SKU_PATTERN
from oms.core.api.address import ClosedSerializer
from oms.core.api.base import (
    PLAIN_TEXT_PATTERN,
    ErrorSerializer,
    PageQuery,
    client_of,
    unique_skus,
    validated,
    validated_query,
)
from oms.core.api.pagination import paginated
from oms.core.api.schema import page_of
from oms.core.errors import InvalidInput
from oms.core.models import ApiClient, ClientKind
from oms.core.permissions import allow_kinds
from payments.models import Refund
from payments.services import PaymentData
from payments.states import PaymentMethod, RefundMethod, RefundStatus
from returns.exchange import Exchange, ExchangeLine
from returns.models import Return
from returns.selectors import (
    MAY_OVERRIDE_WINDOW,
    location_for_return,
    order_for_return,
    return_get,
    return_get_at_location,
    return_list,
)
from returns.services import (
    LineRequest,
    Receipt,
    ReturnRequest,
    return_cancel,
    return_receive,
    return_request,
)
from returns.states import Condition, Disposition, ReturnStatus

REGISTER = (ClientKind.POS, ClientKind.WEBSHOP, ClientKind.APP, ClientKind.STAFF)
RECEIVE = (ClientKind.POS, ClientKind.STAFF, ClientKind.WMS, ClientKind.SUPPLIER)
READ = (*REGISTER, ClientKind.WMS, ClientKind.SUPPLIER, ClientKind.ERP)
REASON_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
# What pays a replacement's higher price: money taken now or authorized online.
EXCHANGE_PAYMENT_METHODS = [PaymentMethod.CARD, PaymentMethod.PAYPAL, PaymentMethod.CASH,
                            PaymentMethod.GIFT_CARD, PaymentMethod.STORE_CREDIT]


# --- input ----------------------------------------------------------------------------------
# Every input shape is closed (ClosedSerializer): DRF would drop an unknown key silently, and in
# a return a typo costs money or goods (`refuse` for `refused` receives what staff turned away,
# `exchange_paymnet` loses the payment), so it is refused, naming the key.
class ReturnLineIn(ClosedSerializer):
    sku = serializers.RegexField(SKU_PATTERN)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    reason = serializers.RegexField(REASON_PATTERN, help_text=(
        "A code from the configured list of return reasons (cockpit: Return reasons)."))
    condition = serializers.ChoiceField(Condition.choices)


class RefundIn(ClosedSerializer):
    method = serializers.ChoiceField(RefundMethod.choices)


class ExchangeLineIn(ClosedSerializer):
    sku = serializers.RegexField(SKU_PATTERN)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0,
                                          required=False, help_text=(
                                              "Default: the order channel's price now."))
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0,
                                        max_value=100, required=False)


class ExchangePaymentIn(ClosedSerializer, PaymentIn):
    method = serializers.ChoiceField(EXCHANGE_PAYMENT_METHODS)
    status = serializers.ChoiceField(["authorized", "captured"])


class ReturnIn(ClosedSerializer):
    order = serializers.CharField(max_length=30, help_text="The order's number.")
    location = serializers.RegexField(LOCATION_CODE_PATTERN, required=False, help_text=(
        "The store taking the goods back (a pos client's own store if left out). Without "
        "it the return goes by mail to the site the service chooses."))
    lines = ReturnLineIn(many=True, allow_empty=False, max_length=MAX_LINES)
    refund = RefundIn()
    exchange = ExchangeLineIn(many=True, required=False, allow_empty=False,
                              max_length=MAX_LINES)
    exchange_payment = ExchangePaymentIn(required=False, help_text=(
        "Pays the difference when the replacement costs more than the goods returned."))
    override_reason = serializers.RegexField(
        PLAIN_TEXT_PATTERN, max_length=500, required=False, help_text=(
            "pos and staff clients: take the goods back after the return window, and why."))

    validate_lines = staticmethod(unique_skus)
    validate_exchange = staticmethod(unique_skus)


class ReceiveLineIn(ClosedSerializer):
    sku = serializers.RegexField(SKU_PATTERN)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    disposition = serializers.ChoiceField(Disposition.choices)


class RefusedLineIn(ClosedSerializer):
    sku = serializers.RegexField(SKU_PATTERN)
    reason = serializers.RegexField(PLAIN_TEXT_PATTERN, max_length=500)


class ReceiveIn(ClosedSerializer):
    lines = ReceiveLineIn(many=True, allow_empty=True, max_length=MAX_LINES, help_text=(
        "What came back. A line of the return not named here is refused (nothing of it came "
        "back); an empty list receives an empty parcel."))
    refused = RefusedLineIn(many=True, required=False, max_length=MAX_LINES, help_text=(
        "Lines staff would not take back, and why."))
    refund = RefundIn(required=False, help_text="Another refund method, chosen at the till.")

    validate_lines = staticmethod(unique_skus)
    validate_refused = staticmethod(unique_skus)


class ReturnCancelIn(ClosedSerializer):
    reason = serializers.RegexField(PLAIN_TEXT_PATTERN, max_length=500)


class ListQuery(PageQuery):
    order = serializers.CharField(required=False, max_length=30, help_text="Order number")
    status = serializers.ChoiceField(ReturnStatus.choices, required=False)
    location = serializers.RegexField(LOCATION_CODE_PATTERN, required=False)


# --- output ---------------------------------------------------------------------------------
class ReturnLineOut(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Announced.")
    received = serializers.IntegerField()
    status = serializers.CharField()
    reason = serializers.CharField(source="reason_id")
    condition = serializers.CharField()
    disposition = serializers.CharField(allow_null=True, default=None)
    refused_reason = serializers.CharField()
    refund_amount = serializers.DecimalField(max_digits=12, decimal_places=2)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["disposition"] = data["disposition"] or None
        return data


# Who sees a store credit's code: those who hand it to the customer (the till, the webshop,
# the app) and staff. A code is money to whoever holds it (payments.services.store_credit), so
# a warehouse's WMS, a supplier's portal or the ERP, which read returns too, never get it.
SEES_STORE_CREDIT_CODES = frozenset(REGISTER)


class RefundPartOut(serializers.Serializer):
    id = serializers.IntegerField()
    route = serializers.CharField(help_text="psp | till | store_credit | receivable")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    status = serializers.CharField()
    store_credit_code = serializers.CharField(
        source="store_credit.code", allow_null=True, default=None, help_text=(
            "Route store_credit: the code the customer pays with later; shown to pos, "
            "webshop, app and staff clients only (null for the others)."))
    issued_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not self.context.get("sees_codes"):
            data["store_credit_code"] = None
        return data


class RefundOut(serializers.Serializer):
    method = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, help_text=(
        "Estimated from the announced units until the goods are received."))
    currency = serializers.CharField()
    status = serializers.CharField(help_text=(
        "estimated (not received yet) | pending | issued | failed | none (nothing to refund, "
        "or cancelled)"))
    refunds = RefundPartOut(many=True)


def _refund_parts(ret: Return) -> list[Refund]:
    return [r for r in ret.order.refunds.all() if r.reference == ret.number]


def refund_status(ret: Return, parts: list[Refund]) -> str:
    if ret.status == ReturnStatus.CANCELLED:
        return "none"  # nothing came, nothing goes back
    if ret.status == ReturnStatus.REQUESTED:
        return "estimated"
    if ret.refund_amount == 0:
        return "none"
    if parts and all(p.status == RefundStatus.ISSUED for p in parts):
        return "issued"
    if any(p.status == RefundStatus.FAILED for p in parts):
        return "failed"
    return "pending"


class ReturnOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    mode = serializers.CharField(help_text="in_store | mail")
    order = serializers.CharField(source="order.number")
    location = serializers.CharField(source="location.code")
    lines = ReturnLineOut(many=True)
    refund = serializers.SerializerMethodField()
    exchange_order = serializers.CharField(source="exchange_order.number", allow_null=True,
                                           default=None)
    exchange_credit = serializers.DecimalField(max_digits=12, decimal_places=2, help_text=(
        "The part of the goods' value that paid the exchange order."))
    shipping_refund = serializers.DecimalField(max_digits=12, decimal_places=2)
    label_url = serializers.CharField(allow_null=True, help_text=(
        "By mail: the return label, once the carrier made it."))
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    window_ends_at = serializers.DateTimeField(allow_null=True)
    override_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField(allow_null=True)
    refunded_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(RefundOut)
    def get_refund(self, ret: Return) -> dict[str, Any]:
        parts = _refund_parts(ret)
        return RefundOut({"method": ret.refund_method, "amount": ret.refund_amount,
                          "currency": ret.currency, "status": refund_status(ret, parts),
                          "refunds": parts}, context=self.context).data

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["label_url"] = data["label_url"] or None
        return data


def _context(client: ApiClient) -> dict[str, Any]:
    return {"sees_codes": client.kind in SEES_STORE_CREDIT_CODES}


def _answer(client: ApiClient, pk: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(ReturnOut(return_get(client=client, pk=pk), context=_context(client)).data,
                    status=code)


def _exchange(data: dict[str, Any]) -> Exchange | None:
    if "exchange" not in data:
        if "exchange_payment" in data:
            raise InvalidInput([("invalid", _("An exchange payment needs an exchange."),
                                 "exchange_payment")])
        return None
    payment = data.get("exchange_payment")
    return Exchange(
        lines=[ExchangeLine(sku=ln["sku"], quantity=ln["quantity"],
                            unit_price=ln.get("unit_price"), tax_rate=ln.get("tax_rate"))
               for ln in data["exchange"]],
        payment=PaymentData(method=payment["method"], status=payment["status"],
                            amount=payment["amount"],
                            psp_reference=payment.get("psp_reference") or None,
                            store_credit_code=payment.get("store_credit_code") or None)
        if payment else None)


# --- views ----------------------------------------------------------------------------------
class ReturnsView(APIView):
    permission_classes = [allow_kinds(*REGISTER, read=READ)]

    @extend_schema(request=ReturnIn, responses={
        201: ReturnOut, 400: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer,
        422: ErrorSerializer})
    def post(self, request: Request) -> Response:
        data = validated(ReturnIn, request.data)
        client = client_of(request)
        if data.get("override_reason") and client.kind not in MAY_OVERRIDE_WINDOW:
            raise InvalidInput([("override_not_allowed", _(
                "Only store and staff clients may take goods back after the return window."),
                "override_reason")])
        order = order_for_return(client=client, number=data["order"])
        ret = return_request(request=ReturnRequest(
            order=order,
            lines=[LineRequest(sku=ln["sku"], quantity=ln["quantity"], reason=ln["reason"],
                               condition=ln["condition"]) for ln in data["lines"]],
            refund_method=data["refund"]["method"],
            location=location_for_return(client=client, code=data.get("location")),
            exchange=_exchange(data),
            override_reason=data.get("override_reason", ""),
        ), actor=client.name, channel=client.channel)
        return _answer(client, ret.pk, status.HTTP_201_CREATED)

    @extend_schema(operation_id="returns_list", parameters=[ListQuery],
                   responses={200: page_of(ReturnOut), 400: ErrorSerializer})
    def get(self, request: Request) -> Response:
        query = validated_query(request, ListQuery)
        client = client_of(request)
        returns = return_list(client=client, order=query.get("order"),
                              status=query.get("status"), location=query.get("location"))
        return paginated(request, self, returns, ReturnOut, context=_context(client))


class ReturnView(APIView):
    permission_classes = [allow_kinds(read=READ)]

    @extend_schema(responses={200: ReturnOut, 404: ErrorSerializer})
    def get(self, request: Request, pk: int) -> Response:
        validated_query(request)
        return _answer(client_of(request), pk)


class ReturnReceiveView(APIView):
    permission_classes = [allow_kinds(*RECEIVE)]

    @extend_schema(request=ReceiveIn, responses={
        200: ReturnOut, 400: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer,
        422: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = validated(ReceiveIn, request.data)
        client = client_of(request)
        ret = return_get_at_location(client=client, pk=pk)
        return_receive(ret=ret, actor=client.name, receipt=Receipt(
            lines={ln["sku"]: (ln["quantity"], ln["disposition"]) for ln in data["lines"]},
            refused={ln["sku"]: ln["reason"] for ln in data.get("refused", [])},
            refund_method=data["refund"]["method"] if "refund" in data else None))
        return _answer(client, pk)


class ReturnCancelView(APIView):
    permission_classes = [allow_kinds(*REGISTER)]

    @extend_schema(request=ReturnCancelIn, responses={
        200: ReturnOut, 400: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = validated(ReturnCancelIn, request.data)
        client = client_of(request)
        return_cancel(ret=return_get(client=client, pk=pk), reason=data["reason"],
                      actor=client.name)
        return _answer(client, pk)

