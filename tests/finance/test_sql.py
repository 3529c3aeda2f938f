"""The finance app's hand-written statements do what the ORM would (finance/sql.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from finance.models import OpenItem, OpenItemEvent
from finance.sql import DUNNING_COLUMNS, open_item_events_insert, open_items_dunning_update
from tests.finance.factories import OpenItemFactory

pytestmark = pytest.mark.django_db


def columns(item: OpenItem) -> tuple[object, ...]:
    return tuple(getattr(item, c) for c in DUNNING_COLUMNS)


def test_the_dunning_update_writes_what_bulk_update_would() -> None:
    # Given two pairs of equal items, changed alike in memory
    by_sql, by_orm = [OpenItemFactory() for _ in range(2)], [OpenItemFactory() for _ in range(2)]
    later = timezone.now() + timedelta(days=3)
    for first, second in (by_sql, by_orm):
        first.fall_due()
        first.dunning_level, first.fees, first.next_dunning_at = 2, Decimal("7.50"), later
        second.for_collection, second.next_dunning_at = True, None
        first.updated_at = second.updated_at = later
    # When one pair is written by the statement and the other by the ORM
    assert open_items_dunning_update(by_sql) == 2
    OpenItem.objects.bulk_update(by_orm, list(DUNNING_COLUMNS))
    # Then the rows read back alike
    sql_rows = [columns(OpenItem.objects.get(pk=i.pk)) for i in by_sql]
    orm_rows = [columns(OpenItem.objects.get(pk=i.pk)) for i in by_orm]
    assert sql_rows == orm_rows
    assert sql_rows[0][:4] == ("overdue", 2, Decimal("7.50"), False)
    assert open_items_dunning_update([]) == 0


def test_the_history_insert_writes_what_bulk_create_would() -> None:
    item = OpenItemFactory()
    now = timezone.now()
    data = {"level": 1, "name": "Zahlungserinnerung", "quote": 'say "hi"\\'}
    assert open_item_events_insert([{"open_item_id": item.pk, "type": "open_item.dunned",
                                     "at": now.isoformat(), "actor": "dunning",
                                     "data": data}]) == 1
    OpenItemEvent.objects.bulk_create([OpenItemEvent(open_item=item, type="open_item.dunned",
                                                     at=now, actor="dunning", data=data)])
    first, second = OpenItemEvent.objects.order_by("pk").values_list(
        "open_item", "type", "at", "actor", "data")
    assert first == second
    assert open_item_events_insert([]) == 0
