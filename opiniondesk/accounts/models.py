"""Users and their roles (SPEC §1)."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PATIENT = "patient", _("patient")  # 患者本人 (or a family member applying for them)
    COORDINATOR = "coordinator", _("coordinator")  # セカンドオピニオン担当
    SPECIALIST = "specialist", _("specialist")  # 専門医
    BILLING_CLERK = "billing_clerk", _("billing clerk")  # 会計
    ADMIN = "admin", _("administrator")  # 病院IT


STAFF_ROLES = frozenset({Role.COORDINATOR, Role.SPECIALIST, Role.BILLING_CLERK, Role.ADMIN})


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.PATIENT)
    # The language of the e-mails we send this user; set from the pages they use.
    language = models.CharField(_("language"), max_length=10, default="ja")
    # A specialist sees only the cases of these departments.
    departments = models.ManyToManyField(
        "catalog.Department",
        blank=True,
        related_name="specialists",
        verbose_name=_("departments"),
    )
    # 診療科長: a specialist who heads their departments sees those departments' lead times.
    is_department_head = models.BooleanField(
        _("head of department"),
        default=False,
        help_text=_("A specialist who heads the departments above sees their lead times."),
    )

    def get_full_name(self) -> str:
        """Family name first, as Japanese names are written (山田 花)."""
        return f"{self.last_name} {self.first_name}".strip()

    @property
    def is_hospital_staff(self) -> bool:
        return self.role in STAFF_ROLES


class ApiToken(models.Model):
    """A hospital system's key to the API (SPEC §12): it acts as `user`, limited to `scopes`.
    The secret is shown once when the token is made; only its SHA-256 is kept."""

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="api_tokens", verbose_name=_("acts as")
    )
    scopes = models.JSONField(_("scopes"), default=list)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the secret, so that staff can tell which token a system holds.
    prefix = models.CharField(_("begins with"), max_length=16, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def usable_at(self, now: object) -> bool:
        """Not revoked, and not expired at `now`."""
        return self.revoked_at is None and (
            self.expires_at is None or now < self.expires_at  # type: ignore[operator]
        )
