from django.contrib import admin

from oms.catalog.models import Price, Product
from oms.core.admin_base import ReadOnlyAdmin


class PriceInline(admin.TabularInline):
    model = Price
    extra = 0
    can_delete = False
    readonly_fields = ["channel", "currency", "amount"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ["sku", "name", "ean", "updated_at"]
    search_fields = ["sku", "name", "ean"]
    inlines = [PriceInline]
