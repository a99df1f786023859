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

    def get_full_name(self) -> str:
        """Family name first, as Japanese names are written (山田 花)."""
        return f"{self.last_name} {self.first_name}".strip()

    @property
    def is_hospital_staff(self) -> bool:
        return self.role in STAFF_ROLES
