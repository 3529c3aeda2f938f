"""The "customers in the store now" screen, under /cockpit/visits/ (oms/urls.py). It only reads:
staff pick and hand over on the pickup screens (fulfillment.cockpit), which it links to. The
store comes from the user's stores (another store's answers 404), like every cockpit screen."""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.cockpit.scope import cockpit_stores, store_of
from fulfillment.cockpit.selectors import PAGE_SIZE
from fulfillment.cockpit.views import VIEW, cockpit
from visits.cockpit.selectors import accepted_rows, offers_accepted, offers_open
from visits.models import PickupOffer


# The pickup screens' permission: what staff do here is prepare and hand over pickups.
@cockpit(VIEW)
def in_store(request: HttpRequest) -> HttpResponse:
    store = store_of(request.user, request.GET.get("store"))
    now = timezone.now()
    offers = offers_accepted(store) if store else PickupOffer.objects.none()
    page = Paginator(offers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "visits/cockpit/in_store.html", {
        **admin.site.each_context(request), "title": _("Customers in the store now"),
        "now": now, "store": store, "stores": cockpit_stores(request.user), "page": page,
        "rows": accepted_rows(list(page.object_list)),
        "open_offers": offers_open(store, now) if store else []})
