"""URL map. API paths are fixed by ../shared/API.md."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from finance.api import urls as finance_urls
from fulfillment.api import fulfillments, orders
from inventory.api import reservations
from inventory.api import views as inventory
from ledger.api import urls as ledger_urls
from oms.catalog.api import views as catalog
from oms.core import operations
from oms.core.api import webhooks
from oms.orders.api import customers
from payments.api import views as payments_api
from returns.api import views as returns_api
from visits.api import views as visits_api

api_v1 = [
    path("products/bulk", catalog.ProductBulkView.as_view(), name="products-bulk"),
    path("products/<path:sku>", catalog.ProductView.as_view(), name="product"),
    path("locations", inventory.LocationListView.as_view(), name="locations"),
    path("locations/<str:code>", inventory.LocationView.as_view(), name="location"),
    path("stock/snapshots", inventory.SnapshotView.as_view(), name="stock-snapshots"),
    path("stock/movements", inventory.MovementView.as_view(), name="stock-movements"),
    path("availability", inventory.AvailabilityView.as_view(), name="availability"),
    path("reservations", reservations.ReservationsView.as_view(), name="reservations"),
    path("reservations/<uuid:pk>", reservations.ReservationView.as_view(), name="reservation"),
    path("reservations/<uuid:pk>/extend", reservations.ReservationExtendView.as_view(),
         name="reservation-extend"),
    path("sourcing/preview", orders.SourcingPreviewView.as_view(), name="sourcing-preview"),
    path("orders", orders.OrdersView.as_view(), name="orders"),
    path("orders/<str:number>", orders.OrderView.as_view(), name="order"),
    path("orders/<str:number>/events", orders.OrderEventsView.as_view(), name="order-events"),
    path("orders/<str:number>/cancel", orders.OrderCancelView.as_view(), name="order-cancel"),
    path("fulfillments", fulfillments.FulfillmentsView.as_view(), name="fulfillments"),
    path("fulfillments/<int:pk>", fulfillments.FulfillmentView.as_view(), name="fulfillment"),
    path("fulfillments/<int:pk>/accept", fulfillments.AcceptView.as_view()),
    path("fulfillments/<int:pk>/reject", fulfillments.RejectView.as_view()),
    path("fulfillments/<int:pk>/pick", fulfillments.PickView.as_view()),
    path("fulfillments/<int:pk>/ship", fulfillments.ShipView.as_view()),
    path("fulfillments/<int:pk>/handover", fulfillments.HandoverView.as_view()),
    path("fulfillments/<int:pk>/receive", fulfillments.ReceiveView.as_view()),
    path("fulfillments/<int:pk>/tracking-events", fulfillments.TrackingView.as_view()),
    path("returns", returns_api.ReturnsView.as_view(), name="returns"),
    path("returns/<int:pk>", returns_api.ReturnView.as_view(), name="return"),
    path("returns/<int:pk>/receive", returns_api.ReturnReceiveView.as_view(),
         name="return-receive"),
    path("returns/<int:pk>/cancel", returns_api.ReturnCancelView.as_view(),
         name="return-cancel"),
    path("customers", customers.CustomersView.as_view(), name="customers"),
    path("customers/<uuid:public_id>", customers.CustomerView.as_view(), name="customer"),
    path("customers/<uuid:public_id>/consents", customers.CustomerConsentsView.as_view(),
         name="customer-consents"),
    path("store-visits", visits_api.StoreVisitsView.as_view(), name="store-visits"),
    path("store-visits/<int:pk>", visits_api.StoreVisitView.as_view(), name="store-visit"),
    path("pickup-offers/<int:pk>", visits_api.PickupOfferView.as_view(), name="pickup-offer"),
    path("pickup-offers/<int:pk>/accept", visits_api.PickupOfferAcceptView.as_view(),
         name="pickup-offer-accept"),
    path("pickup-offers/<int:pk>/decline", visits_api.PickupOfferDeclineView.as_view(),
         name="pickup-offer-decline"),
    path("browsing-signals", visits_api.BrowsingSignalsView.as_view(),
         name="browsing-signals"),
    path("payments/events", payments_api.PspEventsView.as_view(), name="payment-events"),
    path("webhook-subscriptions", webhooks.WebhookSubscriptionsView.as_view(),
         name="webhook-subscriptions"),
    path("webhook-subscriptions/<int:pk>", webhooks.WebhookSubscriptionDetailView.as_view(),
         name="webhook-subscription"),
    # Flat under api/v1/ (the scope matrix reads every pattern): the apps' lists spliced in.
    *ledger_urls.urlpatterns,
    *finance_urls.urlpatterns,
]

urlpatterns = [
    # Someone opening the bare host (the demo's first click) lands on the API documentation.
    path("", RedirectView.as_view(pattern_name="docs"), name="home"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("healthz", operations.healthz, name="healthz"),
    path("readyz", operations.readyz, name="readyz"),
    path("metrics", operations.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    # The language switcher in the cockpit's header posts here (Django's set_language).
    path("i18n/", include("django.conf.urls.i18n")),
    path("cockpit/returns/", include("returns.cockpit.urls")),
    path("cockpit/visits/", include("visits.cockpit.urls")),
    # Before the finance cockpit's own routes: a page of the suppliers app in its tab bar.
    path("cockpit/finance/supplier-statements/", include("suppliers.finance_statements")),
    path("cockpit/finance/", include("finance.cockpit.urls")),
    path("cockpit/", include("fulfillment.cockpit.urls")),
    path("supplier/", include("suppliers.portal.urls")),
]

handler400 = "oms.core.errors.handler400"
handler403 = "oms.core.errors.handler403"
handler404 = "oms.core.errors.handler404"
handler500 = "oms.core.errors.handler500"
