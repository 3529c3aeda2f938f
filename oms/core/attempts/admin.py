"""The attempts in the cockpit: every outbound call in one list, filtered by kind and status
(the dead letters of one kind are one click away), with each try, and a retry action."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from oms.core.admin_base import ReadOnlyAdmin
from oms.core.attempts.kinds import AttemptKind, kind_named, kinds_registered
from oms.core.attempts.models import Attempt, AttemptTry
from oms.core.attempts.selectors import attempt_column, targets_with_status
from oms.core.attempts.services import attempt_retry
from oms.core.attempts.states import AttemptStatus


class AttemptTryInline(admin.TabularInline):
    model = AttemptTry
    extra = 0
    can_delete = False
    readonly_fields = ["number", "at", "ok", "status_code", "error", "duration_ms"]

    def has_add_permission(self, request: HttpRequest, obj: Attempt | None = None) -> bool:
        return False


class KindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(kind.name, kind.label) for kind in kinds_registered()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Attempt]) -> QuerySet[Attempt]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind_label", "about", "status", "tries", "next_attempt_at",
                    "last_error_short", "created_at", "finished_at"]
    list_filter = [KindFilter, "status"]
    search_fields = ["=target_id", "last_error"]
    date_hierarchy = "created_at"
    inlines = [AttemptTryInline]
    actions = ["retry"]

    def has_change_permission(self, request: HttpRequest, obj: Attempt | None = None) -> bool:
        return request.user.is_superuser  # needed to run the action; fields stay read-only

    def get_readonly_fields(self, request: HttpRequest, obj: Attempt | None = None) -> list[str]:
        return [f.name for f in Attempt._meta.fields]

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, attempt: Attempt) -> str:
        try:
            return str(kind_named(attempt.kind).label)
        except LookupError:
            return attempt.kind

    @admin.display(description=_("about"))
    def about(self, attempt: Attempt) -> str:
        try:
            kind = kind_named(attempt.kind)
        except LookupError:
            return str(attempt.target_id)
        url = kind.admin_url(attempt.target_id)
        text = kind.describe(attempt.target_id)
        return format_html('<a href="{}">{}</a>', url, text) if url else text

    @admin.display(description=_("last error"))
    def last_error_short(self, attempt: Attempt) -> str:
        return attempt.last_error[:120]

    @admin.action(description=_("Try the selected calls again now"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Attempt]) -> None:
        retried = sum(attempt_retry(attempt=attempt) for attempt in queryset)
        skipped = queryset.count() - retried
        self.message_user(request, _("%(retried)d queued again, %(skipped)d left as they are.")
                          % {"retried": retried, "skipped": skipped}, messages.SUCCESS)


class AttemptColumns:
    """For the admin of rows that are sent through an attempt (a webhook delivery, a
    notification): its status, tries and end as columns, read in the list's one query."""

    attempt_kind: AttemptKind

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        kind = self.attempt_kind
        return super().get_queryset(request).annotate(  # type: ignore[misc]
            attempt_status=attempt_column(kind, "status"),
            attempt_tries=attempt_column(kind, "tries"),
            attempt_finished_at=attempt_column(kind, "finished_at"),
            attempt_id=attempt_column(kind, "pk"))

    @admin.display(description=_("sending"), ordering="attempt_status")
    def sending(self, row: Any) -> str:
        if row.attempt_id is None:
            return "-"
        url = reverse("admin:core_attempt_change", args=[row.attempt_id])
        label = AttemptStatus(row.attempt_status).label if row.attempt_status else ""
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description=_("tries"))
    def tries(self, row: Any) -> int:
        return row.attempt_tries or 0

    @admin.display(description=_("finished"), ordering="attempt_finished_at")
    def finished_at(self, row: Any) -> Any:
        return row.attempt_finished_at


def attempt_status_filter(kind: AttemptKind) -> type[admin.SimpleListFilter]:
    """A list filter on the status of the rows' attempts of `kind`."""

    class StatusFilter(admin.SimpleListFilter):
        title = _("sending")
        parameter_name = "sending"

        def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
            return list(AttemptStatus.choices)

        def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
            if not self.value():
                return queryset
            return queryset.filter(pk__in=targets_with_status(kind, self.value()))

    return StatusFilter
