"""What drf-spectacular cannot infer about our API, so the schema tells the truth (issue 17):
the bearer-token scheme, the shape of cursor-paginated lists (API.md, Conventions), the bounds
of lists of objects, and for every operation the error answers the middleware, the
authentication, the permissions and the idempotency keys give, which no view declares.

One mechanism adds the latter to every operation: `AutoSchema` (set as DRF's
`DEFAULT_SCHEMA_CLASS`) extends drf-spectacular's through its public `get_operation` and
`get_override_parameters`. A view declares only what is its own (its success answers, and
the 404/409/422/423/429 its services raise); an explicit declaration is kept and only given
a description when it has none."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_array_type
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from oms.core.api.base import ErrorSerializer, PageQuery
from oms.core.idempotency import HEADER, KEY_PATTERN, REPLAYED_HEADER
from oms.core.models import ClientKind


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "oms.core.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer",
                "description": "A client's token, from `manage.py create_api_client`."}


class BoundedListSerializer(OpenApiSerializerFieldExtension):
    """A list of objects (`Serializer(many=True, ...)`) with its bounds: drf-spectacular maps
    `min_length`/`max_length` of a ListField but not of a ListSerializer, nor
    `allow_empty=False` (a non-empty list: minItems 1)."""

    target_class = "rest_framework.serializers.ListSerializer"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        listing: serializers.ListSerializer = self.target
        component = auto_schema.resolve_serializer(listing.child, direction)
        schema = build_array_type(component.ref)
        minimum = max(listing.min_length or 0, 0 if listing.allow_empty else 1)
        if minimum:
            schema["minItems"] = minimum
        if listing.max_length is not None:
            schema["maxItems"] = listing.max_length
        return schema


# Kept for views that name the paging parameters: the paging serializer's fields.
CURSOR_PARAMETERS = [PageQuery]

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER, {"type": "string", "minLength": 1, "maxLength": 255,
             "pattern": f"^{KEY_PATTERN.pattern}$"},
    location=OpenApiParameter.HEADER, required=False,
    description="1-255 printable ASCII characters. Retrying with the same key replays the "
                "first answer (header `Idempotent-Replayed: true`); the same key with another "
                "request answers 422 `idempotency_key_reused`, and 409 "
                "`idempotency_key_in_use` while the first request runs.",
)

_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer", "minimum": 0},
                                "description": "Seconds until a retry may succeed."}}
_REPLAYED = {REPLAYED_HEADER: {"schema": {"type": "string", "enum": ["true"]},
                               "description": "Present on a replayed answer (Idempotency-Key)."}}

# What each error status means wherever this module adds it (the views' services may give
# other codes under the same status; `errors[].code` tells them apart).
_MEANING = {
    "400": "Malformed or invalid input: the body, a query or path parameter, or the "
           "Idempotency-Key (`invalid_idempotency_key`). `attr` names the field or parameter; "
           "unknown or repeated query parameters are refused (`unknown_parameter`, "
           "`repeated_parameter`).",
    "401": "No bearer token, or an invalid or revoked one.",
    "403": "This client kind may not call this operation.",
    "404": "Unknown, or outside the client's scope.",
    "409": "Conflict with the current state, or a request with this Idempotency-Key is still "
           "running (`idempotency_key_in_use`).",
    "413": "The body is larger than this endpoint takes (`request_too_large`).",
    "415": "The body is not `application/json` (UTF-8).",
    "422": "Semantically impossible, or the Idempotency-Key was used with another request "
           "(`idempotency_key_reused`).",
    "423": "Locked for a while (see `Retry-After`).",
    "429": "Rate limited (see `Retry-After`).",
}
_READS = ("GET", "HEAD", "OPTIONS")


class AutoSchema(SpectacularAutoSchema):
    def get_override_parameters(self) -> list[Any]:
        parameters = super().get_override_parameters()
        if self.method == "POST":
            parameters = [*parameters, IDEMPOTENCY_KEY_PARAMETER]
        return parameters

    def get_operation(self, path: str, path_regex: str, path_prefix: str, method: str,
                      registry: Any) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None or not path.startswith("/api/v1/"):
            return operation
        responses = operation.setdefault("responses", {})
        for status in self.error_statuses(operation):
            self.add_error(responses, status)
        for status, response in responses.items():
            if status in _MEANING and not response.get("description"):
                response["description"] = _MEANING[status]
            if status in ("423", "429"):
                response.setdefault("headers", {}).update(_RETRY_AFTER)
        if self.method == "POST":
            for status, response in responses.items():
                if status.startswith("2"):
                    response.setdefault("headers", {}).update(_REPLAYED)
        kinds = self.allowed_kinds()
        if kinds is not None:
            allowed = f"Client kinds: {', '.join(sorted(kinds))}."
            description = operation.get("description")
            operation["description"] = f"{description}\n\n{allowed}" if description else allowed
        return operation

    def error_statuses(self, operation: dict[str, Any]) -> list[str]:
        # 400: every operation. A NUL in the path or query string, a bad Content-Length, an
        # unknown query parameter (reads) or a bad Idempotency-Key (POST) is refused anywhere.
        statuses = ["400"]
        if operation.get("security"):
            statuses.append("401")
        if self.allowed_kinds() is not None:
            statuses.append("403")
        if "{" in self.path:
            statuses.append("404")
        if "requestBody" in operation:
            statuses += ["413", "415"]
        if self.method == "POST":
            statuses += ["409", "422"]
        return statuses

    def allowed_kinds(self) -> frozenset[str] | None:
        """The client kinds the view's permissions admit for this method; None for all."""
        allowed = frozenset(ClientKind.values)
        for permission in self.view.get_permissions():
            kinds = getattr(permission, "kinds_for_reads" if self.method in _READS
                            else "kinds_for_writes", None)
            if kinds is not None:
                allowed &= frozenset(kinds)
        return None if allowed == frozenset(ClientKind.values) else allowed

    def add_error(self, responses: dict[str, Any], status: str) -> None:
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        responses.setdefault(status, {"content": {"application/json": {"schema": error}}})


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
