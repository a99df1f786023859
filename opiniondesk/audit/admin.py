import ipaddress
import unicodedata
from functools import cached_property
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opiniondesk.audit.models import AuditEvent
from opiniondesk.core.converters import MAX_ID

# Counting millions of events for the page links costs more than the page itself.
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows: past that the log is paged by the filters (a day, a
    case), not by page 5,000."""

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        return self.object_list[:COUNT_CAP].count()


def event_search(term: str) -> Q | None:
    """What one search term finds, each on an index: a number is a case or an object id, an IP
    address the source address, anything else a user name exactly. None: finds nothing."""
    term = unicodedata.normalize("NFKC", term).strip()  # ７ typed in full width is 7
    if not term:
        return None
    if term.isascii() and term.isdigit():
        found = Q(object_id=term)
        if 0 < int(term) <= MAX_ID:
            found |= Q(case_id=int(term))
        return found
    try:
        return Q(source_address=str(ipaddress.ip_address(term)))
    except ValueError:
        pass
    if len(term) > 150:
        return None
    return Q(username=term)


class ObjectTypeFilter(admin.SimpleListFilter):
    """The kinds of record an event can name, from the project's models: listing the values in
    the log itself would read every event (SELECT DISTINCT over millions)."""

    title = _("object type")
    parameter_name = "object_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return sorted(
            (model._meta.label, f"{model._meta.verbose_name} ({model._meta.label})")
            for model in apps.get_models()
            if model._meta.app_label in RECORDED_APPS
        )

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet:
        return queryset.filter(object_type=self.value()) if self.value() else queryset


# Ours, and allauth's accounts and authenticators (sign-ins, second factors).
RECORDED_APPS = {
    config.label for config in apps.get_app_configs() if config.name.startswith("opiniondesk.")
} | {"account", "mfa"}


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Browse and filter the audit log; nobody can add, change or delete through the app."""

    list_display = [
        "sequence",
        "at",
        "username",
        "action",
        "case_id",
        "object_type",
        "object_id",
        "source_address",
    ]
    list_filter = ["action", ObjectTypeFilter, "at"]
    # The search box is ours (get_search_results): a text search over every column reads all.
    search_fields = ["username"]
    search_help_text = _(
        "A case number or object id, an IP address, or a user name exactly as it is written."
    )
    # 50 events a page (Django's 100 doubles the page's time, ~half of it printing the rows);
    # the log is read by its filters and search, not paged through.
    list_per_page = 50
    actions = None  # nothing to do to events in bulk: no checkbox column
    paginator = CappedCountPaginator
    show_full_result_count = False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent], search_term: str
    ) -> tuple[QuerySet[AuditEvent], bool]:
        if not search_term.strip():
            return queryset, False
        found = event_search(search_term)
        return (queryset.filter(found) if found is not None else queryset.none()), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
