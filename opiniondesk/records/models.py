"""Records kept (SPEC §11.16): legal holds, the releases that let a case's rows go, and the
staff's corrections of an application, each a new version with its author and time."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class LegalHold(models.Model):
    """法的保全: a case on hold is never purged, whatever its age. Placed and lifted by admins."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="legal_holds", verbose_name=_("case")
    )
    reason = models.TextField(_("reason for the hold"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("placed by"),
    )
    placed_at = models.DateTimeField(_("placed at"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lift_reason = models.TextField(_("reason for lifting"), blank=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(lifted_at__isnull=True), name="one_active_hold"
            ),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True, lifted_by__isnull=True)
                | Q(lifted_at__isnull=False, lifted_by__isnull=False),
                name="hold_lifted_with_its_author",
            ),
        ]
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")

    def __str__(self) -> str:
        return f"hold on case {self.case_id}" + (" (lifted)" if self.lifted_at else "")

    @property
    def active(self) -> bool:
        return self.lifted_at is None


class RetentionRelease(models.Model):
    """A case whose retention period is over and that is on no hold, released for purging by
    `manage.py retention --purge`. The database lets a kept row go only when its case has one
    (records/guard.py). Kept after the purge: the case id is a plain number, not a key."""

    case_id = models.BigIntegerField(unique=True)
    reference = models.CharField(max_length=20)
    final_status = models.CharField(max_length=20)
    ended_at = models.DateTimeField()
    kept_until = models.DateField()
    released_at = models.DateTimeField()
    released_by = models.CharField(max_length=150)  # who ran the command (the OS user)

    class Meta:
        ordering = ["released_at", "case_id"]

    def __str__(self) -> str:
        return f"{self.reference} released {self.released_at:%Y-%m-%d}"


class CaseRevision(models.Model):
    """One correction of a submitted application by staff: the fields changed (old and new
    values), who, when and why. A draft's edits by the applicant are not revisions."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    changes = models.JSONField(default=dict)  # {field: {"old": ..., "new": ...}}
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    reason = models.TextField()

    class Meta:
        ordering = ["case_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="one_revision_number"),
        ]
        verbose_name = _("correction of the application")
        verbose_name_plural = _("corrections of the application")

    def __str__(self) -> str:
        return f"case {self.case_id} revision {self.number}"
