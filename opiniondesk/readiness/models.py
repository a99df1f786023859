"""What the patient does before the consult (SPEC §6, §11.1–2), and the coordinator's check."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdentityReview(models.Model):
    """A coordinator's verdict on one uploaded ID (本人確認). A rejection says why."""

    document = models.OneToOneField(
        "documents.Document", on_delete=models.PROTECT, related_name="identity_review"
    )
    verified = models.BooleanField(_("verified"))
    reason = models.TextField(_("reason (when rejected)"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("identity check")
        verbose_name_plural = _("identity checks")

    def __str__(self) -> str:
        return f"{'verified' if self.verified else 'rejected'}: document {self.document_id}"


class ConsentForm(models.Model):
    """オンライン診療の依頼・同意書: a versioned text the patient signs before an online consult."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    effective_from = models.DateField(_("effective from"))
    text_ja = models.TextField(_("text (Japanese)"))
    text_en = models.TextField(_("text (English)"), blank=True)

    class Meta:
        ordering = ["-effective_from", "-version"]
        verbose_name = _("request and consent form")
        verbose_name_plural = _("request and consent forms")

    def __str__(self) -> str:
        return self.version


class ConsentSignature(models.Model):
    """The patient's electronic signature (SPEC §11.1): name, time, document version."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="consents")
    form = models.ForeignKey(ConsentForm, on_delete=models.PROTECT, related_name="+")
    text_sha256 = models.CharField(max_length=64)  # of the text shown, in the language shown
    language = models.CharField(max_length=10)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signer_name = models.CharField(_("name signed"), max_length=100)
    signed_at = models.DateTimeField(auto_now_add=True)
    source_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "form"], name="consent_once_per_version"),
        ]
        verbose_name = _("signed request and consent")
        verbose_name_plural = _("signed requests and consents")

    def __str__(self) -> str:
        return f"case {self.case_id} signed {self.form_id}"


class PatientPrivacyAcceptance(models.Model):
    """The patient's own acceptance of the privacy policy, with their own account, when a
    family member applied (SPEC §6): the applicant's acceptance is on the case."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="patient_privacy_acceptances"
    )
    policy = models.ForeignKey("cases.PrivacyPolicy", on_delete=models.PROTECT, related_name="+")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "policy", "accepted_by"], name="patient_privacy_once"
            ),
        ]
        verbose_name = _("patient's acceptance of the privacy policy")
        verbose_name_plural = _("patient's acceptances of the privacy policy")

    def __str__(self) -> str:
        return f"case {self.case_id} accepted {self.policy_id}"


class DeviceCheck(models.Model):
    """One run of the device check page: what the browser found, and the server's round trip."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="device_checks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField(auto_now_add=True)
    camera_ok = models.BooleanField()
    microphone_ok = models.BooleanField()
    connection_ok = models.BooleanField()
    round_trip_ms = models.PositiveIntegerField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]

    def __str__(self) -> str:
        return f"device check {self.pk} of case {self.case_id}"

    @property
    def passed(self) -> bool:
        return self.camera_ok and self.microphone_ok and self.connection_ok


class PatientInvitation(models.Model):
    """A family member who applied asks the patient to link their own account to the case; or
    the coordinator hands a paper application to the person who applied on paper."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField(_("patient's e-mail"))
    token_hash = models.CharField(max_length=64, unique=True)  # SHA-256 of the token
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Sent by a coordinator to hand a paper application over (services.handover_invite):
    # accepting makes the accepting account the case's applicant, in place of the account
    # opened with the case from the referral letter.
    hands_over = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation for case {self.case_id}"
