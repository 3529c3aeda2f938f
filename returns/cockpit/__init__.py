"""The cockpit's "take back" screens: store staff find an order, take goods back at the counter
(registered and received in one visit through `returns.services`), print the return receipt,
and keep an eye on their store's returns. Scoped per store like the rest of the cockpit
(fulfillment.cockpit)."""
