"""Request bodies for the catalog feed, valid unless a test overrides a field."""

from __future__ import annotations

from typing import Any


def product_body(**overrides: Any) -> dict[str, Any]:
    """A valid `PUT /api/v1/products/{sku}` body; `overrides` replace its fields."""
    body: dict[str, Any] = {
        "name": "Sneaker schwarz",
        "ean": "4006381333931",
        "attributes": {"colour": "schwarz", "size": "42"},
        "prices": [
            {"channel": "web", "currency": "EUR", "amount": "89.99"},
            {"channel": "store", "currency": "EUR", "amount": "94.99"},
        ],
        "media": [{"url": "https://cdn.example.com/sneaker.jpg", "kind": "image"}],
    }
    body.update(overrides)
    return body


def bulk_row(sku: str, **overrides: Any) -> dict[str, Any]:
    """One product of a `POST /api/v1/products/bulk` body."""
    return {"sku": sku, **product_body(name=f"Product {sku}", **overrides)}
