"""The consult (相談) and what the specialist's time is made of (SPEC §7, §8).

Every time here is the server's: the browsers show it, they never supply it.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from opiniondesk.catalog.vocabulary import Mode


class ReviewSession(models.Model):
    """The specialist reading the case's materials after accepting it, timed by the server.

    Reading before the decision to accept is not billed (SPEC §8). A correction replaces the
    measured time of one session; it names a reason and is audited.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="review_sessions")
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    corrected_seconds = models.PositiveIntegerField(_("corrected time (seconds)"), null=True)
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    corrected_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["started_at", "pk"]
        verbose_name = _("review of the materials")
        verbose_name_plural = _("reviews of the materials")
        constraints = [
            # One open session per case: a second "start" cannot double the billed time.
            models.UniqueConstraint(
                fields=["case"], condition=Q(ended_at__isnull=True), name="one_open_review"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="review_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"review of case {self.case_id} from {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def measured_seconds(self) -> int | None:
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds())

    @property
    def seconds(self) -> int:
        """What counts toward the fee: the correction if there is one, else the measured time
        (an open session counts once it is stopped)."""
        if self.corrected_seconds is not None:
            return self.corrected_seconds
        return self.measured_seconds or 0

    @property
    def duration(self) -> str:
        """The time that counts, as minutes:seconds (the fee drops the seconds of the total)."""
        return f"{self.seconds // 60}:{self.seconds % 60:02d}"


class ConsultState(models.TextChoices):
    WAITING = "waiting", _("waiting room")
    CALLED = "called", _("called in")  # the specialist called; who is present is confirmed
    IN_CALL = "in_call", _("in the call")
    ENDED = "ended", _("ended")
    NO_SHOW = "no_show", _("did not attend")


class EndReason(models.TextChoices):
    SPECIALIST = "specialist", _("ended by the specialist")
    LIMIT = "limit", _("ended at the time limit")
    STAFF = "staff", _("recorded by staff")  # in person


class Consult(models.Model):
    """One consult per booking: the waiting room, the call (or the visit) and its record."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="consults")
    booking = models.OneToOneField(
        "scheduling.Booking", on_delete=models.PROTECT, related_name="consult"
    )
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(max_length=20, choices=[(m.value, m.value) for m in Mode])
    planned_minutes = models.PositiveSmallIntegerField(_("planned length (minutes)"))
    state = models.CharField(
        max_length=20, choices=ConsultState.choices, default=ConsultState.WAITING
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Who is present (SPEC §11.5): each side confirms before the call starts.
    present_patient_side = models.JSONField(_("present with the patient"), default=list)
    present_hospital_side = models.JSONField(_("present at the hospital"), default=list)
    patient_confirmed_at = models.DateTimeField(null=True, blank=True)
    hospital_confirmed_at = models.DateTimeField(null=True, blank=True)

    # The call, in server time; the review time is frozen at the start (the limit counts it).
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)
    review_seconds = models.PositiveIntegerField(_("review time at the start"), default=0)
    limit_at = models.DateTimeField(_("time limit"), null=True, blank=True)

    # The one patient-side connection (SPEC §7): its device and when it was last heard from.
    patient_channel = models.CharField(max_length=200, blank=True)
    patient_device = models.CharField(max_length=64, blank=True)
    patient_seen_at = models.DateTimeField(null=True, blank=True)
    hospital_channel = models.CharField(max_length=200, blank=True)

    notes = models.TextField(_("the specialist's notes"), blank=True)
    notes_saved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("consult")
        verbose_name_plural = _("consults")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True)
                | (Q(started_at__isnull=False) & Q(ended_at__gte=models.F("started_at"))),
                name="consult_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"consult {self.pk} of case {self.case_id}"

    @property
    def call_seconds(self) -> int:
        if self.started_at is None or self.ended_at is None:
            return 0
        return int((self.ended_at - self.started_at).total_seconds())

    def patient_connected(self, now: object, stale_after: timedelta) -> bool:
        """A patient-side connection that has been heard from recently."""
        return bool(
            self.patient_channel
            and self.patient_seen_at is not None
            and now - self.patient_seen_at < stale_after  # type: ignore[operator]
        )


class Side(models.TextChoices):
    PATIENT = "patient", _("patient's side")
    HOSPITAL = "hospital", _("hospital")
    SYSTEM = "system", _("system")


class EventKind(models.TextChoices):
    ENTERED = "entered", _("entered the waiting room")
    LEFT = "left", _("left")
    RECONNECTED = "reconnected", _("reconnected")
    REFUSED_DEVICE = "refused_device", _("second device refused")
    TAKEN_OVER = "taken_over", _("taken over by another device")
    CALLED_IN = "called_in", _("called in")
    PRESENT = "present", _("confirmed who is present")
    STARTED = "started", _("call started")
    WARNED = "warned", _("warned of the time")
    ENDED = "ended", _("call ended")
    NO_SHOW = "no_show", _("did not attend")


class ConsultEvent(models.Model):
    """What happened in a consult, when (server time) and on which side: the connection
    events of the consult record."""

    consult = models.ForeignKey(Consult, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    side = models.CharField(max_length=10, choices=Side.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} ({self.side}) at {self.at:%H:%M:%S}"


class ChatMessage(models.Model):
    """A text message: the specialist's word to the waiting patient, or the chat beside the
    video when the sound fails. Kept in the consult record."""

    consult = models.ForeignKey(Consult, on_delete=models.PROTECT, related_name="messages")
    at = models.DateTimeField()
    side = models.CharField(max_length=10, choices=Side.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=1000)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"message ({self.side}) at {self.at:%H:%M:%S}"
