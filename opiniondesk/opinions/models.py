"""The written opinion (回答書, SPEC §9): its versions, its deliveries to the attending physician,
and each delivery's record as a disclosure to a third party (SPEC §11.14).

A signed version never changes: the services refuse it, `OpinionVersion.save()` and `delete()`
refuse it, and a database trigger (migration 0002) refuses an UPDATE or DELETE of a signed row
whatever issued it. A correction is a new version that names the one it corrects.
"""

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SignedVersionFrozen(Exception):
    """Someone tried to change or delete a signed version of an opinion."""


class Opinion(models.Model):
    """The opinion of one case: a series of versions, the newest signed one in force."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="opinion")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("opinion")
        verbose_name_plural = _("opinions")

    def __str__(self) -> str:
        return f"opinion of case {self.case_id}"


class VersionState(models.TextChoices):
    DRAFT = "draft", _("draft")
    SIGNED = "signed", _("signed")


def content_hash(*, case_id: int, number: int, content: dict[str, Any]) -> str:
    """SHA-256 of a canonical JSON of the content, the case and the version number."""
    canonical = json.dumps(
        {"case": case_id, "version": number, "content": content},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class OpinionVersion(models.Model):
    """One version of the opinion: a draft the specialist keeps saving, then signed for good."""

    opinion = models.ForeignKey(Opinion, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    state = models.CharField(
        _("state"), max_length=10, choices=VersionState.choices, default=VersionState.DRAFT
    )
    # The structured content (SPEC §9).
    on_current = models.TextField(_("on the current diagnosis and treatment"), blank=True)
    on_future = models.TextField(_("on future treatment and outlook"), blank=True)
    # [{"question": the patient's question as asked, "answer": the specialist's answer}, ...]
    answers = models.JSONField(_("answers to the patient's questions"), default=list, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)

    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    saved_at = models.DateTimeField(_("saved at"))
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects version"),
    )
    correction_reason = models.TextField(_("reason for the correction"), blank=True)

    class Meta:
        ordering = ["opinion_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["opinion", "number"], name="opinion_version_unique"),
            # One draft at a time per opinion.
            models.UniqueConstraint(
                fields=["opinion"],
                condition=Q(state="draft"),
                name="opinion_one_draft",
            ),
            # A signed version carries who signed it, when, and the hash of what was signed.
            models.CheckConstraint(
                condition=Q(state="draft")
                | (Q(signed_by__isnull=False, signed_at__isnull=False) & ~Q(content_hash="")),
                name="opinion_signed_complete",
            ),
            # A correction always says why.
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="opinion_correction_reason",
            ),
        ]
        verbose_name = _("opinion version")
        verbose_name_plural = _("opinion versions")

    def __str__(self) -> str:
        return f"opinion {self.opinion_id} v{self.number} ({self.state})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("state", flat=True).first()
            if stored == VersionState.SIGNED:
                raise SignedVersionFrozen(f"opinion version {self.pk} is signed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.signed:
            raise SignedVersionFrozen(f"opinion version {self.pk} is signed")
        return super().delete(*args, **kwargs)

    @property
    def signed(self) -> bool:
        return self.state == VersionState.SIGNED

    def content(self) -> dict[str, Any]:
        """What is signed: the sections and the answers with their questions."""
        return {
            "on_current": self.on_current,
            "on_future": self.on_future,
            "answers": [
                {"question": item["question"], "answer": item["answer"]} for item in self.answers
            ],
            "remarks": self.remarks,
        }

    def computed_hash(self, case_id: int) -> str:
        return content_hash(case_id=case_id, number=self.number, content=self.content())


class DeliveryMethod(models.TextChoices):
    LINK = "link", _("one-time link by e-mail")
    POST = "post", _("printed and posted")


class OpinionDelivery(models.Model):
    """One signed version sent to the attending physician. A link delivery is delivered when the
    physician first opens it; a posted one when staff record the posting."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(OpinionVersion, on_delete=models.PROTECT, related_name="deliveries")
    method = models.CharField(_("method"), max_length=10, choices=DeliveryMethod.choices)
    # The recipient as the case named them when it was sent.
    recipient_name = models.CharField(_("physician"), max_length=100)
    recipient_institution = models.CharField(_("institution"), max_length=200)
    recipient_department = models.CharField(_("department"), max_length=100, blank=True)
    recipient_email = models.EmailField(_("e-mail"), blank=True)
    recipient_address = models.CharField(_("address"), max_length=250, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The link (method "link"): the token is e-mailed once and stored only as its hash.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The post (method "post").
    posted_on = models.DateField(_("posted on"), null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case_id", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(method="post", posted_on__isnull=False, token_hash__isnull=True)
                | Q(method="link", token_hash__isnull=False, expires_at__isnull=False),
                name="opinion_delivery_method_fields",
            ),
        ]
        verbose_name = _("delivery of the opinion")
        verbose_name_plural = _("deliveries of the opinion")

    def __str__(self) -> str:
        return f"{self.method} delivery of {self.version}"


class DisclosureBasis(models.TextChoices):
    APPLICATION_CONSENT = "application_consent", _("the patient's consent in the application")


class Disclosure(models.Model):
    """A provision of the patient's data to a third party (第三者提供の記録, SPEC §11.14): to whom,
    what, when, by whom, how and on what basis. Written with the delivery, never changed."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    delivery = models.OneToOneField(
        OpinionDelivery, on_delete=models.PROTECT, related_name="disclosure"
    )
    recipient_name = models.CharField(_("recipient"), max_length=100)
    recipient_institution = models.CharField(_("institution"), max_length=200)
    recipient_department = models.CharField(_("department"), max_length=100, blank=True)
    what = models.CharField(_("what was provided"), max_length=200)
    version = models.ForeignKey(OpinionVersion, on_delete=models.PROTECT, related_name="+")
    disclosed_at = models.DateTimeField(_("when"))
    # Who sent it: the staff member who sent the link or posted the letter.
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(_("how"), max_length=10, choices=DeliveryMethod.choices)
    basis = models.CharField(_("basis"), max_length=30, choices=DisclosureBasis.choices)
    basis_detail = models.CharField(_("basis in detail"), max_length=200, blank=True)

    class Meta:
        ordering = ["case_id", "disclosed_at", "pk"]
        verbose_name = _("disclosure to a third party")
        verbose_name_plural = _("disclosures to third parties")

    def __str__(self) -> str:
        return f"{self.what} → {self.recipient_institution} {self.recipient_name}"
