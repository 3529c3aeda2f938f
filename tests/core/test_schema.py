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


@pytest.fixture
def schema(tmp_path: Path) -> dict:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(target))
    return yaml.safe_load(target.read_text())


def api_operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, operation) for path, operations in schema["paths"].items()
            if path.startswith("/api/v1/") for method, operation in operations.items()]


def error_ref(response: dict) -> str:
    return response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]


@pytest.mark.django_db
def test_every_operation_documents_its_error_answers_in_the_error_format(schema):
    # given the generated schema
    for path, method, operation in api_operations(schema):
        responses = operation["responses"]
        # then every operation documents 400 and 401, 404 where its path names an object,
        # 413/415 where it takes a body and 409/422 (Idempotency-Key) on POST ...
        expected = {"400", "401"}
        if "{" in path:
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"413", "415"}
        if method == "post":
            expected |= {"409", "422"}
        assert expected <= set(responses), (method, path, sorted(responses))
        # ... each in the one error format, with a description
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert error_ref(response) == "Error", (method, path, status)
                assert response["description"], (method, path, status)


@pytest.mark.django_db
def test_403_is_documented_exactly_where_a_client_kind_is_refused(schema):
    # given an operation every kind may call and one only some kinds may call
    product_read = schema["paths"]["/api/v1/products/{sku}"]["get"]
    order_write = schema["paths"]["/api/v1/orders"]["post"]
    # then only the restricted one documents 403, and names the kinds it admits
    assert "403" not in product_read["responses"]
    assert "403" in order_write["responses"]
    assert "webshop" in order_write["description"]


@pytest.mark.django_db
def test_every_post_documents_the_idempotency_key_header(schema):
    for path, method, operation in api_operations(schema):
        if method != "post":
            continue
        # given a POST operation, then it takes the header as the middleware checks it
        header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
        assert header["in"] == "header"
        assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": 255,
                                    "pattern": r"^[\x20-\x7e]{1,255}$"}, path


@pytest.mark.django_db
def test_list_bounds_and_query_constraints_match_the_validation(schema):
    components = schema["components"]["schemas"]
    # given lists that must not be empty and have a maximum length
    lines = components["OrderInRequest"]["properties"]["lines"]
    products = components["BulkInRequest"]["properties"]["products"]
    # then the schema states both
    assert (lines["minItems"], lines["maxItems"]) == (1, 200)
    assert (products["minItems"], products["maxItems"]) == (1, 10_000)
    # and the paging and filter parameters carry their limits and values
    parameters = {p["name"]: p["schema"] for p in
                  schema["paths"]["/api/v1/orders"]["get"]["parameters"]}
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 500)
    assert "shipped" in parameters["status"]["enum"]
    assert parameters["updated_since"]["format"] == "date-time"
