"""Cockpit pages for locations and stock. Store staff see only their own stores' stock and
reservations; the scoping helpers live here because fulfilment's cockpit builds on them and
imports point from fulfilment down to inventory, never back (ARCHITECTURE.md rule 1)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, Model, OuterRef, QuerySet
from django.http import Http404, HttpRequest
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
from oms.core.outbound import validate_outbound_url


def stores_of(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Location] | None:
    """The locations whose records `user` may see and change in the cockpit; None means all of
    them (superusers). Staff work in the stores listed in `Location.staff`."""
    if getattr(user, "is_superuser", False):
        return None
    if not user.is_authenticated:
        return Location.objects.none()
    return Location.objects.filter(staff=user)


class StoreListFilter(admin.RelatedFieldListFilter):
    """The location filter offers only the stores the user works in."""

    def field_choices(self, field: Any, request: HttpRequest,
                      model_admin: admin.ModelAdmin) -> list[tuple[Any, str]]:
        choices = super().field_choices(field, request, model_admin)
        stores = stores_of(request.user)
        if stores is None:
            return choices
        allowed = set(stores.values_list("pk", flat=True))
        return [(pk, label) for pk, label in choices if pk in allowed]


class StoreScopedAdmin(admin.ModelAdmin):
    """Rows of other stores are absent from the list, and their pages answer 404 (not the
    admin's usual redirect), so a store cannot even learn which ids exist elsewhere."""

    # The lookup from the model to its Location; override `scope` for anything subtler.
    store_lookup = "location"

    def scope(self, queryset: QuerySet[Any], stores: QuerySet[Location]) -> QuerySet[Any]:
        return queryset.filter(**{f"{self.store_lookup}__in": stores})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        stores = stores_of(request.user)
        return queryset if stores is None else self.scope(queryset, stores)

    def get_object(self, request: HttpRequest, object_id: str,
                   from_field: str | None = None) -> Model | None:
        found = super().get_object(request, object_id, from_field)
        if found is None:
            raise Http404(_("Not found."))
        return found


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ["code", "name", "kind", "address", "lat", "lon", *[c.value for c in Capability],
                  "priority", "wms_url"]

    def clean_wms_url(self) -> str:
        """The outbound URL rule (oms/core/outbound.py), shown on the field like any other form
        error rather than failing in `location_upsert` after the form was accepted."""
        url: str = self.cleaned_data["wms_url"]
        if url:
            validate_outbound_url(url)
        return url


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
class StockLevelAdmin(StoreScopedAdmin, ReadOnlyAdmin):
    list_display = ["product", "location", "on_hand", "reserved", "safety_stock",
                    "available_display", "snapshot_as_of", "updated_at"]
    list_filter = [("location", StoreListFilter)]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["location", "product"]

    @admin.display(description=_("available"))
    def available_display(self, obj: StockLevel) -> int:
        return obj.available


@admin.register(StockMovement)
class StockMovementAdmin(StoreScopedAdmin, ReadOnlyAdmin):
    list_display = ["created_at", "product", "location", "kind", "quantity", "on_hand_after",
                    "reference", "actor"]
    list_filter = ["kind", ("location", StoreListFilter)]
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReservationLine]:
        lines = super().get_queryset(request)
        stores = stores_of(request.user)
        return lines if stores is None else lines.filter(location__in=stores)


@admin.register(Reservation)
class ReservationAdmin(StoreScopedAdmin, ReadOnlyAdmin):
    list_display = ["id", "kind", "state", "reference", "channel", "expires_at", "consumed_by",
                    "created_at"]
    list_filter = ["kind", "state", "channel"]
    search_fields = ["reference", "consumed_by"]
    inlines = [ReservationLineInline]

    def scope(self, queryset: QuerySet[Reservation],
              stores: QuerySet[Location]) -> QuerySet[Reservation]:
        # A reservation may hold units in several locations: a store sees those holding some
        # of its own (EXISTS rather than a join, so no row appears twice).
        return queryset.filter(Exists(ReservationLine.objects.filter(
            reservation=OuterRef("pk"), location__in=stores)))
