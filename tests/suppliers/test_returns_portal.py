"""Supplier returns: a parcel of a dropship order goes back to the supplier site that shipped it
(when it takes returns), shows in the portal's "Returns", and the supplier receives it line by
line (restock, damaged, refused with a reason); the refund follows as for any return. Another
supplier neither sees nor receives it."""

from __future__ import annotations

from typing import Any

import pytest

from payments.adapters import psp
from returns.models import Return
from tests.returns.conftest import return_body
from tests.suppliers.conftest import portal_client, stock
from tests.suppliers.factories import SupplierFactory, SupplierSiteFactory, SupplierUserFactory
from tests.suppliers.factories_settlement import deliver, ship

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_back(dropship_order: Any, supplier_site: Any, shop: Any,
              django_capture_on_commit_callbacks: Any) -> Return:
    """Nordwerk (which takes returns) shipped 2 boots and 3 pairs of socks, delivered; the
    customer sends back 2 boots and 1 pair of socks by mail."""
    supplier_site.accepts_returns = True
    supplier_site.save(update_fields=["accepts_returns"])
    ship(django_capture_on_commit_callbacks, dropship_order)
    deliver(django_capture_on_commit_callbacks, dropship_order)
    with django_capture_on_commit_callbacks(execute=True):
        response = shop.post("/api/v1/returns", return_body(
            {"number": dropship_order.order.number}, [("BOOT-42", 2), ("SOCK-1", 1)]))
    assert response.status_code == 201, response.content
    ret = Return.objects.get(pk=response.json()["id"])
    assert (ret.mode, ret.location.code) == ("mail", "SUP-NORD")
    return ret


def receipt(ret: Return, **per_sku: tuple[int, str, str]) -> dict[str, Any]:
    """The receive form's fields: per SKU (units received, disposition, refused because)."""
    data: dict[str, Any] = {}
    for line in ret.lines.all():
        received, disposition, refused = per_sku[line.sku]
        data |= {f"received_{line.pk}": received, f"disposition_{line.pk}": disposition,
                 f"refused_{line.pk}": refused}
    return data


def test_the_return_is_listed_as_announced_for_the_supplier(sent_back: Return,
                                                            supplier_client: Any) -> None:
    # When Nora opens "Returns"
    page = supplier_client.get("/supplier/returns/")
    received_tab = supplier_client.get("/supplier/returns/?status=received")

    # Then the return is waiting there, not among the received ones
    assert page.status_code == 200
    assert f'data-return="{sent_back.number}"' in page.content.decode()
    assert f'data-return="{sent_back.number}"' not in received_tab.content.decode()
    detail = supplier_client.get(f"/supplier/returns/{sent_back.pk}/")
    assert detail.status_code == 200
    assert 'id="receive-form"' in detail.content.decode()


def test_the_supplier_receives_with_disposition_and_the_refund_follows(
        sent_back: Return, supplier_client: Any, supplier_site: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    # Given the boots are on Nordwerk's shelf as they were after shipping
    boots_before = supplier_site.stock_levels.get(product_id="BOOT-42").on_hand

    # When Nora puts both boots back on the shelf and refuses the socks
    with django_capture_on_commit_callbacks(execute=True):
        response = supplier_client.post(f"/supplier/returns/{sent_back.pk}/", receipt(
            sent_back, **{"BOOT-42": (2, "restock", ""), "SOCK-1": (0, "restock", "worn")}))

    # Then the return is received: boots back on the shelf, socks refused with her reason
    assert response.status_code == 302
    ret = Return.objects.get(pk=sent_back.pk)
    lines = {ln.sku: ln for ln in ret.lines.all()}
    assert (lines["BOOT-42"].received, lines["BOOT-42"].disposition) == (2, "restock")
    assert (lines["SOCK-1"].status, lines["SOCK-1"].refused_reason) == ("refused", "worn")
    assert ret.received_by == "supplier:nora"
    assert supplier_site.stock_levels.get(product_id="BOOT-42").on_hand == boots_before + 2
    # and the card is refunded for the 2 boots (10.00 each) through the PSP
    [call] = psp.fake.refunds.values()
    assert call.amount == 20
    assert ret.status in ("received", "refunded", "closed")
    # and the return moves to the received tab, with its receipt
    page = supplier_client.get("/supplier/returns/?status=received").content.decode()
    assert f'data-return="{ret.number}"' in page
    detail = supplier_client.get(f"/supplier/returns/{ret.pk}/").content.decode()
    assert 'id="received-lines"' in detail and "worn" in detail


def test_damaged_goods_are_written_off_not_restocked(
        sent_back: Return, supplier_client: Any, supplier_site: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    boots_before = supplier_site.stock_levels.get(product_id="BOOT-42").on_hand
    with django_capture_on_commit_callbacks(execute=True):
        supplier_client.post(f"/supplier/returns/{sent_back.pk}/", receipt(
            sent_back, **{"BOOT-42": (2, "write_off", ""), "SOCK-1": (1, "restock", "")}))
    lines = {ln.sku: ln for ln in Return.objects.get(pk=sent_back.pk).lines.all()}
    assert (lines["BOOT-42"].received, lines["BOOT-42"].disposition) == (2, "write_off")
    assert supplier_site.stock_levels.get(product_id="BOOT-42").on_hand == boots_before


@pytest.mark.parametrize("bad", [
    {"BOOT-42": (3, "restock", ""), "SOCK-1": (1, "restock", "")},   # more than announced
    {"BOOT-42": (-1, "restock", ""), "SOCK-1": (1, "restock", "")},  # negative
    {"BOOT-42": (1, "shred", ""), "SOCK-1": (1, "restock", "")},     # no such disposition
])
def test_bad_input_receives_nothing(sent_back: Return, supplier_client: Any,
                                    bad: dict[str, tuple[int, str, str]]) -> None:
    response = supplier_client.post(f"/supplier/returns/{sent_back.pk}/",
                                    receipt(sent_back, **bad))
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert Return.objects.get(pk=sent_back.pk).status == "requested"
    assert psp.fake.refunds == {}


def test_a_received_return_is_not_received_again(
        sent_back: Return, supplier_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = receipt(sent_back, **{"BOOT-42": (2, "restock", ""), "SOCK-1": (1, "restock", "")})
    with django_capture_on_commit_callbacks(execute=True):
        supplier_client.post(f"/supplier/returns/{sent_back.pk}/", data)
    again = supplier_client.post(f"/supplier/returns/{sent_back.pk}/", data, follow=True)
    assert again.status_code == 200
    assert len(psp.fake.refunds) == 1


def test_another_supplier_neither_sees_nor_receives_the_return(sent_back: Return) -> None:
    # Given a second supplier with a site that also takes returns, and its portal user
    other = SupplierFactory(code="SUED", name="Südhandel AG")
    site = SupplierSiteFactory(supplier=other, location__code="SUP-SUED").location
    stock(site, "BOOT-42", 5)
    client = portal_client(SupplierUserFactory(supplier=other))

    # When its user lists returns and opens or receives Nordwerk's
    listed = client.get("/supplier/returns/").content.decode()
    opened = client.get(f"/supplier/returns/{sent_back.pk}/")
    posted = client.post(f"/supplier/returns/{sent_back.pk}/", receipt(
        sent_back, **{"BOOT-42": (2, "restock", ""), "SOCK-1": (1, "restock", "")}))

    # Then the return does not exist for it, and nothing happened
    assert sent_back.number not in listed
    assert (opened.status_code, posted.status_code) == (404, 404)
    assert Return.objects.get(pk=sent_back.pk).status == "requested"


def test_a_user_of_no_supplier_is_refused(sent_back: Return, django_user_model: Any) -> None:
    from django.test import Client

    client = Client()
    client.force_login(django_user_model.objects.create_user("stranger", password="x"))
    assert client.get("/supplier/returns/").status_code == 403
