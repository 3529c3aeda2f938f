"""`/api/v1/ledger/...` (API.md, Payments and finance): the journal, the trial balance at a
date and a period's export as CSV or DATEV Buchungsstapel, for `finance` and `erp` clients
only (issue 21, Access); every other kind answers 403."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger.exports import ExportFormat, ledger_export
from ledger.selectors import Period, entry_list, trial_balance
from oms.core.api.base import ErrorSerializer, PageQuery, validated_query
from oms.core.api.pagination import paginated
from oms.core.api.schema import page_of
from oms.core.models import ClientKind
from oms.core.permissions import allow_kinds

READERS = (ClientKind.FINANCE, ClientKind.ERP)


# --- query parameters -------------------------------------------------------------------------
class _PeriodChecked(serializers.Serializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError({"from": [serializers.ErrorDetail(
                _("'from' must not be after 'to'."), code="invalid_period")]})
        return attrs


def _period_query(name: str, base: type[serializers.Serializer], *, required: bool,
                  doc: str, **fields: serializers.Field) -> type[serializers.Serializer]:
    """A query serializer with `from` and `to` (booking dates, both included): `from` is a
    Python keyword, so the class is made with the serializers' metaclass rather than a class
    statement."""
    period = {
        "from": serializers.DateField(required=required, help_text=(
            "First booking date (YYYY-MM-DD), included.")),
        "to": serializers.DateField(required=required, help_text=(
            "Last booking date (YYYY-MM-DD), included.")),
    }
    return type(base)(name, (_PeriodChecked, base),
                      {**period, **fields, "__module__": __name__, "__doc__": doc})


EntriesQuery = _period_query("LedgerEntriesQuery", PageQuery, required=False,
                             doc="Journal entries booked in a period (either end open).")
ExportQuery = _period_query(
    "LedgerExportQuery", serializers.Serializer, required=True,
    doc="The period and the format of an export.",
    format=serializers.ChoiceField(ExportFormat.choices, help_text=(
        "csv: one line per journal line, UTF-8. datev: DATEV EXTF Buchungsstapel, "
        "Windows-1252, one booking per line; the period must lie in one fiscal year.")))


class BalancesQuery(serializers.Serializer):
    at = serializers.DateField(required=False, help_text=(
        "Bookings up to and including this date (YYYY-MM-DD); default today."))


# --- answers --------------------------------------------------------------------------------
class JournalLineOut(serializers.Serializer):
    account = serializers.CharField(source="account.number", help_text="Account number.")
    account_name = serializers.CharField(source="account.name")
    debit = serializers.DecimalField(max_digits=14, decimal_places=2)
    credit = serializers.DecimalField(max_digits=14, decimal_places=2)


class JournalEntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    booked_on = serializers.DateField()
    reference = serializers.CharField(help_text="The document: order, return or credit note "
                                                "number (DATEV Belegfeld 1).")
    text = serializers.CharField()
    source = serializers.CharField(help_text="The domain event and posting rule that booked "
                                             "it: `<event id>:<rule>`.")
    reverses = serializers.IntegerField(source="reverses_id", allow_null=True, help_text=(
        "The entry this one reverses (a correction), or null."))
    created_at = serializers.DateTimeField()
    lines = JournalLineOut(many=True)


class AccountBalanceOut(serializers.Serializer):
    number = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    kind = serializers.CharField(help_text="asset | liability | revenue | expense")
    debit = serializers.DecimalField(max_digits=16, decimal_places=2)
    credit = serializers.DecimalField(max_digits=16, decimal_places=2)
    balance = serializers.DecimalField(max_digits=16, decimal_places=2, help_text=(
        "debit - credit: positive for a debit balance, negative for a credit balance."))


class TrialBalanceOut(serializers.Serializer):
    at = serializers.DateField()
    accounts = AccountBalanceOut(many=True)
    debit = serializers.DecimalField(max_digits=16, decimal_places=2, help_text=(
        "Sum of every account's debits; equals `credit` (double entry)."))
    credit = serializers.DecimalField(max_digits=16, decimal_places=2)


# --- views ----------------------------------------------------------------------------------
class LedgerEntriesView(APIView):
    permission_classes = [allow_kinds(*READERS)]

    @extend_schema(operation_id="ledger_entries_list", parameters=[EntriesQuery],
                   responses={200: page_of(JournalEntryOut), 400: ErrorSerializer})
    def get(self, request: Request) -> Response:
        query = validated_query(request, EntriesQuery)
        entries = entry_list(period=Period(query.get("from"), query.get("to")))
        # In the order posted, oldest first: the journal as it was written.
        return paginated(request, self, entries, JournalEntryOut, ordering="pk")


class LedgerBalancesView(APIView):
    permission_classes = [allow_kinds(*READERS)]

    @extend_schema(operation_id="ledger_balances", parameters=[BalancesQuery],
                   responses={200: TrialBalanceOut, 400: ErrorSerializer})
    def get(self, request: Request) -> Response:
        query = validated_query(request, BalancesQuery)
        at = query.get("at") or timezone.localdate()
        accounts = trial_balance(at=at)
        return Response(TrialBalanceOut({
            "at": at, "accounts": accounts,
            "debit": sum((a.debit for a in accounts), 0),
            "credit": sum((a.credit for a in accounts), 0),
        }).data)


class LedgerExportView(APIView):
    permission_classes = [allow_kinds(*READERS)]

    def perform_content_negotiation(self, request: Request,
                                    force: bool = False) -> tuple[BaseRenderer, str]:
        # The answer is a file whatever the client accepts (`Accept: text/csv` is welcome),
        # and `?format=` names the file's format, not one of DRF's renderers; only an error
        # goes through a renderer, the one JSON error format.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(operation_id="ledger_export", parameters=[ExportQuery], responses={
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description=(
            "The file, streamed (`Content-Disposition: attachment`): csv in UTF-8, datev in "
            "Windows-1252 (`charset` in `Content-Type`).")),
        400: ErrorSerializer})
    def get(self, request: Request) -> StreamingHttpResponse:
        query = validated_query(request, ExportQuery)
        export = ledger_export(fmt=query["format"], start=query["from"], end=query["to"])
        response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
