"""Referral letters read from JP eReferral (診療情報提供書) FHIR files."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingReferral(models.Model):
    """A file a coordinator uploaded and is looking at, before confirming. Only they may
    confirm it, within `services.PENDING_FOR`; confirmed or expired, it is deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # The case to fill in; null when the file starts a new case.
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()

    def __str__(self) -> str:
        return self.name


class ReferralImport(models.Model):
    """One eReferral file read into a case; the file itself is the case's referral letter."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="referral_imports"
    )
    document = models.OneToOneField(
        "documents.Document", on_delete=models.PROTECT, related_name="referral_import"
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    # The coordinator opened the case from this file (a paper-style application).
    started_case = models.BooleanField(default=False)
    # The account opened for the patient with that case (no password, no e-mail): the case's
    # applicant until it is handed over to a person's own account (readiness: the handover).
    opened_account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bundle_identifier = models.CharField(max_length=200, db_index=True)
    document_identifier = models.CharField(max_length=200)
    fields = models.JSONField(default=list, blank=True)  # the case fields it filled

    class Meta:
        ordering = ["imported_at", "pk"]
        constraints = [
            # A case is started from one file only.
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(started_case=True),
                name="referral_one_start_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.document_identifier}"


class PaperApplication(models.Model):
    """A case a coordinator opened for someone who applied on paper or by phone (申込書 posted
    or brought to the desk, a call to the phone desk), with or without a referral letter: the
    account opened for them, then the application form as received (the consent to the privacy
    policy signed on it), typed in and sent by the coordinator (`referrals.paper`)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="paper_application"
    )
    # The account opened for the person with the case (no password, no e-mail): the case's
    # applicant until it is handed over to a person's own account (readiness: the handover).
    opened_account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    # Empty until the signed form is recorded as received (`paper.paper_received`).
    received_on = models.DateField(_("received on"), null=True, blank=True)
    # The privacy policy the signed form agreed to (the one in force when it was recorded).
    privacy_policy = models.ForeignKey(
        "cases.PrivacyPolicy", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    # The signed form, scanned (optional: the paper is kept at the desk either way).
    scanned_form = models.ForeignKey(
        "documents.Document", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"paper application of case {self.case_id}"

    @property
    def received(self) -> bool:
        return self.received_on is not None
