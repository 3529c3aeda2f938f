"""The OpenAPI schema is the complete reference (API.md): it must generate cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command


@pytest.mark.django_db
def test_the_openapi_schema_generates_without_warnings_and_validates(tmp_path: Path) -> None:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    orders = schema["paths"]["/api/v1/orders"]["get"]["responses"]["200"]["content"]
    page = orders["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][page]["properties"]) == {
        "next", "previous", "results"}
    for path in ("/api/v1/availability", "/api/v1/stock/snapshots", "/api/v1/orders/{number}",
                 "/api/v1/fulfillments/{id}/ship", "/api/v1/payments/events"):
        assert path in schema["paths"], path
