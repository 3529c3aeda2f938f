"""A receipt locks the receiving location's stock rows up front in primary-key order, as every
stock writer does, so two tills receiving (or swapping) the same SKUs never deadlock."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.network import level
from tests.returns.conftest import receive_body, return_body

pytestmark = pytest.mark.django_db


def test_the_stock_rows_of_a_receipt_are_locked_in_primary_key_order(
        network: Any, delivered: Any, pos_berlin: Any) -> None:
    # given Berlin holds Z (an older stock row) and A (a newer one), and a return naming A
    # before Z
    network.stock(network.berlin, "Z", 1)
    network.stock(network.berlin, "A", 1)
    assert level("Z", network.berlin).pk < level("A", network.berlin).pk
    order = delivered([("A", 1), ("Z", 1)])
    ret = pos_berlin.post("/api/v1/returns", return_body(order, [("A", 1), ("Z", 1)])).json()

    # when the till receives both
    with CaptureQueriesContext(connection) as queries:
        response = pos_berlin.post(f"/api/v1/returns/{ret['id']}/receive",
                                   receive_body([("A", 1), ("Z", 1)]))

    # then before anything else both rows are locked in one statement, by primary key (Z's
    # row first, whatever order the return names them in)
    assert response.status_code == 200, response.content
    locks = [q["sql"] for q in queries.captured_queries
             if "inventory_stocklevel" in q["sql"] and "FOR NO KEY UPDATE" in q["sql"]]
    first = locks[0]
    assert "'A'" in first and "'Z'" in first
    assert re.search(r'ORDER BY ("inventory_stocklevel"."id"|1) ASC FOR NO KEY UPDATE', first)
