"""The consent text is edited here; the records of what patients and staff did are only read."""

from django.contrib import admin
from django.http import HttpRequest

from opiniondesk.readiness.models import (
    ConsentForm,
    ConsentSignature,
    DeviceCheck,
    IdentityReview,
    PatientInvitation,
)


@admin.register(ConsentForm)
class ConsentFormAdmin(admin.ModelAdmin):
    """Versioned: publish a new version rather than editing one that patients have signed."""

    list_display = ["version", "effective_from"]
    ordering = ["-effective_from", "-version"]

    def get_readonly_fields(self, request: HttpRequest, obj: ConsentForm | None = None) -> list:
        if obj is not None and ConsentSignature.objects.filter(form=obj).exists():
            return ["version", "effective_from", "text_ja", "text_en"]
        return []

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the services (and audited there): never added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ConsentSignature)
class ConsentSignatureAdmin(ReadOnlyAdmin):
    list_display = ["case", "form", "signer_name", "language", "signed_at"]
    list_filter = ["form", "language"]
    search_fields = ["=case__id"]
    date_hierarchy = "signed_at"


@admin.register(DeviceCheck)
class DeviceCheckAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "checked_at",
        "camera_ok",
        "microphone_ok",
        "connection_ok",
        "round_trip_ms",
    ]
    list_filter = ["camera_ok", "microphone_ok", "connection_ok"]
    search_fields = ["=case__id"]


@admin.register(IdentityReview)
class IdentityReviewAdmin(ReadOnlyAdmin):
    list_display = ["document", "verified", "reviewed_by", "reviewed_at"]
    list_filter = ["verified"]
    search_fields = ["=document__case__id"]


@admin.register(PatientInvitation)
class PatientInvitationAdmin(ReadOnlyAdmin):
    list_display = ["case", "email", "created_at", "expires_at", "accepted_at", "revoked_at"]
    search_fields = ["=case__id", "email"]
    exclude = ["token_hash"]  # a hash, but of a live credential: nobody needs to see it
