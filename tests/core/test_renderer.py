"""Every response is rendered by FastJSONRenderer; it must say what DRF's renderer says."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from oms.core.api.renderers import FastJSONRenderer

PAYLOAD = {
    "amount": Decimal("19.90"),
    "label": gettext_lazy("Unknown SKUs: %(skus)s."),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "nested": [{"n": 1, "f": 2.5, "none": None, "ok": True}],
    "text": "Größe, Übergröße",
    7: "a non-string key",
}


def test_the_fast_renderer_says_what_drf_says():
    # when the same data is rendered by both
    fast = FastJSONRenderer().render(PAYLOAD)
    drf = JSONRenderer().render(PAYLOAD)

    # then the documents are equal
    assert json.loads(fast) == json.loads(drf)


def test_times_are_rfc_3339_instants():
    rendered = json.loads(FastJSONRenderer().render({"at": datetime(2026, 3, 1, 8, tzinfo=UTC)}))

    assert datetime.fromisoformat(rendered["at"]) == datetime(2026, 3, 1, 8, tzinfo=UTC)


def test_indented_output_is_still_available_on_request():
    rendered = FastJSONRenderer().render({"a": 1}, "application/json; indent=4")

    assert rendered.decode() == '{\n    "a": 1\n}'


def test_no_data_renders_an_empty_body():
    assert FastJSONRenderer().render(None) == b""
