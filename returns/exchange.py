"""Exchanges: the replacement a customer takes instead of (part of) their money, as a new order
linked to the return.

- **In store**, the replacement comes off that store's shelf: a pickup order at the store,
  reserved when the return is registered and handed over at the counter when the goods are
  received, in the same visit (`fulfillment.pickup.pickup_hand_over_at_counter`). If the store
  does not have it, registering the return answers 409 ``insufficient_stock`` and nothing is
  written: the customer is still there to choose something else.
- **By mail**, the replacement is ordered at registration, delivered the way the original order
  was, and held (dispatch waits, `fulfillment.dispatch`) until the return is received, unless
  the channel's policy sends it at once.

Money: the returned goods' value pays the replacement first (a payment of method
``return_credit``, captured); the customer pays a higher price's difference with the payment
the till or channel names (`exchange_payment`), and a lower price's difference comes back with
the refund."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from fulfillment.states import FulfillmentKind
from fulfillment.use_cases.order_intake import OrderRequest, PlacedOrder, order_place_as
from inventory.models import Location
from inventory.sourcing import DeliveryRequest
from oms.catalog.models import Price
from oms.catalog.validation import require_known_skus
from oms.core.errors import Conflict, Unprocessable
from oms.orders.models import Order
from oms.orders.services import CustomerData, OrderLineData, order_subtotal
from payments.models import PaymentMethod
from payments.services import PaymentData

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ExchangeLine:
    sku: str
    quantity: int
    unit_price: Decimal | None = None  # the channel's price now, if not given
    tax_rate: Decimal | None = None  # the original line's, if not given


@dataclass(frozen=True)
class Exchange:
    lines: Sequence[ExchangeLine]
    payment: PaymentData | None = None  # pays a higher price's difference


def exchange_external_id(return_number: str) -> str:
    """The exchange order's external id: names the return it replaces goods of, and lets
    handlers pick exchange orders' events out by their payload."""
    return f"exchange:{return_number}"


def is_exchange_order(payload: dict) -> bool:
    return str(payload.get("external_id") or "").startswith("exchange:")


def exchange_lines_priced(order: Order, lines: Sequence[ExchangeLine]) -> list[OrderLineData]:
    """The replacement's order lines: each price as given, else the order channel's price now
    (the price the customer would pay today), else what the same SKU cost on the original
    order; 422 ``no_price`` otherwise. The tax rate as given, else the same SKU's on the
    original order, else the original order's first line's."""
    require_known_skus([ln.sku for ln in lines], attr="exchange")
    skus = [ln.sku for ln in lines]
    # Price.product points at the product's id, not its SKU (unlike order lines and stock).
    listed = dict(Price.objects.filter(product__sku__in=skus, channel=order.channel,
                                       currency=order.currency)
                  .values_list("product__sku", "amount"))
    original = {ln.product_id: ln for ln in order.lines.all()}
    fallback_rate = next(iter(original.values())).tax_rate
    priced = []
    for line in lines:
        price = line.unit_price
        if price is None:
            price = listed.get(line.sku)
        if price is None and line.sku in original:
            price = original[line.sku].unit_price
        if price is None:
            raise Unprocessable(_("%(sku)s has no price in %(currency)s for this channel; give "
                                  "unit_price.") % {"sku": line.sku, "currency": order.currency},
                                code="no_price", attr="exchange")
        rate = line.tax_rate
        if rate is None:
            rate = original[line.sku].tax_rate if line.sku in original else fallback_rate
        priced.append(OrderLineData(sku=line.sku, quantity=line.quantity, unit_price=price,
                                    tax_rate=rate))
    return priced


def _delivery(order: Order, store: Location | None) -> tuple[DeliveryRequest, dict]:
    if store is not None:
        return DeliveryRequest(method="pickup", location=store.code), {}
    if order.delivery_method == "pickup":
        return DeliveryRequest(method="pickup", location=order.pickup_location), {}
    return DeliveryRequest.to_address(order.delivery_address), order.delivery_address


def exchange_place(*, order: Order, return_number: str, exchange: Exchange, value: Decimal,
                   store: Location | None, hold: bool, channel: str,
                   placed_by: str) -> tuple[PlacedOrder, Decimal]:
    """Place the replacement order for a return worth `value`; returns it and the part of
    `value` that paid it. `store`: the customer is at that store (in store); otherwise the
    order is delivered like the original, held until the return arrives if `hold`."""
    lines = exchange_lines_priced(order, exchange.lines)
    total = order_subtotal(lines)
    credit = min(value, total)
    difference = total - credit
    if difference > 0 and exchange.payment is None:
        raise Unprocessable(
            _("The replacement costs %(difference)s %(currency)s more than the goods returned; "
              "name the payment for it in exchange_payment.")
            % {"difference": difference, "currency": order.currency},
            code="exchange_payment_required", attr="exchange_payment",
            extra={"difference": str(difference)})
    if exchange.payment is not None and exchange.payment.amount != difference:
        raise Unprocessable(
            _("The exchange payment must be %(difference)s %(currency)s, the difference.")
            % {"difference": difference, "currency": order.currency},
            code="payment_amount_mismatch", attr="exchange_payment.amount",
            extra={"difference": str(difference)})
    payments = []
    if credit > 0 or exchange.payment is None:
        payments.append(PaymentData(method=PaymentMethod.RETURN_CREDIT, status="captured",
                                    amount=credit))
    if exchange.payment is not None:
        payments.append(exchange.payment)
    delivery, address = _delivery(order, store)
    customer = order.customer
    placed = order_place_as(channel=channel, placed_by=placed_by, request=OrderRequest(
        customer=CustomerData(email=customer.email, name=customer.name, phone=customer.phone,
                              external_id=customer.external_id),
        currency=order.currency, lines=lines, delivery=delivery, delivery_address=address,
        external_id=exchange_external_id(return_number),
        payment=payments[0], more_payments=tuple(payments[1:]), language=order.language,
        # The audit trail's reason, in the language of the trail (English), not translated.
        held_for=f"waiting for return {return_number}" if hold else ""))
    if store is not None and any(
            created.fulfillment.kind != FulfillmentKind.PICKUP
            or created.fulfillment.location_id != store.pk for created in placed.fulfillments):
        # Sourcing would bring it from elsewhere: not an exchange over the counter.
        raise Conflict(_("%(store)s does not have the replacement on its shelf.")
                       % {"store": store.name}, code="insufficient_stock", attr="exchange")
    return placed, credit
