from django.contrib import admin

from oms.core.admin_base import ReadOnlyAdmin
from payments.models import Payment


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["order", "method", "status", "amount", "currency", "psp_reference",
                    "created_at"]
    list_filter = ["method", "status"]
    search_fields = ["order__number", "psp_reference"]
    list_select_related = ["order"]
