"""Back-office pages for store visits: the discount shown beside what customers looked at
online (per store, or per channel), and what the visits offered (read only)."""

from __future__ import annotations

from django.contrib import admin

from oms.core.admin_base import ReadOnlyAdmin
from visits.models import InStoreDiscount, PickupOffer, PickupOfferPolicy


@admin.register(InStoreDiscount)
class InStoreDiscountAdmin(admin.ModelAdmin):
    list_display = ["__str__", "location", "channel", "percent"]


@admin.register(PickupOfferPolicy)
class PickupOfferPolicyAdmin(admin.ModelAdmin):
    list_display = ["channel", "refund_shipping"]


@admin.register(PickupOffer)
class PickupOfferAdmin(ReadOnlyAdmin):
    list_display = ["pk", "order", "visit", "status", "shipment_stop", "shipment_avoided",
                    "created_at", "expires_at", "decided_at"]
    list_filter = ["status", "shipment_stop"]
    search_fields = ["order__number"]
    list_select_related = ["order", "visit"]
