"""Every write to locations and stock (ARCHITECTURE.md rules 2, 3 and 5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.models import (
    MOVEMENT_SIGN,
    STORE_ONLY_CAPABILITIES,
    Capability,
    Location,
    LocationKind,
    MovementKind,
    StockLevel,
    StockMovement,
)
from inventory.sql.snapshot import LevelRow, UnknownSkus, apply_snapshot
from oms.catalog.validation import require_known_skus, require_unique_skus, unknown_skus_error
from oms.core.errors import Conflict, InvalidInput
from oms.core.events import NewEvent, event_emit, events_emit
from oms.core.outbound import outbound_url_refusal
from oms.core.webhooks.signing import generate_secret


@dataclass(frozen=True)
class LocationData:
    code: str
    name: str
    kind: str
    address: dict[str, Any]
    lat: float | None
    lon: float | None
    capabilities: Sequence[str]
    priority: int = 100
    wms_url: str = ""


def location_upsert(*, data: LocationData) -> tuple[Location, bool]:
    """Create or replace a location; returns it and whether it was created."""
    if data.kind != LocationKind.STORE:
        misplaced = sorted(set(data.capabilities) & STORE_ONLY_CAPABILITIES)
        if misplaced:
            raise InvalidInput([(
                "invalid_capability",
                _("Only stores can have %(caps)s.") % {"caps": ", ".join(misplaced)},
                "capabilities",
            )])
    if (data.lat is None) != (data.lon is None):
        raise InvalidInput([("invalid", _("Give both lat and lon, or neither."), "lat")])
    refusal = outbound_url_refusal(data.wms_url) if data.wms_url else None
    if refusal is not None:
        # the API and the cockpit form check it first; every other caller is checked here
        raise InvalidInput([(refusal.code, refusal.message, "wms_url")])
    fields = {
        "name": data.name,
        "kind": data.kind,
        "address": data.address,
        "lat": data.lat,
        "lon": data.lon,
        "priority": data.priority,
        "wms_url": data.wms_url,
        **{c.value: c.value in data.capabilities for c in Capability},
    }
    with transaction.atomic():
        location, created = Location.objects.select_for_update().update_or_create(
            code=data.code, defaults=fields
        )
        if location.wms_url and not location.wms_secret:
            # Pushed fulfilment orders are signed like our webhooks; the location's system
            # gets this secret from the cockpit once.
            location.wms_secret = generate_secret()
            location.save(update_fields=["wms_secret"])
        event_emit(
            topic="location.upserted", aggregate_type="location", aggregate_id=location.code,
            payload={"code": location.code, "kind": location.kind, "created": created,
                     "capabilities": location.capabilities},
        )
    return location, created


def _emit_shortfalls(location: Location, shortfalls: list[dict[str, Any]]) -> None:
    """On-hand no longer covers what is reserved: orders at this location need re-sourcing."""
    events_emit(
        NewEvent("stock.shortfall", "stock_level", f"{s['sku']}@{location.code}",
                 {"location": location.code, **s})
        for s in shortfalls
    )


@dataclass(frozen=True)
class SnapshotResult:
    applied: int
    ignored: int
    movements: int
    shortfalls: int


def stock_snapshot_apply(
    *, location: Location, as_of: datetime, levels: Sequence[LevelRow], actor: str,
    reference: str = "",
) -> SnapshotResult:
    """Apply absolute counts. A row whose last applied snapshot is newer than `as_of` is ignored
    (counted, not applied); every changed on-hand writes a ``count`` movement."""
    require_unique_skus([row.sku for row in levels], attr="levels")
    now = timezone.now()
    with transaction.atomic():
        try:
            # The catalog check is folded into the statement inserting new rows: a separate
            # look-up of every SKU cost a tenth of a large snapshot.
            outcome = apply_snapshot(location=location, as_of=as_of, rows=levels,
                                     reference=reference or f"snapshot {as_of.isoformat()}",
                                     actor=actor, now=now)
        except UnknownSkus as unknown:
            raise unknown_skus_error(unknown.skus, attr="levels") from None
        _emit_shortfalls(location, outcome.shortfalls)
        event_emit(
            topic="stock.snapshot_applied", aggregate_type="location", aggregate_id=location.code,
            payload={"location": location.code, "as_of": as_of.isoformat(),
                     "applied": outcome.applied, "ignored": len(levels) - outcome.applied},
        )
    return SnapshotResult(applied=outcome.applied, ignored=len(levels) - outcome.applied,
                          movements=outcome.moved, shortfalls=len(outcome.shortfalls))


# The largest count the integer stock columns hold; PostgreSQL refuses anything above it.
ON_HAND_MAX = 2_147_483_647


def stock_movement_record(
    *, location: Location, sku: str, quantity: int, kind: str, reference: str, actor: str,
) -> StockMovement:
    """Apply a signed on-hand change and journal it. On-hand never goes below zero."""
    if quantity == 0:
        raise InvalidInput([("invalid", _("Quantity must not be zero."), "quantity")])
    sign = MOVEMENT_SIGN.get(MovementKind(kind))
    if sign is not None and (quantity > 0) != (sign > 0):
        raise InvalidInput([(
            "invalid_sign",
            _("A %(kind)s must have a %(sign)s quantity.")
            % {"kind": kind, "sign": _("positive") if sign > 0 else _("negative")},
            "quantity",
        )])
    require_known_skus([sku], attr="sku")
    now = timezone.now()
    with transaction.atomic():
        StockLevel.objects.bulk_create(
            [StockLevel(product_id=sku, location=location, updated_at=now)],
            ignore_conflicts=True,
        )
        level = StockLevel.objects.select_for_update(no_key=True).get(product_id=sku,
                                                                      location=location)
        if level.on_hand + quantity < 0:
            raise Conflict(
                _("On hand is %(on_hand)d; it cannot go below zero.") % {"on_hand": level.on_hand},
                code="negative_stock", attr="quantity",
            )
        if level.on_hand + quantity > ON_HAND_MAX:
            raise Conflict(
                _("On hand is %(on_hand)d; it cannot exceed %(max)d.")
                % {"on_hand": level.on_hand, "max": ON_HAND_MAX},
                code="stock_overflow", attr="quantity",
            )
        level.on_hand += quantity
        level.updated_at = now
        level.save(update_fields=["on_hand", "updated_at"])
        movement = StockMovement.objects.create(
            location=location, product_id=sku, quantity=quantity, kind=kind,
            reference=reference, on_hand_after=level.on_hand, actor=actor, created_at=now,
        )
        if level.reserved > 0 and level.on_hand - level.safety_stock < level.reserved:
            _emit_shortfalls(location, [{"sku": sku, "on_hand": level.on_hand,
                                         "reserved": level.reserved,
                                         "safety_stock": level.safety_stock}])
        event_emit(
            topic="stock.movement_recorded", aggregate_type="stock_level",
            aggregate_id=f"{sku}@{location.code}",
            payload={"location": location.code, "sku": sku, "quantity": quantity, "kind": kind,
                     "reference": reference, "on_hand": level.on_hand},
        )
    return movement


def stock_write_off(*, location: Location, sku: str, quantity: int, reference: str,
                    actor: str) -> StockMovement | None:
    """Take up to `quantity` units off on-hand because they are not there (a short pick): an
    ``adjustment`` movement, clamped at zero under the row lock."""
    with transaction.atomic():
        on_hand = (StockLevel.objects.select_for_update(no_key=True)
                   .filter(product_id=sku, location=location)
                   .values_list("on_hand", flat=True).first())
        take = min(quantity, on_hand or 0)
        if take == 0:
            return None
        return stock_movement_record(location=location, sku=sku, quantity=-take,
                                     kind=MovementKind.ADJUSTMENT, reference=reference,
                                     actor=actor)
