"""Back-office pages for dropship suppliers: the company with its sites (supplier locations),
and the people of its portal. Staff create a portal person from an existing user here, or a new
one with `manage.py create_supplier_user`."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from oms.core.admin_base import ReadOnlyAdmin
from suppliers.models import PurchasePrice, SettlementLine, Supplier, SupplierSite, SupplierUser


class SupplierSiteInline(admin.TabularInline):
    model = SupplierSite
    extra = 0
    autocomplete_fields = ["location"]


class SupplierUserInline(admin.TabularInline):
    model = SupplierUser
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "contact_email", "language", "order_digest",
                    "acknowledge_hours", "escalation_hours", "is_active"]
    list_filter = ["is_active", "language", "order_digest"]
    search_fields = ["code", "name", "contact_email"]
    inlines = [SupplierSiteInline, SupplierUserInline]


@admin.register(SupplierUser)
class SupplierUserAdmin(admin.ModelAdmin):
    list_display = ["user", "user_email", "supplier", "user_active", "last_login"]
    list_filter = ["supplier"]
    search_fields = ["user__username", "user__email", "supplier__code", "supplier__name"]
    list_select_related = ["user", "supplier"]
    autocomplete_fields = ["user", "supplier"]

    @admin.display(description=_("e-mail"), ordering="user__email")
    def user_email(self, obj: SupplierUser) -> str:
        return obj.user.email

    @admin.display(boolean=True, description=_("active"))
    def user_active(self, obj: SupplierUser) -> bool:
        return obj.user.is_active

    @admin.display(description=_("last login"))
    def last_login(self, obj: SupplierUser) -> object:
        return obj.user.last_login


@admin.register(PurchasePrice)
class PurchasePriceAdmin(admin.ModelAdmin):
    """Prices by hand, one at a time; a whole list comes with `manage.py
    import_purchase_prices` (checked line by line first). A price is never edited in place
    once a parcel was settled at it: add one with a later `valid_from`."""

    list_display = ["supplier", "product", "net_price", "currency", "tax_rate", "valid_from"]
    list_filter = ["supplier", "currency", "tax_rate"]
    search_fields = ["product__sku", "supplier__code", "supplier__name"]
    autocomplete_fields = ["product"]
    date_hierarchy = "valid_from"


@admin.register(SettlementLine)
class SettlementLineAdmin(ReadOnlyAdmin):
    list_display = ["shipped_on", "supplier", "order_number", "net_amount", "tax_amount",
                    "currency", "entry"]
    list_filter = ["supplier"]
    search_fields = ["order_number"]
    date_hierarchy = "shipped_on"
    list_select_related = ["supplier", "entry"]
