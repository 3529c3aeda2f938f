"""The store staff cockpit: to-pick list, pick screen, handover at the counter and a dashboard
per store. Django views in the admin's look; every change goes through `fulfillment.pickup`,
the same services as the API (ARCHITECTURE.md rule 2)."""
