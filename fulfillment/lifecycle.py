"""What a location does with its fulfilment order: accept, reject, pick, ship, and report
tracking. One service per change; each locks the order row, then the fulfilment row (the fixed
order every fulfilment writer uses), checks the transition, writes the change, its audit entry
and outbox event, and rolls the order's status up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.models import (
    FulfillmentLine,
    FulfillmentOrder,
    Shipment,
    ShipmentLine,
    TrackingEvent,
)
from fulfillment.readiness import settle_after_transfer
from fulfillment.resourcing import resource_units
from fulfillment.rollup import order_roll_up
from fulfillment.services import fulfillment_close
from fulfillment.states import FulfillmentKind, FulfillmentStatus, ShipmentStatus
from fulfillment.steps import (
    lines_of,
    lock_fulfillment,
    move_out,
    open_units,
    order_lines_before,
    refuse_on_hold,
    save_and_publish,
    step,
    units_json,
    units_value,
)
from inventory.models import MovementKind
from inventory.order_reservations import order_reservation, reservation_consume_shipped
from inventory.services import stock_write_off
from oms.core.errors import Conflict, InvalidInput, InvalidTransition, Unprocessable
from oms.orders.services import order_event_record, order_lines_fulfill


def fulfillment_accept(*, fulfillment: FulfillmentOrder, actor: str) -> FulfillmentOrder:
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment)
        refuse_on_hold(order)
        step(fo, fo.accept)
        save_and_publish(order, fo, "fulfillment.accepted", actor)
        order_roll_up(order=order, actor=actor)
    return fo


def _refuse_for_pickups(fo: FulfillmentOrder, message: str) -> None:
    """A store pickup is worked with pick and handover: it never ships, and a store reports
    missing units by picking fewer (which restocks it), not by rejecting the customer's order."""
    if fo.kind == FulfillmentKind.PICKUP:
        raise Unprocessable(message, code="not_for_pickups", attr="id")


def fulfillment_reject(*, fulfillment: FulfillmentOrder, reason: str,
                       actor: str) -> FulfillmentOrder:
    """The location cannot serve this order: its open units go to the next best location, or
    are cancelled with reason ``no_stock`` when no location has them."""
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment)
        _refuse_for_pickups(fo, _("A pickup is not rejected: pick fewer units to report what "
                                  "is missing."))
        step(fo, fo.reject)
        fo.reason = reason
        lines = lines_of(fo)
        units = open_units(fo, lines)
        move_out(fo, units, lines)
        outcome = resource_units(order=order, fulfillment=fo, units=units, actor=actor)
        save_and_publish(order, fo, "fulfillment.rejected", actor, {
            "reason": reason, **outcome.as_json(), "lines": units_json(units)})
        settle_after_transfer(order=order, transfer=fo, actor=actor)
        order_roll_up(order=order, actor=actor)
    return fo


def _write_off_missing(fo: FulfillmentOrder, missing: dict[str, int], actor: str) -> None:
    """A short pick means the count was wrong: take the missing units off on-hand too, so
    availability stops offering them."""
    for sku, quantity in missing.items():
        stock_write_off(location=fo.location, sku=sku, quantity=quantity,
                        reference=f"short pick, fulfilment {fo.pk}", actor=actor)


def fulfillment_pick(*, fulfillment: FulfillmentOrder, picked: dict[str, int],
                     actor: str) -> FulfillmentOrder:
    """Record what was picked. A short pick re-sources the missing units like a reject."""
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment)
        refuse_on_hold(order)
        # The status first: a fulfilment cancelled meanwhile (its goods moved to a store
        # pickup) answers 409, not that its lines are unknown.
        step(fo, fo.pick)
        lines = lines_of(fo)
        open_now = open_units(fo, lines)
        strangers = sorted(set(picked) - set(open_now))
        if strangers:
            raise InvalidInput([("unknown_sku", _("Not open in this fulfilment: %(skus)s.")
                                 % {"skus": ", ".join(strangers)}, "lines")])
        over = [s for s, n in picked.items() if n > open_now[s]]
        if over:
            raise InvalidInput([("over_pick", _("More picked than ordered: %(skus)s.")
                                 % {"skus": ", ".join(over)}, "lines")])
        # Only the lines reported count: a SKU not in this pick is simply not picked yet.
        missing = {sku: open_now[sku] - n for sku, n in picked.items() if open_now[sku] > n}
        for line in lines:
            if line.sku in picked:
                line.picked = line.shipped + picked[line.sku]
                line.save(update_fields=["picked"])
        data: dict[str, Any] = {"lines": [{"sku": s, "picked": n} for s, n in picked.items()]}
        outcome = None
        if missing:
            move_out(fo, missing, lines)
            outcome = resource_units(order=order, fulfillment=fo, units=missing, actor=actor)
            _write_off_missing(fo, missing, actor)
            data.update(short={"lines": units_json(missing), **outcome.as_json()})
        save_and_publish(order, fo, "fulfillment.picked", actor, data)
        if missing:
            save_and_publish(order, fo, "fulfillment.resourced", actor,
                             {"reason": "short_pick", **data["short"]})
        restocking = (outcome is not None and bool(outcome.fulfillments)
                      and fo.kind == FulfillmentKind.PICKUP)
        if not restocking and not any(ln.open_quantity for ln in lines):
            # everything was short; a pickup waiting for a transfer stays open for it
            fulfillment_close(order=order, fulfillment=fo, actor=actor, now=timezone.now())
        if missing:
            settle_after_transfer(order=order, transfer=fo, actor=actor)
        order_roll_up(order=order, actor=actor)
    return fo


def _units_to_ship(lines: dict[str, FulfillmentLine],
                   requested: dict[str, int] | None) -> dict[str, int]:
    if requested is None:
        # Everything open; after a pick, what was picked and has not shipped yet.
        return {sku: (ln.picked - ln.shipped if ln.picked is not None else ln.open_quantity)
                for sku, ln in lines.items()
                if (ln.picked - ln.shipped if ln.picked is not None else ln.open_quantity) > 0}
    strangers = sorted(set(requested) - set(lines))
    if strangers:
        raise InvalidInput([("unknown_sku", _("Not in this fulfilment: %(skus)s.")
                             % {"skus": ", ".join(strangers)}, "lines")])
    too_many = [s for s, n in requested.items() if n > lines[s].open_quantity]
    if too_many:
        raise InvalidTransition(_("Already shipped or cancelled: %(skus)s.")
                                % {"skus": ", ".join(too_many)}, code="already_shipped",
                                attr="lines")
    return requested


def fulfillment_ship(*, fulfillment: FulfillmentOrder, carrier: str, tracking_number: str,
                     lines: dict[str, int] | None, actor: str) -> Shipment:
    """Units leave: a shipment, on-hand and reserved down with movement rows, order lines
    fulfilled, and ``fulfillment.shipped`` with the shipped value (the capture amount)."""
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment)
        _refuse_for_pickups(fo, _("A pickup is not shipped: hand it over with the customer's "
                                  "code."))
        refuse_on_hold(order)
        fo_lines = {ln.sku: ln for ln in lines_of(fo)}
        units = _units_to_ship(fo_lines, lines)
        if not units:
            raise InvalidTransition(_("Nothing is left to ship."), code="already_shipped",
                                    attr="lines")
        now = timezone.now()
        try:
            with transaction.atomic():
                shipment = Shipment.objects.create(fulfillment=fo, carrier=carrier,
                                                   tracking_number=tracking_number,
                                                   shipped_at=now)
        except IntegrityError:
            raise Conflict(_("A shipment with this tracking number exists."),
                           code="duplicate_shipment", attr="tracking_number") from None
        ShipmentLine.objects.bulk_create([
            ShipmentLine(shipment=shipment, fulfillment_line=fo_lines[sku], quantity=n)
            for sku, n in units.items()])
        for sku, n in units.items():
            fo_lines[sku].shipped += n
            fo_lines[sku].save(update_fields=["shipped"])
        reservation_consume_shipped(
            reservation=order_reservation(order_number=order.number),
            location_id=fo.location_id, units=units,
            reference=f"{carrier} {tracking_number}", actor=actor,
            kind=(MovementKind.TRANSFER_OUT if fo.kind == FulfillmentKind.TRANSFER
                  else MovementKind.SHIP))
        done = not any(ln.open_quantity for ln in fo_lines.values())
        step(fo, fo.ship if done else fo.ship_partially)
        parcel = {"id": shipment.pk, "carrier": carrier, "tracking_number": tracking_number,
                  "lines": units_json(units)}
        if fo.kind == FulfillmentKind.TRANSFER:
            # On its way to the store, not to the customer: nothing is fulfilled or captured
            # until the pickup is handed over.
            save_and_publish(order, fo, "fulfillment.transfer_shipped", actor,
                              {"shipment": parcel})
        else:
            lines, counted = order_lines_before(order)
            order_lines_fulfill(order=order, units=units, actor=actor,
                                data={"fulfillment": fo.pk, "tracking_number": tracking_number})
            # Shipping is charged with the first goods that leave.
            amount = units_value(order, units, counted=counted, lines=lines,
                                 shipping=not any(counted.values()))
            save_and_publish(order, fo, "fulfillment.shipped", actor, {
                "shipment": parcel, "amount": str(amount), "currency": order.currency})
        order_roll_up(order=order, actor=actor)
    return shipment


def _shipment_for(fo: FulfillmentOrder, tracking_number: str | None) -> Shipment:
    """The parcel a carrier event is about: named by tracking number, or else the oldest one
    still under way."""
    shipments = fo.shipments.select_for_update(no_key=True)
    if tracking_number:
        shipment = shipments.filter(tracking_number=tracking_number).first()
        if shipment is None:
            raise InvalidInput([("unknown_tracking_number",
                                 _("No parcel of this fulfilment has this tracking number."),
                                 "tracking_number")])
        return shipment
    shipment = (shipments.exclude(status=ShipmentStatus.DELIVERED).order_by("shipped_at", "pk")
                .first() or shipments.order_by("-shipped_at", "-pk").first())
    if shipment is None:
        raise InvalidTransition(_("Nothing has shipped yet."), attr="status")
    return shipment


def fulfillment_tracking_event(*, fulfillment: FulfillmentOrder, status: str, at: datetime,
                               actor: str, tracking_number: str | None = None) -> Shipment:
    """A carrier status for one parcel. An event older than the parcel's latest one is kept
    in its history but changes nothing; a delivered parcel stays delivered. Every parcel
    delivered → the fulfilment is delivered, and the order completes when all of it is."""
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment)
        shipment = _shipment_for(fo, tracking_number)
        newest = shipment.events.order_by("-at", "-pk").first()
        TrackingEvent.objects.create(shipment=shipment, status=status, at=at,
                                     received_at=timezone.now())
        current = (newest is None or newest.at <= at) and \
            shipment.status != ShipmentStatus.DELIVERED
        if current:
            shipment.status = status
            if status == ShipmentStatus.DELIVERED:
                shipment.delivered_at = at
            shipment.save(update_fields=["status", "delivered_at"])
        data = {"shipment": shipment.pk, "tracking_number": shipment.tracking_number,
                "tracking_status": status, "at": at.isoformat()}
        all_delivered = not fo.shipments.exclude(status=ShipmentStatus.DELIVERED).exists()
        # A transfer is delivered when the store receives it (fulfillment.pickup), which is
        # also when its units join the store's stock; the carrier's word is only tracking.
        if current and status == ShipmentStatus.DELIVERED and all_delivered and \
                fo.status == FulfillmentStatus.SHIPPED and fo.kind != FulfillmentKind.TRANSFER:
            fo.deliver()
            save_and_publish(order, fo, "fulfillment.delivered", actor, data)
        elif current and status == ShipmentStatus.FAILED:
            save_and_publish(order, fo, "fulfillment.delivery_failed", actor, data)
        else:
            order_event_record(order=order, type="fulfillment.tracking", actor=actor,
                               data={"fulfillment": fo.pk, **data})
        order_roll_up(order=order, actor=actor)
    return shipment
