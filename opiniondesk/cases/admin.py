from django.contrib import admin
from django.http import HttpRequest

from opiniondesk.cases.models import PrivacyPolicy
from opiniondesk.core.time import jst_today


def policy_is_fixed(policy: PrivacyPolicy) -> bool:
    """A version in force, or accepted by anyone (a case, a paper form, a patient's own
    acceptance: any row pointing at it), can never change: publish a new version instead."""
    if policy.effective_from <= jst_today():
        return True
    return any(
        relation.related_model._default_manager.filter(**{relation.field.name: policy}).exists()
        for relation in PrivacyPolicy._meta.related_objects
    )


@admin.register(PrivacyPolicy)
class PrivacyPolicyAdmin(admin.ModelAdmin):
    """Policies are versioned: publish a new version rather than editing an accepted one."""

    list_display = ["version", "effective_from"]

    def has_change_permission(self, request: HttpRequest, obj: PrivacyPolicy | None = None) -> bool:
        if obj is not None and policy_is_fixed(obj):
            return False  # shown read-only
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: PrivacyPolicy | None = None) -> bool:
        return False
