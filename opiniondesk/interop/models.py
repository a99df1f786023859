"""Disclosure requests (開示請求, SPEC §11.15): the patient asks for their record, staff export it
and record how it was handed over."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Wanted(models.TextChoices):
    WHOLE_RECORD = "whole_record", _("the whole record of the case")
    PART = "part", _("part of the record (described below)")


class Delivery(models.TextChoices):
    POST = "post", _("printed, by post")
    DESK = "desk", _("printed, collected at the hospital")
    ELECTRONIC = "electronic", _("as files (PDF and FHIR data)")


class DisclosureRequest(models.Model):
    """One request to see the record of a case. Open until staff mark it fulfilled."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="disclosure_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    wanted = models.CharField(_("what you would like"), max_length=20, choices=Wanted.choices)
    details = models.TextField(_("details"), max_length=1000, blank=True)
    delivery = models.CharField(
        _("how you would like to receive it"), max_length=20, choices=Delivery.choices
    )
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    delivered_via = models.CharField(
        _("how it was handed over"), max_length=20, choices=Delivery.choices, blank=True
    )
    fulfilment_note = models.TextField(_("note"), max_length=1000, blank=True)

    class Meta:
        ordering = ["requested_at", "pk"]
        verbose_name = _("disclosure request")
        verbose_name_plural = _("disclosure requests")
        constraints = [
            # A fulfilled request names who fulfilled it and how; an open one names neither.
            models.CheckConstraint(
                condition=(
                    Q(fulfilled_at__isnull=True, fulfilled_by__isnull=True, delivered_via="")
                    | (
                        Q(fulfilled_at__isnull=False, fulfilled_by__isnull=False)
                        & ~Q(delivered_via="")
                    )
                ),
                name="disclosure_fulfilled_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"disclosure request {self.pk} of case {self.case_id}"

    @property
    def is_open(self) -> bool:
        return self.fulfilled_at is None
