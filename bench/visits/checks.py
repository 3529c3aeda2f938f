"""What the database must show after the visits: one visit row per visit answered 201, the
offers and offer lines the answers listed, a ``pickup_offer.made`` event per offer and a
``pickup_offer.decided`` audit entry per offer made; and each visit's offers as its kind
expects (offers for the kind ``offer``, none for the others)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.database import raw_connection
from bench.visits.senders import Visited


@dataclass(frozen=True)
class Marks:
    visit_id: int
    event_id: int
    at: Any  # the database's clock when the marks were taken


def marks_take(config: BenchConfig, db: str) -> Marks:
    with raw_connection(config, db) as conn:
        return Marks(*conn.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM visits_storevisit), "
            "(SELECT coalesce(max(id), 0) FROM orders_orderevent), now()").fetchone())


def visits_check(config: BenchConfig, db: str, marks: Marks,
                 answered: Sequence[Visited]) -> tuple[list[str], dict[str, Any]]:
    """(findings, figures) for every visit since `marks`."""
    ok = [v for v in answered if v.failure is None]
    with raw_connection(config, db) as conn:
        visits, offers, lines = conn.execute(
            "SELECT count(DISTINCT v.id), count(DISTINCT p.id), count(l.id) "
            "FROM visits_storevisit v LEFT JOIN visits_pickupoffer p ON p.visit_id = v.id "
            "LEFT JOIN visits_pickupofferline l ON l.offer_id = p.id WHERE v.id > %s",
            [marks.visit_id]).fetchone()
        made = conn.execute(
            "SELECT count(*) FROM core_outboxevent WHERE topic = 'pickup_offer.made' "
            "AND created_at >= %s", [marks.at]).fetchone()[0]
        decisions = dict(conn.execute(
            "SELECT data->>'decision', count(*) FROM orders_orderevent "
            "WHERE id > %s AND type = 'pickup_offer.decided' GROUP BY 1 ORDER BY 1",
            [marks.event_id]).fetchall())
    figures = {"visits": visits, "offers": offers, "offer_lines": lines,
               "pickup_offer_made_events": made, "decisions": decisions}
    findings = []
    expected = {"visits": len(ok), "offers": sum(v.offers for v in ok),
                "offer_lines": sum(v.offer_lines for v in ok),
                "pickup_offer_made_events": sum(v.offers for v in ok)}
    for what, count in expected.items():
        if figures[what] != count:
            findings.append(f"{figures[what]} {what} in the database, {count} answered")
    if decisions.get("offered", 0) != expected["offers"]:
        findings.append(f"{decisions.get('offered', 0)} `offered` decisions in the audit trail "
                        f"for {expected['offers']} offers")
    wrong = Counter(v.kind for v in ok if (v.offers > 0) != (v.kind == "offer"))
    for kind, n in sorted(wrong.items()):
        findings.append(f"{n} visits of kind {kind} " + (
            "made no offer" if kind == "offer" else "made offers"))
    return findings, figures
