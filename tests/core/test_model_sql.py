"""Lookups without the ORM's query compiler (oms.core.model_sql.select_models): every request
reads its client and idempotency key this way, so they must load exactly what the ORM loads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Model
from django.utils import timezone

from fulfillment.notifications.models import Notification
from inventory.models import Location
from oms.core.model_sql import for_update, models_by_pk, select_models
from oms.core.models import ApiClient, IdempotencyKey
from oms.orders.models import Order, OrderLine
from payments.models import Payment
from tests.factories import ApiClientFactory, LocationFactory
from tests.notifications.factories import a_payment, a_pending_notification, an_order

pytestmark = pytest.mark.django_db


def columns(instance: Model) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_a_row_read_by_hand_loads_like_the_orm_json_included() -> None:
    # Given a location with an address (JSON) and coordinates
    location = LocationFactory(code="ST-X", address={"city": "Köln", "lines": ["Hohe Str. 1"]},
                               lat=50.9375, lon=6.9603)
    # When it is read by hand
    [found] = select_models(Location, "code = %s", ["ST-X"])
    # Then every column is what the ORM reads, the JSON decoded
    assert columns(found) == columns(Location.objects.get(pk=location.pk))
    assert found.address["lines"] == ["Hohe Str. 1"]
    # And it is a loaded instance: saving it updates the row instead of inserting another
    assert not found._state.adding
    found.name = "Köln Mitte"
    found.save(update_fields=["name"])
    assert Location.objects.get(pk=location.pk).name == "Köln Mitte"


def test_an_idempotency_key_reads_back_its_stored_answer() -> None:
    client = ApiClientFactory()
    now = timezone.now()
    stored = IdempotencyKey.objects.create(
        client=client, key="k-1", fingerprint="f" * 64, response_status=201,
        response_body='{"number": "1000001"}', response_content_type="application/json",
        response_headers={"Location": "/api/v1/orders/1000001"}, created_at=now,
        expires_at=now + timedelta(hours=24))
    [found] = select_models(IdempotencyKey, 'client_id = %s AND "key" = %s', [client.pk, "k-1"])
    assert columns(found) == columns(IdempotencyKey.objects.get(pk=stored.pk))
    assert found.response_headers == {"Location": "/api/v1/orders/1000001"}
    assert found.created_at == now


def test_only_matching_rows_come_back() -> None:
    active, revoked = ApiClientFactory(), ApiClientFactory(is_active=False)
    assert select_models(ApiClient, "token_hash = %s AND is_active", [revoked.token_hash]) == []
    assert select_models(ApiClient, "token_hash = %s AND is_active",
                         [active.token_hash]) == [active]


def test_models_by_pk_is_in_bulk_and_asks_nothing_for_no_keys(django_assert_num_queries) -> None:
    first, second = LocationFactory(), LocationFactory()
    assert models_by_pk(Location, [first.pk, second.pk]) == \
        Location.objects.in_bulk([first.pk, second.pk])
    with django_assert_num_queries(0):
        assert models_by_pk(Location, []) == {}


def test_related_paths_are_joined_and_read_without_a_query_like_select_related(
        django_assert_num_queries) -> None:
    # Given a payment of an order of a customer, and an order line of a product (by SKU)
    order = an_order([("SKU-A", "Shirt", 2, "9.99")], number="7000001")
    payment = a_payment(order, "card")
    as_the_orm_reads_it = columns(Order.objects.get(pk=order.pk))
    # When they are read by hand with their related rows
    with django_assert_num_queries(2):
        [paid] = select_models(Payment, "payments_payment.id = %s", [payment.pk],
                               related=["order__customer"])
        [line] = select_models(OrderLine, "orders_orderline.order_id = %s", [order.pk],
                               related=["product"])
        # Then the related instances are there without another query, loaded as the ORM does
        assert columns(paid.order) == as_the_orm_reads_it
        assert columns(paid.order.customer) == columns(order.customer)
        assert line.product.name == "Shirt"
    assert columns(paid) == columns(Payment.objects.get(pk=payment.pk))


def test_a_missing_related_row_is_none_like_select_related() -> None:
    # Given a notification that belongs to no fulfilment
    notification = a_pending_notification(an_order([("SKU-B", "Cap", 1, "5.00")]))
    [found] = select_models(Notification, "fulfillment_notification.id = %s", [notification.pk],
                            related=["fulfillment", "order"])
    assert found.fulfillment is None
    assert found.order.number == notification.order.number


def test_the_lock_clause_is_the_one_the_orm_writes() -> None:
    def orm_sql(queryset: object) -> str:
        return str(queryset.query)  # type: ignore[attr-defined]

    assert orm_sql(Notification.objects.select_for_update()).endswith(for_update())
    assert orm_sql(Notification.objects.select_for_update(of=("self",), skip_locked=True)) \
        .endswith(for_update(of="fulfillment_notification", skip_locked=True))


def test_keys_that_cannot_be_null_are_inner_joins_so_the_whole_row_can_be_locked() -> None:
    # Given a payment of an order (neither key can be null)
    payment = a_payment(an_order([("SKU-C", "Belt", 1, "15.00")]), "invoice")
    # When it is read locked with its order and customer, without naming a table to lock
    [locked] = select_models(Payment, f"payments_payment.id = %s{for_update()}", [payment.pk],
                             related=["order__customer"])
    # Then PostgreSQL accepts it (FOR UPDATE cannot lock the nullable side of a LEFT JOIN)
    assert locked.order.customer.email == payment.order.customer.email
