"""Typed documents of a case, stored privately, never deleted by the applicant."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opiniondesk.catalog.vocabulary import DocumentCode
from opiniondesk.readiness.rules import IdType


class DocumentKind(models.TextChoices):
    REFERRAL_LETTER = "referral_letter", _("Referral letter")  # 診療情報提供書
    TEST_DATA = "test_data", _("Test data")  # 検査データ
    CONSENT_FORM = "consent_form", _("Consent form")  # 相談同意書
    RELATIONSHIP_PROOF = "relationship_proof", _("Proof of relationship")  # 続柄確認書類
    PROXY_ID = "proxy_id", _("ID of an attending family member")  # 身分証明
    MEDICATION_LIST = "medication_list", _("Medication list")  # お薬手帳
    SCANNED_FORM = "scanned_form", _("Scanned paper application")  # 申込書(紙)
    PATIENT_ID = "patient_id", _("Patient's ID")  # 本人確認書類 (before the consult)
    OTHER = "other", _("Other")


class TestDataKind(models.TextChoices):
    BLOOD = "blood", _("Blood tests")
    PHYSIOLOGY = "physiology", _("Physiological tests (ECG, lung function, EEG)")
    XRAY = "xray", _("X-ray")
    ULTRASOUND = "ultrasound", _("Ultrasound report and images")
    CT_MRI = "ct_mri", _("CT / MRI images")
    PATHOLOGY = "pathology", _("Pathology report")


class UploadSource(models.TextChoices):
    APPLICANT = "applicant", _("applicant")
    STAFF = "staff", _("hospital staff")
    PHYSICIAN_LINK = "physician_link", _("attending physician's upload link")


# Which uploaded kind satisfies which missing-document code of SPEC §3.
KIND_TO_CODE = {
    DocumentKind.REFERRAL_LETTER: DocumentCode.REFERRAL_LETTER,
    DocumentKind.TEST_DATA: DocumentCode.TEST_DATA,
    DocumentKind.CONSENT_FORM: DocumentCode.CONSENT_FORM,
    DocumentKind.RELATIONSHIP_PROOF: DocumentCode.RELATIONSHIP_PROOF,
    DocumentKind.PROXY_ID: DocumentCode.PROXY_ID,
    DocumentKind.MEDICATION_LIST: DocumentCode.MEDICATION_LIST,
}


def _storage_path(instance: "Document", filename: str) -> str:
    # The applicant's file name never reaches the storage path.
    return f"cases/{instance.case_id}/{uuid.uuid4().hex}"


class Document(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("document type"), max_length=30, choices=DocumentKind.choices)
    test_data_kind = models.CharField(
        _("kind of test data"), max_length=20, choices=TestDataKind.choices, blank=True
    )
    id_type = models.CharField(
        _("type of ID"),
        max_length=30,
        choices=[(t.value, t.value) for t in IdType],
        blank=True,
    )
    proxy = models.ForeignKey(
        "cases.Proxy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("family member"),
    )
    file = models.FileField(upload_to=_storage_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    file_kind = models.CharField(max_length=10)  # content.FileKind
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # A ZIP's members left out of the stored copy: an imaging CD's viewer program and the like.
    dropped_members = models.JSONField(default=list, blank=True)
    # A correction is a new version; the old one stays.
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    source = models.CharField(max_length=20, choices=UploadSource.choices)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # An uploaded ID no coordinator has checked yet (本人確認待ち): set with the upload, cleared
    # by the check (readiness.services). The few waiting are indexed, not every ID ever sent.
    identity_check_pending = models.BooleanField(default=False, editable=False)

    class Meta:
        # case_id, not case: that would join cases_case to sort by Case's own ordering.
        ordering = ["case_id", "uploaded_at", "pk"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [
            models.Index(
                fields=["case"],
                condition=models.Q(identity_check_pending=True),
                name="document_id_to_check",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"


class PhysicianUploadLink(models.Model):
    """A one-time link for the attending physician to upload without an account."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="upload_links")
    token_hash = models.CharField(max_length=64, unique=True)  # SHA-256 of the token
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"upload link for case {self.case_id}"
