"""Use cases: what a caller asks the OMS to do with an order, each in a module named after it.

A use case here spans apps: placing an order sources and reserves stock (inventory), writes the
order (oms.orders), records its payment (payments) and creates its fulfilment orders (fulfilment),
all in one transaction. ARCHITECTURE.md rule 1 lets only the top layer import all of them, so
the use cases live in `fulfillment`, in this package, apart from fulfilment's own internals;
`oms.orders` keeps the order aggregate and its state machine.

- `order_intake`: `order_place` (``POST /api/v1/orders``) and the sourcing dry run.
- `order_cancellation`: `order_cancel`, the whole order or some of its lines.

Not here, on purpose: `fulfillment.lifecycle` (accept, reject, pick, ship, tracking) and
`fulfillment.pickup` (pick, hand over, expire, receive a transfer) also touch stock, order
lines and payments, but each is one transition of a fulfilment order's own state machine, the
row it locks and the event it publishes; what they change elsewhere follows from that step.
`fulfillment.resourcing` is a step inside those transitions (it runs in their transaction and
is never called on its own). They are fulfilment internals and stay beside the models.
"""
