"""The PostgreSQL backend (oms.core.postgres): Django's, but a small multi-row INSERT is written
as VALUES instead of UNNEST over arrays, which psycopg builds in Python value by value."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oms.core.models import OutboxEvent
from oms.core.postgres.compiler import VALUES_UP_TO_ROWS

pytestmark = pytest.mark.django_db


def events(count: int) -> list[OutboxEvent]:
    now = timezone.now()
    return [OutboxEvent(topic="test.bulk", aggregate_type="test", aggregate_id=str(n),
                        payload={"n": n, "text": 'quote " and {brace}'}, created_at=now,
                        published_at=now)
            for n in range(count)]


def inserted_with(count: int) -> str:
    with CaptureQueriesContext(connection) as queries:
        OutboxEvent.objects.bulk_create(events(count))
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    return inserts[0]


def test_the_service_runs_on_its_own_engine_which_is_still_postgresql() -> None:
    assert connection.settings_dict["ENGINE"] == "oms.core.postgres"
    assert connection.vendor == "postgresql"


def test_a_few_rows_go_in_as_values() -> None:
    # When an order's four events are written at once
    sql = inserted_with(4)
    # Then the statement lists them as VALUES, and every row reads back as written
    assert "UNNEST" not in sql and "VALUES" in sql
    stored = OutboxEvent.objects.filter(topic="test.bulk").order_by("aggregate_id")
    assert [e.payload for e in stored] == [e.payload for e in events(4)]


def test_a_large_batch_keeps_unnest() -> None:
    # When more rows than VALUES_UP_TO_ROWS are written at once
    sql = inserted_with(VALUES_UP_TO_ROWS + 1)
    # Then they go in through UNNEST, one statement text for any size
    assert "UNNEST" in sql
    assert OutboxEvent.objects.filter(topic="test.bulk").count() == VALUES_UP_TO_ROWS + 1
