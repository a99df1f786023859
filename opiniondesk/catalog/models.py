"""The hospital's catalog (SPEC §2): departments, their diseases, modes and consult hours."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from opiniondesk.catalog.vocabulary import DocumentCode, Mode
from opiniondesk.core.wording import name_in_language

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class Department(models.Model):
    """診療科."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name (Japanese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    offers_online = models.BooleanField(_("online consults"), default=True)
    offers_in_person = models.BooleanField(_("in-person consults"), default=True)
    is_active = models.BooleanField(_("accepting applications"), default=True)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.local_name

    @property
    def local_name(self) -> str:
        """The name in the active language: English when chosen and filled in, else Japanese."""
        return name_in_language(self.name, self.name_en)

    @property
    def modes(self) -> list[Mode]:
        modes = []
        if self.offers_online:
            modes.append(Mode.ONLINE)
        if self.offers_in_person:
            modes.append(Mode.IN_PERSON)
        return modes


class Disease(models.Model):
    """対象疾患 of one department."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="diseases")
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name (Japanese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["department", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["department", "code"], name="disease_code_unique"),
        ]
        verbose_name = _("target disease")
        verbose_name_plural = _("target diseases")

    def __str__(self) -> str:
        return self.local_name

    @property
    def local_name(self) -> str:
        """The name in the active language: English when chosen and filled in, else Japanese."""
        return name_in_language(self.name, self.name_en)


class ConsultHours(models.Model):
    """One weekly consult session of a department, e.g. Tuesday 14:00–16:00."""

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="consult_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS)
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))

    class Meta:
        ordering = ["department", "weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="consult_hours_start_before_end"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="consult_hours_weekday"),
        ]
        verbose_name = _("consult hours")
        verbose_name_plural = _("consult hours")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class ExtraDocument(models.Model):
    """A document this department requires on top of the usual ones (e.g. a medication list)."""

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="extra_documents"
    )
    code = models.CharField(
        _("document"), max_length=30, choices=[(c.value, c.name) for c in DocumentCode]
    )

    class Meta:
        ordering = ["department", "code"]
        constraints = [
            models.UniqueConstraint(fields=["department", "code"], name="extra_document_unique"),
        ]
        verbose_name = _("extra required document")
        verbose_name_plural = _("extra required documents")

    def __str__(self) -> str:
        return self.code
