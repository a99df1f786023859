from django.contrib import admin
from django.http import HttpRequest

from opiniondesk.audit.models import AuditEvent


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
    list_filter = ["action", "object_type", "at"]
    search_fields = ["username", "=case_id", "=object_id", "=source_address"]
    date_hierarchy = "at"
    list_per_page = 100
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
