"""What webhook subscribers, the audit trail and the customer notices get about an offer."""

from __future__ import annotations

from collections.abc import Iterable

from visits.models import PickupOffer, PickupOfferLine


def offer_payload(offer: PickupOffer,
                  lines: Iterable[PickupOfferLine] | None = None) -> dict[str, object]:
    """`lines`: the offer's lines when the caller holds them (with their fulfilment and order
    lines), as a new offer's maker does; else they are read."""
    if lines is None:
        lines = offer.lines.select_related("fulfillment_line__order_line")
    return {"id": offer.pk, "visit": offer.visit_id, "order": offer.order.number,
            "store": offer.visit.location.code, "store_name": offer.visit.location.name,
            "status": offer.status,
            "expires_at": offer.expires_at.isoformat(),
            "pickup": offer.pickup_id, "shipment_stop": offer.shipment_stop or None,
            "lines": [{"sku": ln.fulfillment_line.sku, "quantity": ln.quantity}
                      for ln in lines]}
