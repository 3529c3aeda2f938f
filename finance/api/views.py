"""`GET /api/v1/open-items` and `POST /api/v1/bank-transactions` (API.md, Payments and
finance): finance and erp clients only, every other kind 403."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from finance.models import BankTransaction
from finance.selectors import bank_transaction_get, bank_transaction_settlements, open_item_list
from finance.services import BankTransactionData, bank_transaction_receive
from finance.services.bank import bank_transaction_credit
from finance.states import BankTransactionStatus, OpenItemKind, OpenItemStatus
from oms.catalog.api.serializers import CURRENCY_PATTERN
from oms.core.api.address import ClosedSerializer
from oms.core.api.base import (
    PLAIN_TEXT_PATTERN,
    ErrorSerializer,
    PageQuery,
    client_of,
    validated,
    validated_query,
)
from oms.core.api.pagination import paginated
from oms.core.api.schema import page_of
from oms.core.idempotency import REPLAYED_HEADER
from oms.core.models import ClientKind
from oms.core.permissions import allow_kinds

FINANCE_KINDS = (ClientKind.FINANCE, ClientKind.ERP)
# Bank purposes come wrapped in lines (27 or 35 characters); line breaks and tabs are taken as
# spaces. Other control characters and bidirectional overrides are refused, as everywhere.
PURPOSE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]*$"
EARLIEST_BOOKING = date(2000, 1, 1)


# --- input ----------------------------------------------------------------------------------
@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}(T.+)?$",
                      "example": "2026-03-02",
                      "description": "The bank's booking date, `YYYY-MM-DD`; a timestamp with "
                                     "a UTC offset is taken as its day in Germany."})
class BookingDateField(serializers.Field):
    default_error_messages = {
        "invalid": _("Give the booking date as YYYY-MM-DD (or a timestamp with a UTC offset)."),
        "in_future": _("The booking date lies in the future."),
        "too_old": _("The booking date lies before 2000."),
    }

    def to_internal_value(self, data: Any) -> date:
        if not isinstance(data, str) or len(data) > 40:
            self.fail("invalid")
        try:
            day = parse_date(data) if len(data) == 10 else None
            if day is None:
                moment = parse_datetime(data)
                if moment is None or timezone.is_naive(moment):
                    self.fail("invalid")
                day = timezone.localdate(moment)
        except ValueError:  # well-formed but impossible: 2026-02-30
            self.fail("invalid")
        if day > timezone.localdate() + timedelta(days=1):  # a day's grace for clocks
            self.fail("in_future")
        if day < EARLIEST_BOOKING:
            self.fail("too_old")
        return day

    def to_representation(self, value: date) -> str:
        return value.isoformat()


class BankTransactionIn(ClosedSerializer):
    reference = serializers.RegexField(PLAIN_TEXT_PATTERN, max_length=100, help_text=(
        "The bank's id of the transaction: the same reference again is the same transaction."))
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"),
                                      help_text="Incoming money, more than 0.")
    currency = serializers.RegexField(CURRENCY_PATTERN, help_text=(
        "The bank account's currency (`FINANCE_BANK_CURRENCY`, EUR); another answers 422."))
    booked_at = BookingDateField()
    purpose = serializers.RegexField(PURPOSE_PATTERN, max_length=1000, allow_blank=True,
                                     trim_whitespace=False, help_text=(
                                         "The remittance text (Verwendungszweck); the order "
                                         "number in it matches the payment."))


class OpenItemQuery(PageQuery):
    status = serializers.ChoiceField(OpenItemStatus.choices, required=False)
    customer = serializers.UUIDField(required=False, help_text="The customer's id "
                                     "(`GET /api/v1/customers/{id}`).")
    order = serializers.CharField(required=False, max_length=20, help_text="Order number")


# --- output ---------------------------------------------------------------------------------
def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2)


class OpenItemOut(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.CharField(source="order.number")
    customer = serializers.UUIDField(source="customer.public_id")
    kind = serializers.ChoiceField(OpenItemKind.choices)
    currency = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2,
                                      help_text="Invoiced (gross).")
    paid = _money()
    credited = serializers.DecimalField(max_digits=12, decimal_places=2,
                                        help_text="Credit notes for returned goods.")
    fees = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Dunning fees.")
    written_off = _money()
    open = serializers.DecimalField(source="open_amount", max_digits=12, decimal_places=2,
                                    help_text="amount + fees - paid - credited - written_off")
    invoiced_on = serializers.DateField(help_text="When the goods left.")
    due_date = serializers.DateField()
    status = serializers.ChoiceField(OpenItemStatus.choices)
    dunning_level = serializers.IntegerField(help_text="0: no notice yet.")
    for_collection = serializers.BooleanField(help_text="On the collection agency's list.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SettlementOut(serializers.Serializer):
    open_item = serializers.IntegerField(source="open_item_id")
    order = serializers.CharField(source="open_item.order.number")
    amount = _money()


class CustomerCreditOut(serializers.Serializer):
    id = serializers.IntegerField()
    amount = _money()
    remaining = _money()
    currency = serializers.CharField()


class BankTransactionOut(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    amount = _money()
    currency = serializers.CharField()
    booked_at = serializers.DateField(source="booked_on")
    purpose = serializers.CharField(help_text="As stored: line breaks and runs of spaces as "
                                    "one space.")
    status = serializers.ChoiceField(BankTransactionStatus.choices)
    orders = serializers.ListField(child=serializers.CharField(), source="order_numbers",
                                   help_text="Order numbers found in the purpose.")
    customer = serializers.UUIDField(source="customer.public_id", allow_null=True,
                                     default=None)
    settlements = serializers.SerializerMethodField()
    credit = serializers.SerializerMethodField()
    received_at = serializers.DateTimeField()
    matched_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(SettlementOut(many=True))
    def get_settlements(self, txn: BankTransaction) -> list[dict[str, Any]]:
        """What it paid: per open item."""
        return SettlementOut(bank_transaction_settlements(transaction=txn), many=True).data

    @extend_schema_field(CustomerCreditOut(allow_null=True))
    def get_credit(self, txn: BankTransaction) -> dict[str, Any] | None:
        """What it paid beyond what was owed: the customer's credit."""
        credit = bank_transaction_credit(txn)
        return CustomerCreditOut(credit).data if credit is not None else None


# --- views ----------------------------------------------------------------------------------
class OpenItemsView(APIView):
    permission_classes = [allow_kinds(*FINANCE_KINDS)]

    @extend_schema(operation_id="open_items_list", parameters=[OpenItemQuery],
                   responses={200: page_of(OpenItemOut), 400: ErrorSerializer},
                   description="Receivables of invoice and direct-debit orders, newest first.")
    def get(self, request: Request) -> Response:
        query = validated_query(request, OpenItemQuery)
        items = open_item_list(status=query.get("status"), customer=query.get("customer"),
                               order=query.get("order"))
        return paginated(request, self, items, OpenItemOut)


class BankTransactionsView(APIView):
    permission_classes = [allow_kinds(*FINANCE_KINDS)]

    @extend_schema(
        request=BankTransactionIn,
        responses={201: BankTransactionOut, 200: BankTransactionOut, 400: ErrorSerializer,
                   409: ErrorSerializer, 422: ErrorSerializer},
        description="Incoming money, matched to open items by the order number in the purpose "
                    "(partial payments allowed, overpayment a customer credit, an unmatched "
                    "transaction kept for matching by hand). `201` for a new transaction; the "
                    "same `reference` with the same body again answers `200` with the stored "
                    "one and `Idempotent-Replayed: true`; with another body `409 "
                    "reference_conflict`.")
    def post(self, request: Request) -> Response:
        data = validated(BankTransactionIn, request.data)
        receipt = bank_transaction_receive(
            data=BankTransactionData(reference=data["reference"], amount=data["amount"],
                                     currency=data["currency"], booked_on=data["booked_at"],
                                     purpose=data["purpose"]),
            actor=client_of(request).name)
        body = BankTransactionOut(bank_transaction_get(pk=receipt.transaction.pk)).data
        if receipt.created:
            return Response(body, status=status.HTTP_201_CREATED)
        return Response(body, status=status.HTTP_200_OK, headers={REPLAYED_HEADER: "true"})

