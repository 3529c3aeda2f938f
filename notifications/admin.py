"""Cockpit page of customer notifications: what each customer was sent, when, and whether it
went out; failed ones can be sent again. Store staff see only the notifications of orders their
stores serve (`inventory.admin.StoreScopedAdmin`)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from fulfillment.models import FulfillmentOrder
from inventory.admin import StoreScopedAdmin
from inventory.models import Location
from notifications.models import Notification
from notifications.services import NOTIFICATION, notification_retry
from oms.core.admin_base import ReadOnlyAdmin
from oms.core.attempts.admin import AttemptColumns, attempt_status_filter


@admin.register(Notification)
class NotificationAdmin(AttemptColumns, StoreScopedAdmin, ReadOnlyAdmin):
    """What each customer was sent, when, and whether it went out; failed ones can be retried."""

    def scope(self, queryset: QuerySet[Notification],
              stores: QuerySet[Location]) -> QuerySet[Notification]:
        # EXISTS, so a notification of an order served by two of the stores appears once.
        return queryset.filter(Exists(FulfillmentOrder.objects.filter(
            order=OuterRef("order"), location__in=stores)))

    attempt_kind = NOTIFICATION
    list_display = ["order", "kind", "channel", "recipient", "language", "sending", "tries",
                    "created_at", "finished_at"]
    list_filter = ["kind", "channel", attempt_status_filter(NOTIFICATION), "language"]
    search_fields = ["order__number", "recipient"]
    list_select_related = ["order"]
    actions = ["retry"]

    def has_change_permission(self, request: HttpRequest,
                              obj: Notification | None = None) -> bool:
        return request.user.has_perm("notifications.change_notification")

    def get_readonly_fields(self, request: HttpRequest,
                            obj: Notification | None = None) -> list[str]:
        return [f.name for f in Notification._meta.fields]

    @admin.action(description=_("Send the selected notifications again"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        for notification in queryset:
            notification_retry(notification=notification)
        self.message_user(request, _("Notifications queued again."), messages.SUCCESS)
