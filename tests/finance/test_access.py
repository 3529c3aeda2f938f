"""Finance endpoints answer finance and ERP clients only (API.md: Payments and finance); every
other kind gets 403 and changes nothing, without a token 401."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from finance.models import BankTransaction, OpenItem
from tests.finance.conftest import BANK, OPEN_ITEMS, error_codes
from tests.finance.factories import BankTransactionBodyFactory, OpenItemFactory

pytestmark = pytest.mark.django_db

ADMITTED = ["finance", "erp"]
REFUSED = [("webshop", {"channel": "web"}), ("pos", {"channel": "web"}),
           ("app", {"channel": "app"}), ("marketplace", {"channel": "mp"}),
           ("wms", {}), ("supplier", {}), ("staff", {}), ("psp", {}), ("pim", {}),
           ("crm", {}), ("bi", {})]


@pytest.mark.parametrize("kind", ADMITTED)
def test_finance_and_erp_read_open_items_and_post_bank_transactions(api: Any,
                                                                    kind: str) -> None:
    item = OpenItemFactory()
    client = api(kind)
    listed = client.get(OPEN_ITEMS)
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [item.pk]
    posted = client.post(BANK, BankTransactionBodyFactory(purpose=item.order.number))
    assert posted.status_code == 201, posted.content


@pytest.mark.parametrize(("kind", "fields"), REFUSED, ids=[k for k, _ in REFUSED])
def test_every_other_kind_is_refused(api: Any, kind: str, fields: dict[str, Any]) -> None:
    item = OpenItemFactory()
    client = api(kind, **fields)
    listed = client.get(OPEN_ITEMS)
    posted = client.post(BANK, BankTransactionBodyFactory(purpose=item.order.number))
    assert (listed.status_code, posted.status_code) == (403, 403)
    assert error_codes(listed) == error_codes(posted) == ["permission_denied"]
    assert "results" not in listed.json()
    assert not BankTransaction.objects.exists()
    item.refresh_from_db()
    assert item.paid == 0 and OpenItem.objects.count() == 1


def test_without_a_token_the_answer_is_401() -> None:
    assert Client().get(OPEN_ITEMS).status_code == 401
    assert Client().post(BANK, {}, content_type="application/json").status_code == 401
