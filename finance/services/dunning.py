"""The dunning sweep (beat, `finance.tasks.sweep_dunning`): open items whose due date has passed
become `overdue`, and each overdue item gets the next dunning level once its day has come.

Due times are rows, not timers: `OpenItem.next_dunning_at` says when the sweep must look at an
item next (a partial index holds only the items with a step to come). The sweep takes due items
in batches, each in one transaction under row locks it does not wait for (``SKIP LOCKED``: an
item a payment is settling right now is looked at in the next run), and moves every item it
looked at into the future or out of the queue, so a second run finds nothing to do. The
`DunningNotice` row of an (item, level) is unique besides: no level is ever sent twice.

A level reached: its fee is added to the item and booked (Dr receivables / Cr dunning fees, no
VAT: a fee is damages, not a supply), a ``dunning.notice`` event tells the customer (the
notifications app e-mails them the open amount), and the highest level puts the item on the
collection list (`for_collection`; it stays `overdue`). One level per run: an item whose sweep
was late gets the next level at the earliest the levels' distance after this one, never two
notices at once. A disputed item has no due time (dunning paused until it is undisputed); an
item whose order has a return still `requested` is looked at again a day later, so the goods
on their way back are credited before the customer is dunned for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from finance.models import DunningLevel, DunningNotice, OpenItem
from finance.services.open_items import open_item_payload
from finance.services.schedule import (
    day_start,
    dunning_levels,
    level_after,
    next_step_at,
)
from finance.sql import open_item_events_insert, open_items_dunning_update
from finance.states import NOT_DUE, OpenItemStatus
from ledger.services import Line, entry_post
from oms.core.events import event_emit, events_batched
from returns.models import Return
from returns.states import ReturnStatus

ACTOR = "dunning"
# What a history row of the sweep repeats of the item (the event carries all of it).
HISTORY_FIGURES = ("status", "dunning_level", "fees", "open", "for_collection")
BATCH_SIZE = 500
# A paused item (a return of its order still requested) is looked at again this much later.
PAUSE = timedelta(days=1)


@dataclass
class SweepReport:
    looked_at: int = 0
    overdue: int = 0
    notices: int = 0
    fees: Decimal = Decimal("0.00")
    paused: int = 0
    for_collection: int = 0
    batches: int = 0


@dataclass
class _Batch:
    now: datetime
    today: date
    levels: list[DunningLevel]
    paused_orders: set[int]
    report: SweepReport
    at: str = ""  # `now` as the history rows store it
    history: list[dict[str, Any]] = field(default_factory=list)
    notices: list[DunningNotice] = field(default_factory=list)


def dunning_sweep(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> SweepReport:
    """Every item due for a dunning step by `now`, in batches of `batch_size`."""
    now = now or timezone.now()
    levels = dunning_levels()
    report = SweepReport()
    while _sweep_batch(now, levels, batch_size, report) == batch_size:
        pass
    return report


def _sweep_batch(now: datetime, levels: list[DunningLevel], size: int,
                 report: SweepReport) -> int:
    with transaction.atomic(), events_batched():
        # Of the order and the customer only what the events name, as values: whole rows would
        # cost a sixth of the sweep's CPU (their JSON columns, the order's state machine).
        items = list(OpenItem.objects.select_for_update(of=("self",), skip_locked=True)
                     .annotate(order_number=F("order__number"),
                               customer_public_id=F("customer__public_id"))
                     .filter(next_dunning_at__lte=now).order_by("next_dunning_at", "pk")[:size])
        if not items:
            return 0
        paused = set(Return.objects.filter(
            order_id__in={item.order_id for item in items}, status=ReturnStatus.REQUESTED)
            .values_list("order_id", flat=True))
        batch = _Batch(now=now, today=timezone.localdate(now), levels=levels,
                       paused_orders=paused, report=report, at=now.isoformat())
        for item in items:
            _step(item, batch)
            item.updated_at = now
        _book_fees(batch)
        DunningNotice.objects.bulk_create(batch.notices)
        open_items_dunning_update(items)
        open_item_events_insert(batch.history)
    report.looked_at += len(items)
    report.batches += 1
    return len(items)


def _record(item: OpenItem, batch: _Batch, type_: str, data: dict[str, Any]) -> dict[str, Any]:
    """The item's history row (what changed, with the item's figures after it) and its payload
    for the outbox event."""
    payload = open_item_payload(item, order=item.order_number,
                                customer=str(item.customer_public_id))
    batch.history.append({"open_item_id": item.pk, "type": type_, "at": batch.at,
                          "actor": ACTOR,
                          "data": {**{k: payload[k] for k in HISTORY_FIGURES}, **data}})
    return payload


def _step(item: OpenItem, batch: _Batch) -> None:
    """One item's step: fall due, then the next level if its day has come; always leaves the
    item with its next due time in the future, or none."""
    if item.status in NOT_DUE:
        if item.due_date >= batch.today:
            item.next_dunning_at = next_step_at(item, batch.levels)
            return
        item.fall_due()
        payload = _record(item, batch, "open_item.overdue", {})
        event_emit(topic="open_item.overdue", aggregate_type="open_item",
                   aggregate_id=item.pk, payload=payload)
        batch.report.overdue += 1
    level = level_after(batch.levels, item.dunning_level) \
        if item.status == OpenItemStatus.OVERDUE and not item.for_collection else None
    if level is None:
        item.next_dunning_at = None
        return
    due = day_start(item.due_date + timedelta(days=level.days_after_due))
    if due > batch.now:
        item.next_dunning_at = due
        return
    if item.order_id in batch.paused_orders:
        item.next_dunning_at = batch.now + PAUSE
        batch.report.paused += 1
        return
    _reach(item, level, batch)


def _reach(item: OpenItem, level: DunningLevel, batch: _Batch) -> None:
    """`item` reaches `level`: the fee, the notice, the collection list after the last."""
    item.fees += level.fee
    item.dunning_level = level.level
    following = level_after(batch.levels, level.level)
    if following is None:
        item.for_collection = True
        item.next_dunning_at = None
        batch.report.for_collection += 1
    else:
        distance = max(following.days_after_due - level.days_after_due, 1)
        item.next_dunning_at = max(
            day_start(item.due_date + timedelta(days=following.days_after_due)),
            batch.now + timedelta(days=distance))
    notice = {"level": level.level, "name": level.name, "fee": str(level.fee),
              "final": following is None,
              "pay_by": (timezone.localdate(item.next_dunning_at).isoformat()
                         if item.next_dunning_at else None)}
    payload = _record(item, batch, "open_item.dunned", notice)
    event = event_emit(topic="dunning.notice", aggregate_type="open_item",
                       aggregate_id=item.pk, payload={**payload, "open_item": item.pk,
                                                      **notice})
    batch.notices.append(DunningNotice(
        open_item=item, level=level.level, name=level.name, fee=level.fee,
        open_amount=item.open_amount, currency=item.currency, for_collection=following is None,
        event_id=event.id, sent_at=batch.now))
    batch.report.notices += 1
    batch.report.fees += level.fee


def _book_fees(batch: _Batch) -> None:
    """The batch's fees in one entry (Dr receivables / Cr dunning fees), each notice pointing at
    it: the general ledger keeps one collective receivables account, whose subsidiary ledger,
    item by item, is the open items with their notices; the entry is the dunning run's list
    (its document). One entry per fee cost 4 statements and a deferred balance check each, a
    third of the sweep's time (bench/dunning)."""
    charged = [n for n in batch.notices if n.fee > 0]
    if not charged:
        return
    total = sum((n.fee for n in charged), Decimal("0.00"))
    first = min(n.open_item.pk for n in charged)
    entry = entry_post(
        booked_on=batch.today, reference=f"MAHNLAUF-{batch.today:%Y%m%d}",
        text=f"Mahngebühren Mahnlauf {batch.today:%d.%m.%Y} ({len(charged)} Posten)",
        source=f"dunning:{batch.now:%Y%m%dT%H%M%S.%f}:{first}",
        lines=[Line.dr("receivables", total), Line.cr("dunning_fees", total)])
    for notice in charged:
        notice.entry = entry
