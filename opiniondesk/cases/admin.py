from django.contrib import admin

from opiniondesk.cases.models import PrivacyPolicy


@admin.register(PrivacyPolicy)
class PrivacyPolicyAdmin(admin.ModelAdmin):
    """Policies are versioned: publish a new version rather than editing an accepted one."""

    list_display = ["version", "effective_from"]

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
