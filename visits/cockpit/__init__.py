"""The cockpit's "customers in the store now" screen (issue 20): the accepted pickup offers
store staff still have to prepare and hand over, and the offers open right now, so staff see
who is in the store; and the offers' figures on the store dashboard. Scoped per store like the
rest of the cockpit (fulfillment.cockpit); picking and handing over use its screens."""
