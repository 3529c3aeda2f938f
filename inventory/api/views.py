from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.serializers import (
    AvailabilityOut,
    AvailabilityQuery,
    LocationIn,
    LocationOut,
    MovementIn,
    MovementOut,
    SnapshotIn,
    SnapshotOut,
    location_code_valid,
)
from inventory.scope import location_for_client, visible_locations
from inventory.selectors import Near, availability_get, location_codes_unknown
from inventory.services import (
    LocationData,
    location_upsert,
    stock_movement_record,
    stock_snapshot_apply,
)
from oms.catalog.validation import require_known_skus
from oms.core.api.base import (
    ErrorSerializer,
    PageQuery,
    client_of,
    validated,
    validated_query,
)
from oms.core.api.pagination import paginated
from oms.core.api.schema import page_of
from oms.core.errors import InvalidInput
from oms.core.models import ClientKind
from oms.core.permissions import allow_kinds

LOCATION_WRITERS = (ClientKind.ERP, ClientKind.STAFF)
STOCK_WRITERS = (ClientKind.WMS, ClientKind.ERP, ClientKind.STAFF, ClientKind.POS,
                 ClientKind.SUPPLIER)
AVAILABILITY_READERS = (ClientKind.WEBSHOP, ClientKind.APP, ClientKind.POS,
                        ClientKind.MARKETPLACE, ClientKind.STAFF, ClientKind.ERP, ClientKind.WMS)


class LocationListView(APIView):
    permission_classes = [allow_kinds(*LOCATION_WRITERS, read=tuple(ClientKind))]

    @extend_schema(operation_id="locations_list", parameters=[PageQuery],
                   responses={200: page_of(LocationOut)})
    def get(self, request: Request) -> Response:
        validated_query(request, PageQuery)
        client = client_of(request)
        return paginated(request, self, visible_locations(client), LocationOut,
                         context={"client": client})


class LocationView(APIView):
    permission_classes = [allow_kinds(*LOCATION_WRITERS, read=tuple(ClientKind))]

    @extend_schema(responses={200: LocationOut, 404: ErrorSerializer})
    def get(self, request: Request, code: str) -> Response:
        validated_query(request)
        client = client_of(request)
        return Response(LocationOut(location_for_client(client, code),
                                    context={"client": client}).data)

    @extend_schema(request=LocationIn, responses={200: LocationOut, 201: LocationOut,
                                                   400: ErrorSerializer})
    def put(self, request: Request, code: str) -> Response:
        if not location_code_valid(code):
            raise InvalidInput([("invalid", _("A location code is 1-50 letters, digits or "
                                              ". _ -."), "code")])
        client = client_of(request)
        if client.scope_code and client.scope_code != code:
            location_for_client(client, code)  # answers 404 outside the client's scope
        data = validated(LocationIn, request.data)
        location, created = location_upsert(data=LocationData(code=code, **data))
        return Response(LocationOut(location, context={"client": client}).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class SnapshotView(APIView):
    permission_classes = [allow_kinds(*STOCK_WRITERS)]
    body_limit_setting = "API_BULK_MAX_BODY_BYTES"  # 50,000 levels (oms.core.request_limits)

    @extend_schema(request=SnapshotIn, responses={200: SnapshotOut, 400: ErrorSerializer,
                                                   404: ErrorSerializer})
    def post(self, request: Request) -> Response:
        data = validated(SnapshotIn, request.data)
        client = client_of(request)
        location = location_for_client(client, data["location"])
        result = stock_snapshot_apply(
            location=location, as_of=data["as_of"], levels=data["levels"], actor=client.name,
            reference=data["reference"],
        )
        return Response(SnapshotOut(result).data)


class MovementView(APIView):
    permission_classes = [allow_kinds(*STOCK_WRITERS)]

    @extend_schema(request=MovementIn, responses={201: MovementOut, 400: ErrorSerializer,
                                                   404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request: Request) -> Response:
        data = validated(MovementIn, request.data)
        client = client_of(request)
        location = location_for_client(client, data.pop("location"))
        movement = stock_movement_record(location=location, actor=client.name, **data)
        return Response(MovementOut(movement).data, status=status.HTTP_201_CREATED)


class AvailabilityView(APIView):
    permission_classes = [allow_kinds(read=AVAILABILITY_READERS)]

    @extend_schema(
        parameters=[AvailabilityQuery],
        responses={200: AvailabilityOut, 400: ErrorSerializer},
    )
    def get(self, request: Request) -> HttpResponse:
        query = validated_query(request, AvailabilityQuery)
        codes = query.get("locations")
        near = None
        if "near" in query:
            lat, lon = query["near"]
            near = Near(lat, lon, query.get("radius_km", settings.AVAILABILITY_DEFAULT_RADIUS_KM))
        answer = availability_get(skus=query["skus"], location_codes=codes, near=near)
        # A SKU with stock rows has a product (foreign key), so only the SKUs the answer is
        # silent about are looked up: a catalogue page's call needs no extra round trip.
        silent = [s["sku"] for s in answer if not s["locations"] and not s["ship_available"]]
        if silent:
            require_known_skus(silent, attr="skus")
        if codes:
            strangers = location_codes_unknown(codes=codes)
            if strangers:
                raise InvalidInput([("unknown_location", _("Unknown locations: %(codes)s.")
                                     % {"codes": ", ".join(strangers)}, "locations")])
        # Rendered here rather than by DRF once the view has returned: DRF's view and response
        # refer to each other, so the 4,000 entries a Response holds would outlive the call
        # until a full garbage collection, which then frees several calls' answers in the
        # middle of a later call (p95 +5 ms in bench/availability.py). Bytes are one object.
        content = request.accepted_renderer.render(
            {"skus": answer}, request.accepted_media_type, self.get_renderer_context())
        return HttpResponse(content, content_type=request.accepted_media_type)
