"""The customer is standing in the store while the visit is answered (issue 20: p95 under 50 ms),
and a statement costs the request a round trip: a new visit's statements are counted here, so a
change that adds one is seen (bench/README.md, `visits`: where the time goes)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oms.orders.models import OrderEvent
from tests.visits.conftest import visit as _visit

pytestmark = pytest.mark.django_db

# A new visit of a customer with one parcel the store can serve: the API client, the store,
# the customer (looked up and locked at once), their recent visit, the visit, the consents,
# the parcels and their lines, the store's stock; the offer, its lines, its event, the audit
# entry; the browsing signals for the answer's in_store. The answer is built from the rows
# written, not read back.
ONE_OFFER_STATEMENTS = 14


def _request_statements(captured: CaptureQueriesContext) -> list[str]:
    """The request's statements, without the savepoint the test's transaction turns the
    request's own transaction into (BEGIN and COMMIT in production, which are not
    statements the request waits on apart from the commit)."""
    return [q["sql"] for q in captured.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_a_new_visit_with_one_offer_costs_fourteen_statements_and_answers_as_a_read_does(
        ordered: Any, app: Any) -> None:
    # given Kim (with consent) has a parcel at Kassel that Munich can serve
    ordered()

    # when the app reports her entering the Munich store
    with CaptureQueriesContext(connection) as captured:
        response = _visit(app)

    # then one offer is made in fourteen statements, with no savepoint of the visit's own
    assert response.status_code == 201, response.content
    assert len(response.json()["offers"]) == 1
    statements = _request_statements(captured)
    assert len(statements) == ONE_OFFER_STATEMENTS, "\n".join(statements)
    assert sum(q["sql"].startswith("SAVEPOINT") for q in captured.captured_queries) == 1
    # and the answer built from the rows written is what reading the visit back shows
    assert app.get(f"/api/v1/store-visits/{response.json()['id']}").json() == response.json()


def test_a_further_parcel_costs_no_further_statement(ordered: Any, app: Any) -> None:
    # given Kim has two orders, each a parcel at Kassel that Munich can serve
    first = ordered()
    second = ordered(consent=None)

    # when she enters the Munich store
    with CaptureQueriesContext(connection) as captured:
        response = _visit(app)

    # then both parcels are offered in as many statements as one: the offers, their lines,
    # their events and the audit entries are one INSERT each
    assert response.status_code == 201, response.content
    assert [o["order"] for o in response.json()["offers"]] == [first["number"],
                                                              second["number"]]
    statements = _request_statements(captured)
    assert len(statements) == ONE_OFFER_STATEMENTS, "\n".join(statements)
    assert sum(s.startswith('INSERT INTO "orders_orderevent"') for s in statements) == 1
    # and each order's trail has its own decision, naming its own offer
    offers = {o["order"]: o["id"] for o in response.json()["offers"]}
    for order in (first, second):
        [entry] = OrderEvent.objects.filter(order__number=order["number"],
                                            type="pickup_offer.decided")
        assert entry.data["decision"] == "offered"
        assert entry.data["offer"] == offers[order["number"]]
        assert entry.actor == app.api_client.name
    assert app.get(f"/api/v1/store-visits/{response.json()['id']}").json() == response.json()


def test_a_visit_seen_again_is_answered_with_its_offers_as_they_stand_now(
        ordered: Any, app: Any) -> None:
    # given Kim's visit made an offer, which she declined
    ordered()
    first = _visit(app).json()
    assert app.post(f"/api/v1/pickup-offers/{first['offers'][0]['id']}/decline"
                    ).status_code == 200

    # when the app reports her again within the window
    again = _visit(app)

    # then it is the same visit, its offer as it stands now
    assert again.status_code == 200, again.content
    assert again.json()["id"] == first["id"]
    assert [o["status"] for o in again.json()["offers"]] == ["declined"]
