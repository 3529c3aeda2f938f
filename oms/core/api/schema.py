"""What drf-spectacular cannot infer about our API: the bearer-token scheme and the shape of
cursor-paginated lists (API.md, Conventions)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "oms.core.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer",
                "description": "A client's token, from `manage.py create_api_client`."}


CURSOR_PARAMETERS = [
    OpenApiParameter("cursor", str, description="Opaque cursor from `next` or `previous`."),
    OpenApiParameter("limit", int, description="Page size, at most 500 (default 50)."),
]


def page_of(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """`{"next", "previous", "results": [...]}` for the schema."""
    return inline_serializer(
        name=f"Paginated{serializer_class.__name__.removesuffix('Out')}List",
        fields={
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )
