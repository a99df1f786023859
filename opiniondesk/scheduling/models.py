"""Specialists' availability, candidate dates (候補日) held for a case, and bookings (予約).

A slot has no row of its own: it is a specialist's 30-minute period, generated from the
department's weekly hours and the specialist's exceptions (`slots.generate_slots`). A candidate
date or a booking covers the whole consult (`starts_at`–`ends_at`, 30 or 60 minutes) and claims
each of its slots with a row named by (specialist, starts_at): `HeldSlot` and `BookedSlot`. Their
partial unique constraints make the database itself refuse a second live hold or booking of any
slot, so two consults of one specialist never overlap, on SQLite and PostgreSQL alike. A partial
unique constraint also refuses a second live booking of one case.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from opiniondesk.catalog.vocabulary import Mode


class Away(models.Model):
    """A specialist away (不在): all day when no times are given, else for that part."""

    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="absences",
        limit_choices_to={"role": "specialist"},
        verbose_name=_("specialist"),
    )
    day = models.DateField(_("day"))
    starts_at = models.TimeField(_("from"), null=True, blank=True)
    ends_at = models.TimeField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["day", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True, ends_at__isnull=True)
                | Q(starts_at__lt=F("ends_at")),
                name="away_whole_day_or_start_before_end",
            ),
        ]
        verbose_name = _("specialist away")
        verbose_name_plural = _("specialists away")

    def __str__(self) -> str:
        if self.starts_at is None:
            return f"{self.specialist} {self.day}"
        return f"{self.specialist} {self.day} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class ExtraSession(models.Model):
    """A one-off consult session (臨時枠) of a specialist for a department."""

    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="extra_sessions",
        limit_choices_to={"role": "specialist"},
        verbose_name=_("specialist"),
    )
    department = models.ForeignKey(
        "catalog.Department", on_delete=models.CASCADE, verbose_name=_("department")
    )
    day = models.DateField(_("day"))
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["day", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="extra_session_start_before_end"
            ),
        ]
        verbose_name = _("extra session")
        verbose_name_plural = _("extra sessions")

    def __str__(self) -> str:
        return f"{self.specialist} {self.day} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class ReleaseReason(models.TextChoices):
    EXPIRED = "expired", _("the hold ran out")
    REPLACED = "replaced", _("new dates were offered")
    CASE_CLOSED = "case_closed", _("the case ended")


class Offer(models.Model):
    """One round of candidate dates offered to a case, held until `hold_until`."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="offers")
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    offered_at = models.DateTimeField(auto_now_add=True)
    hold_until = models.DateTimeField(_("held until"))
    message = models.TextField(_("message to the patient"), blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=20, choices=ReleaseReason.choices, blank=True)

    class Meta:
        ordering = ["-offered_at", "-pk"]
        verbose_name = _("offer of dates")
        verbose_name_plural = _("offers of dates")

    def __str__(self) -> str:
        return f"offer {self.pk} for case {self.case_id}"


class OfferedSlot(models.Model):
    """A candidate date of one case: the whole consult, its slots held while the offer is open."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="slots")
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey("catalog.Department", on_delete=models.PROTECT)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="offered_slot_start_before_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} ({self.specialist})"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds()) // 60


class HeldSlot(models.Model):
    """One 30-minute slot of a candidate date, held until `released_at` (a 60-minute date
    holds two). Released in the same transaction as its candidate date."""

    offered_slot = models.ForeignKey(
        OfferedSlot, on_delete=models.PROTECT, related_name="held_slots"
    )
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["specialist", "starts_at"],
                condition=Q(released_at__isnull=True),
                name="one_live_hold_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"held {self.starts_at:%Y-%m-%d %H:%M} ({self.specialist_id})"


class CancelKind(models.TextChoices):
    CHANGED = "changed", _("changed to another date")
    CANCELLED = "cancelled", _("cancelled")
    CASE_CLOSED = "case_closed", _("the case ended")


class Booking(models.Model):
    """予約: a case's consult, over as many slots as its length. Live while `cancelled_at` is
    empty."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="bookings")
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="consult_bookings",
        verbose_name=_("specialist"),
    )
    department = models.ForeignKey(
        "catalog.Department", on_delete=models.PROTECT, verbose_name=_("department")
    )
    mode = models.CharField(_("mode"), max_length=20, choices=[(m.value, m.value) for m in Mode])
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    offered_slot = models.ForeignKey(
        OfferedSlot, on_delete=models.PROTECT, null=True, blank=True, related_name="bookings"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    booked_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(_("reason (staff changes)"), blank=True)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cancel_kind = models.CharField(max_length=20, choices=CancelKind.choices, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(cancelled_at__isnull=True),
                name="one_live_booking_per_case",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="booking_start_before_end"
            ),
        ]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")

    def __str__(self) -> str:
        return f"case {self.case_id} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.cancelled_at is None

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds()) // 60


class BookedSlot(models.Model):
    """One 30-minute slot of a booking (a 60-minute consult books two), live until
    `released_at`: set with the booking's `cancelled_at`, whether it was moved or cancelled."""

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="booked_slots")
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["specialist", "starts_at"],
                condition=Q(released_at__isnull=True),
                name="one_live_booking_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"booked {self.starts_at:%Y-%m-%d %H:%M} ({self.specialist_id})"


class ReminderKind(models.TextChoices):
    BOOKED = "booked", _("on booking")
    DAY_BEFORE = "day_before", _("the day before")
    HOUR_BEFORE = "hour_before", _("one hour before")


class ReminderSent(models.Model):
    """Each reminder of a booking goes out once, however often its task runs."""

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["booking", "kind"], name="reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for booking {self.booking_id}"
