from __future__ import annotations

import re

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oms.catalog.api.serializers import BulkIn, BulkOut, ProductIn, ProductOut
from oms.catalog.models import SKU_PATTERN
from oms.catalog.selectors import product_get
from oms.catalog.services import products_upsert
from oms.core.api.base import ErrorSerializer, validated, validated_query
from oms.core.errors import InvalidInput, NotFound
from oms.core.models import ClientKind
from oms.core.permissions import allow_kinds

CATALOG_WRITERS = (ClientKind.PIM, ClientKind.ERP, ClientKind.STAFF)
CATALOG_READERS = tuple(ClientKind)


class ProductView(APIView):
    permission_classes = [allow_kinds(*CATALOG_WRITERS, read=CATALOG_READERS)]

    @extend_schema(responses={200: ProductOut, 404: ErrorSerializer})
    def get(self, request: Request, sku: str) -> Response:
        validated_query(request)
        product = product_get(sku=sku)
        if product is None:
            raise NotFound(_("No product with this SKU."), attr="sku")
        return Response(ProductOut(product).data)

    @extend_schema(request=ProductIn, responses={200: ProductOut, 201: ProductOut,
                                                  400: ErrorSerializer})
    def put(self, request: Request, sku: str) -> Response:
        if not re.match(SKU_PATTERN, sku):
            raise InvalidInput([("invalid", _("A SKU is 1-64 letters, digits or . _ / -."),
                                 "sku")])
        data = validated(ProductIn, request.data)
        result = products_upsert(products=[ProductIn.to_data(sku, data)])
        return Response(
            ProductOut(product_get(sku=sku)).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class ProductBulkView(APIView):
    permission_classes = [allow_kinds(*CATALOG_WRITERS)]
    body_limit_setting = "API_BULK_MAX_BODY_BYTES"  # 10,000 products (oms.core.request_limits)

    @extend_schema(request=BulkIn, responses={200: BulkOut, 400: ErrorSerializer})
    def post(self, request: Request) -> Response:
        data = validated(BulkIn, request.data)
        result = products_upsert(
            products=[ProductIn.to_data(p["sku"], p) for p in data["products"]]
        )
        return Response({"created": len(result.created), "updated": len(result.updated)})
