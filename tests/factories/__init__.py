"""factory-boy factories for the whole suite, one module per app. They write rows directly: a
factory sets up the world a test starts from; the code under test goes through services and the
API. Everything is re-exported here (`from tests.factories import LocationFactory`), except the
two `a_pickup` helpers: `tests.factories.fulfillment.a_pickup` (a pickup of a given order) and
`tests.factories.cockpit.a_pickup` (a store pickup in any state at any moment), imported from
their module."""

from tests.factories.catalog import ProductFactory
from tests.factories.cockpit import PASSWORD, StoreStaffFactory, SuperuserFactory
from tests.factories.core import (
    ApiClientFactory,
    AttemptFactory,
    OutboxEventFactory,
    WebhookDeliveryFactory,
    WebhookSubscriptionFactory,
)
from tests.factories.fulfillment import a_fulfillment
from tests.factories.inventory import (
    BERLIN,
    HAMBURG,
    MUNICH,
    POTSDAM,
    BerlinStoreFactory,
    HamburgStoreFactory,
    LocationFactory,
    MunichStoreFactory,
    StockLevelFactory,
    StoreFactory,
    SupplierSiteFactory,
    WarehouseFactory,
)
from tests.factories.notifications import a_pending_notification
from tests.factories.orders import (
    ConsentFactory,
    CustomerFactory,
    OrderFactory,
    an_order,
    cancel,
    fulfil,
)
from tests.factories.payments import PspEventBodyFactory, a_payment

__all__ = [
    "BERLIN", "HAMBURG", "MUNICH", "PASSWORD", "POTSDAM",
    "ApiClientFactory", "AttemptFactory", "BerlinStoreFactory", "ConsentFactory",
    "CustomerFactory",
    "HamburgStoreFactory", "LocationFactory", "MunichStoreFactory", "OrderFactory",
    "OutboxEventFactory", "ProductFactory", "PspEventBodyFactory", "StockLevelFactory",
    "StoreFactory", "StoreStaffFactory", "SuperuserFactory", "SupplierSiteFactory",
    "WarehouseFactory", "WebhookDeliveryFactory", "WebhookSubscriptionFactory",
    "a_fulfillment", "a_payment", "a_pending_notification", "an_order", "cancel", "fulfil",
]
