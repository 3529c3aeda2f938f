"""Uploading a stock CSV through the portal as a supplier's browser does (the stock tests)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from inventory.models import StockLevel


def csv_file(text: str | bytes, name: str = "stock.csv") -> SimpleUploadedFile:
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def upload(client: Client, text: str | bytes, *, as_of: datetime | None = None,
           name: str = "stock.csv") -> Any:
    """POST the file from the upload form; follows to the report page."""
    when = timezone.localtime(as_of or timezone.now() - timedelta(minutes=1))
    return client.post("/supplier/stock/upload/", {
        "file": csv_file(text, name), "as_of": when.strftime("%Y-%m-%dT%H:%M"),
    }, follow=True)


def counts() -> dict[tuple[str, str], tuple[int, int]]:
    """(site, sku) -> (on_hand, reserved) of every stock level."""
    return {(level.location.code, level.product_id): (level.on_hand, level.reserved)
            for level in StockLevel.objects.select_related("location")}
