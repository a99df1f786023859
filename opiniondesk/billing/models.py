"""Fee tables as data with effective dates (SPEC §8): a price change needs no code."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class FeeSchedule(models.Model):
    """料金表: in force from `effective_from` until the next schedule's date."""

    effective_from = models.DateField(_("effective from"), unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("fee schedule")
        verbose_name_plural = _("fee schedules")

    def __str__(self) -> str:
        return f"{self.effective_from:%Y-%m-%d}"


class FeeTier(models.Model):
    schedule = models.ForeignKey(FeeSchedule, on_delete=models.CASCADE, related_name="tiers")
    up_to_minutes = models.PositiveSmallIntegerField(_("up to (minutes, inclusive)"))
    price_excluding_tax = models.PositiveIntegerField(_("price excluding tax (yen)"))
    tax_rate_percent = models.PositiveSmallIntegerField(_("tax rate (%)"), default=10)

    class Meta:
        ordering = ["schedule", "up_to_minutes"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "up_to_minutes"], name="fee_tier_unique"),
            models.CheckConstraint(condition=Q(up_to_minutes__gt=0), name="fee_tier_minutes"),
            models.CheckConstraint(condition=Q(tax_rate_percent__lte=100), name="fee_tier_tax"),
        ]
        verbose_name = _("fee tier")
        verbose_name_plural = _("fee tiers")

    def __str__(self) -> str:
        return (
            f"≤{self.up_to_minutes} min: ¥{self.price_excluding_tax:,} + {self.tax_rate_percent}%"
        )
