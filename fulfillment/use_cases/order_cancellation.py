"""Cancelling an order, whole or by lines: the unshipped units' reservations are released,
their fulfilment lines cancelled, and the order lines updated, in one transaction. Locks are
taken order row → reservation row → stock rows (in primary-key order)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from fulfillment.rollup import order_roll_up
from fulfillment.services import fulfillment_lines_cancel
from inventory.order_reservations import (
    order_reservation,
    reservation_release_units,
    reservation_units_held,
)
from oms.core.errors import InvalidInput, InvalidTransition
from oms.orders.models import Order
from oms.orders.services import order_lines_cancel, order_lock
from oms.orders.states import CANCELLABLE, OrderStatus


def order_cancel(*, order: Order, reason: str, actor: str,
                 lines: dict[str, int] | None = None) -> Order:
    """Cancel every open unit (`lines` None) or the given {sku: quantity}."""
    with transaction.atomic():
        locked = order_lock(order=order)
        # After a partial shipment only what has not shipped can be cancelled; the order then
        # rolls up to shipped rather than cancelled.
        if locked.status not in (*CANCELLABLE, OrderStatus.PARTIALLY_SHIPPED):
            raise InvalidTransition(
                _("Order %(number)s is %(status)s; it can no longer be cancelled.")
                % {"number": locked.number, "status": locked.get_status_display()},
                attr="status",
            )
        open_units = {ln.product_id: ln.allocated for ln in locked.lines.all()}
        if lines is None:
            units = {sku: n for sku, n in open_units.items() if n}
        else:
            strangers = [sku for sku in lines if sku not in open_units]
            if strangers:
                raise InvalidInput([("unknown_sku", _("Not in this order: %(skus)s.")
                                     % {"skus": ", ".join(strangers)}, "lines")])
            units = lines
        if not units:
            raise InvalidTransition(_("Nothing is left to cancel."), attr="lines")
        order_lines_cancel(order=locked, units=units, reason=reason, actor=actor)
        reservation = order_reservation(order_number=locked.number)
        # Units on their way to a store (a transfer for a pickup) are held nowhere: they are
        # cancelled on the order and restock the store when it receives them.
        held = reservation_units_held(reservation)
        releasable = {sku: min(n, held.get(sku, 0)) for sku, n in units.items()
                      if min(n, held.get(sku, 0)) > 0}
        released = (reservation_release_units(reservation=reservation, units=releasable)
                    if releasable else {})
        fulfillment_lines_cancel(order=locked, released=released, actor=actor)
        order_roll_up(order=locked, actor=actor)
    locked.refresh_from_db()
    return locked
