from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from oms.core.admin_base import ReadOnlyAdmin
from oms.core.attempts.admin import AttemptColumns, attempt_status_filter
from oms.core.clients import api_client_set_active
from oms.core.events import event_handler_retry
from oms.core.models import (
    ApiClient,
    HandlerFailure,
    OutboxEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from oms.core.webhooks.services import WEBHOOK, webhook_delivery_retry


@admin.register(ApiClient)
class ApiClientAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "channel", "location_code", "supplier_code", "token_prefix",
                    "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "channel", "location_code", "supplier_code"]
    actions = ["deactivate", "activate"]

    def has_change_permission(self, request: HttpRequest, obj: ApiClient | None = None) -> bool:
        return request.user.is_superuser  # needed to run the actions; fields stay read-only

    def get_readonly_fields(self, request: HttpRequest, obj: ApiClient | None = None) -> list[str]:
        return [f.name for f in ApiClient._meta.fields]

    @admin.action(description=_("Revoke the selected clients' tokens"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset:
            api_client_set_active(client=client, active=False)
        self.message_user(request, _("Tokens revoked."), messages.SUCCESS)

    @admin.action(description=_("Re-activate the selected clients"))
    def activate(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset:
            api_client_set_active(client=client, active=True)
        self.message_user(request, _("Clients re-activated."), messages.SUCCESS)


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["topic", "aggregate_type", "aggregate_id", "created_at", "published_at"]
    list_filter = ["topic", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["aggregate_id", "topic"]
    date_hierarchy = "created_at"


@admin.register(HandlerFailure)
class HandlerFailureAdmin(ReadOnlyAdmin):
    list_display = ["handler", "event", "failed_at", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "handler"]
    list_select_related = ["event"]
    actions = ["retry"]

    def has_change_permission(self, request: HttpRequest,
                              obj: HandlerFailure | None = None) -> bool:
        return request.user.is_superuser

    def get_readonly_fields(self, request: HttpRequest,
                            obj: HandlerFailure | None = None) -> list[str]:
        return [f.name for f in HandlerFailure._meta.fields]

    @admin.action(description=_("Run the selected handlers again"))
    def retry(self, request: HttpRequest, queryset: QuerySet[HandlerFailure]) -> None:
        for failure in queryset:
            event_handler_retry(failure=failure)
        self.message_user(request, _("Handlers queued again."), messages.SUCCESS)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["url", "topics", "owner", "is_active", "created_at"]
    list_filter = ["is_active"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AttemptColumns, ReadOnlyAdmin):
    attempt_kind = WEBHOOK
    list_display = ["event", "subscription", "sending", "tries", "created_at", "finished_at"]
    list_filter = [attempt_status_filter(WEBHOOK)]
    list_select_related = ["event", "subscription"]
    actions = ["retry"]

    def has_change_permission(self, request: HttpRequest,
                              obj: WebhookDelivery | None = None) -> bool:
        return request.user.is_superuser

    def get_readonly_fields(self, request: HttpRequest,
                            obj: WebhookDelivery | None = None) -> list[str]:
        return [f.name for f in WebhookDelivery._meta.fields]

    @admin.action(description=_("Retry the selected deliveries now"))
    def retry(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset:
            webhook_delivery_retry(delivery=delivery)
        self.message_user(request, _("Deliveries queued again."), messages.SUCCESS)
