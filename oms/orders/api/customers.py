"""`/api/v1/customers`: find a customer, read the profile, record consents (API.md,
Customers). Who finds whom is decided in oms.orders.customers."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oms.core.api.address import PHONE_PATTERN, ClosedSerializer
from oms.core.api.base import (
    EXTERNAL_ID_PATTERN,
    PLAIN_TEXT_PATTERN,
    ErrorSerializer,
    InstantField,
    PageQuery,
    client_of,
    validated,
    validated_query,
)
from oms.core.api.pagination import paginated
from oms.core.api.schema import page_of
from oms.core.models import ClientKind
from oms.core.permissions import allow_kinds
from oms.orders.consents import ConsentRecord, consents_record
from oms.orders.customers import (
    FINDS_BY_IDENTITY,
    SEES_EVERY_CUSTOMER,
    CustomerProfile,
    customer_get,
    customer_list,
    customer_profile,
    customer_profiles,
)
from oms.orders.models import ConsentPurpose, Customer

READ = (*SEES_EVERY_CUSTOMER, *FINDS_BY_IDENTITY)
# Who records consents: the channels the customer gives them in, the CRM, and staff. `bi`
# only reads.
RECORD_CONSENTS = (*FINDS_BY_IDENTITY, ClientKind.CRM, ClientKind.STAFF)
MAX_CONSENTS = 100  # one call may carry a history imported from another system


# --- input ----------------------------------------------------------------------------------
class StrictBooleanField(serializers.BooleanField):
    """true or false, and only those: DRF's BooleanField would take "yes", 1 or "off", and a
    consent is too important to be guessed from a string."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ConsentIn(ClosedSerializer):
    purpose = serializers.ChoiceField(ConsentPurpose.choices)
    granted = StrictBooleanField(help_text="true: consent given; false: withdrawn.")
    source = serializers.RegexField(PLAIN_TEXT_PATTERN, min_length=1, max_length=100, help_text=(
        "Where the customer decided, e.g. `app_settings`, `webshop_checkout`, `pos_form`."))
    at = InstantField(help_text=(
        "When the customer decided, with its UTC offset. The record with the latest time is "
        "the current state; an older one is kept in the history only."))


class ConsentsIn(ClosedSerializer):
    consents = ConsentIn(many=True, allow_empty=False, max_length=MAX_CONSENTS)


class CustomerQuery(PageQuery):
    email = serializers.EmailField(required=False, max_length=254, help_text=(
        "Exact e-mail, any case."))
    phone = serializers.RegexField(PHONE_PATTERN, required=False, max_length=50, help_text=(
        "crm, bi and staff clients: exact phone number as stored."))
    external_id = serializers.RegexField(EXTERNAL_ID_PATTERN, required=False, max_length=100)


# --- output ---------------------------------------------------------------------------------
class ConsentOut(serializers.Serializer):
    purpose = serializers.CharField()
    granted = serializers.BooleanField()
    source = serializers.CharField()
    at = serializers.DateTimeField()


class MoneyOut(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()


class CustomerProfileListOut(serializers.ListSerializer):
    """A page of customers: their profiles are read together, in a few queries."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        customers = list(data.all() if hasattr(data, "all") else data)
        return [self.child.to_representation(p) for p in customer_profiles(customers)]


class CustomerProfileOut(serializers.Serializer):
    id = serializers.UUIDField(source="customer.public_id")
    email = serializers.EmailField(source="customer.email")
    name = serializers.CharField(source="customer.name")
    phone = serializers.CharField(source="customer.phone")
    external_ids = serializers.SerializerMethodField()
    language = serializers.CharField(allow_null=True, help_text=(
        "The language of the customer's latest order; null before the first."))
    segments = serializers.SerializerMethodField()
    consents = serializers.SerializerMethodField()
    orders_count = serializers.IntegerField(help_text="Orders not cancelled.")
    lifetime_value = MoneyOut(many=True, help_text=(
        "The totals of the orders not cancelled, one entry per currency."))
    merged_into = serializers.UUIDField(allow_null=True, default=None, help_text=(
        "The customer this one was merged into; null while it stands alone."))  # merges: later

    class Meta:
        list_serializer_class = CustomerProfileListOut

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_external_ids(self, profile: CustomerProfile) -> list[str]:
        return [profile.customer.external_id] if profile.customer.external_id else []

    @extend_schema_field(ConsentOut(many=True))
    def get_consents(self, profile: CustomerProfile) -> list[dict[str, Any]]:
        return [{"purpose": purpose, "granted": state.granted, "source": state.source,
                 "at": serializers.DateTimeField().to_representation(state.at)}
                for purpose, state in sorted(profile.consents.items())]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_segments(self, profile: CustomerProfile) -> list[str]:
        return []  # segments arrive with PUT /customers/{id}/segments (not built yet)


def _answer(customer: Customer) -> Response:
    return Response(CustomerProfileOut(customer_profile(customer)).data)


# --- views ----------------------------------------------------------------------------------
class CustomersView(APIView):
    permission_classes = [allow_kinds(read=READ)]

    @extend_schema(operation_id="customers_list", parameters=[CustomerQuery],
                   responses={200: page_of(CustomerProfileOut), 400: ErrorSerializer})
    def get(self, request: Request) -> Response:
        query = validated_query(request, CustomerQuery)
        customers = customer_list(client=client_of(request), email=query.get("email"),
                                  phone=query.get("phone"),
                                  external_id=query.get("external_id"))
        return paginated(request, self, customers, CustomerProfileOut)


class CustomerView(APIView):
    permission_classes = [allow_kinds(read=READ)]

    @extend_schema(responses={200: CustomerProfileOut, 404: ErrorSerializer})
    def get(self, request: Request, public_id: uuid.UUID) -> Response:
        validated_query(request)
        return _answer(customer_get(client=client_of(request), public_id=public_id))


class CustomerConsentsView(APIView):
    permission_classes = [allow_kinds(*RECORD_CONSENTS)]

    @extend_schema(request=ConsentsIn, responses={
        200: CustomerProfileOut, 400: ErrorSerializer, 404: ErrorSerializer})
    def put(self, request: Request, public_id: uuid.UUID) -> Response:
        data = validated(ConsentsIn, request.data)
        client = client_of(request)
        customer = customer_get(client=client, public_id=public_id)
        consents_record(customer=customer, actor=client.name, records=[
            ConsentRecord(purpose=c["purpose"], granted=c["granted"], source=c["source"],
                          at=c["at"]) for c in data["consents"]])
        return _answer(customer)
