from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from inventory.models import (
    Capability,
    Location,
    Reservation,
    ReservationLine,
    StockLevel,
    StockMovement,
)
from inventory.services import LocationData, location_upsert
from oms.core.admin_base import ReadOnlyAdmin


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ["code", "name", "kind", "address", "lat", "lon", *[c.value for c in Capability],
                  "priority", "wms_url"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    """Edits go through `location_upsert`, the same service as ``PUT /locations/{code}``."""

    form = LocationForm
    list_display = ["code", "name", "kind", "ships", "click_and_collect", "ship_from_store",
                    "accepts_returns", "priority", "is_active"]
    list_filter = ["kind", "click_and_collect", "ship_from_store", "is_active"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Location | None = None) -> list[str]:
        return ["code", "wms_secret"] if obj else ["wms_secret"]

    def save_model(self, request: HttpRequest, obj: Location, form: forms.ModelForm,
                   change: bool) -> None:
        saved, _created = location_upsert(data=LocationData(
            code=obj.code, name=obj.name, kind=obj.kind, address=obj.address or {},
            lat=obj.lat, lon=obj.lon, capabilities=obj.capabilities, priority=obj.priority,
            wms_url=obj.wms_url,
        ))
        obj.pk = saved.pk

    def has_delete_permission(self, request: HttpRequest, obj: Location | None = None) -> bool:
        return False


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ["product", "location", "on_hand", "reserved", "safety_stock",
                    "available_display", "snapshot_as_of", "updated_at"]
    list_filter = ["location"]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["location", "product"]

    @admin.display(description=_("available"))
    def available_display(self, obj: StockLevel) -> int:
        return obj.available


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "product", "location", "kind", "quantity", "on_hand_after",
                    "reference", "actor"]
    list_filter = ["kind", "location"]
    search_fields = ["product__sku", "reference"]
    date_hierarchy = "created_at"
    list_select_related = ["location", "product"]


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    extra = 0
    can_delete = False
    fields = ["product", "location", "quantity"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Reservation | None = None) -> bool:
        return False


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "state", "reference", "channel", "expires_at", "consumed_by",
                    "created_at"]
    list_filter = ["kind", "state", "channel"]
    search_fields = ["reference", "consumed_by"]
    inlines = [ReservationLineInline]
