"""Every write of a consult: the specialist's review of the materials, the waiting room, the call
and its record, the in-person visit and the no-show. Each is atomic and audited; the case moves
`ready → in_consult → completed` (or `→ no_show`) through `cases.lifecycle`.

Locks: the case row first (when the case moves), then the consult row.
"""

from datetime import datetime
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.billing.services import charge_open
from opiniondesk.cases.lifecycle import actor_of, case_lock, case_transition
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import BOOKED_STATES, PREPARATION_STATES, Actor, Status
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.consults import clock, selectors, tasks
from opiniondesk.consults.errors import ConsultError
from opiniondesk.consults.models import (
    ChatMessage,
    Consult,
    ConsultEvent,
    ConsultState,
    EndReason,
    EventKind,
    ReviewSession,
    Side,
)
from opiniondesk.scheduling.selectors import live_booking
from opiniondesk.scheduling.services import release_for_closed_case

MAX_TEXT = 500  # a chat line or a message to the waiting patient
MAX_NOTES = 20_000
MAX_PRESENT = 8  # people named on one side
MAX_NAME = 60


def _now() -> datetime:
    return timezone.now()


def _event(
    consult: Consult, event: EventKind, side: Side, user: User | None = None, **detail: object
) -> ConsultEvent:
    return ConsultEvent.objects.create(
        consult=consult, at=_now(), kind=event, side=side, user=user, detail=detail
    )


def _require_department_specialist(actor: User, case: Case) -> None:
    if (
        actor.role != Role.SPECIALIST
        or not actor.departments.filter(pk=case.department_id).exists()
    ):
        raise ConsultError(_("Only a specialist of the case's department can do this."))


# The specialist's review of the materials (SPEC §8): measured, not typed.


@transaction.atomic
def review_start(*, case_id: int, actor: User, request: HttpRequest | None = None) -> ReviewSession:
    """The specialist starts reading the materials of an accepted case; the server times it."""
    case = case_lock(case_id)
    _require_department_specialist(actor, case)
    if case.status not in PREPARATION_STATES:
        raise ConsultError(_("The review time counts from the acceptance until the consult."))
    if selectors.open_review(case) is not None:
        raise ConsultError(_("The review is already running."), "running")
    try:
        with transaction.atomic():
            session = ReviewSession.objects.create(case=case, specialist=actor, started_at=_now())
    except IntegrityError as exc:  # the same click in two tabs
        raise ConsultError(_("The review is already running."), "running") from exc
    audit_record(
        action=AuditAction.CREATE, user=actor, request=request, case_id=case.pk, obj=session
    )
    return session


def _close_review(case: Case, at: datetime) -> ReviewSession | None:
    session = (
        ReviewSession.objects.select_for_update().filter(case=case, ended_at__isnull=True).first()
    )
    if session is not None:
        session.ended_at = at
        session.save(update_fields=["ended_at"])
    return session


@transaction.atomic
def review_stop(*, case_id: int, actor: User, request: HttpRequest | None = None) -> ReviewSession:
    case = case_lock(case_id)
    _require_department_specialist(actor, case)
    session = _close_review(case, _now())
    if session is None:
        raise ConsultError(_("No review is running."), "not_running")
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=session,
        detail={"review_seconds": session.seconds},
    )
    return session


@transaction.atomic
def review_correct(
    *,
    session_id: int,
    actor: User,
    minutes: int,
    reason: str,
    request: HttpRequest | None = None,
) -> ReviewSession:
    """Replace one session's measured time (e.g. the page was left open over lunch)."""
    session = ReviewSession.objects.filter(pk=session_id).first()
    if session is None:
        raise ConsultError(_("No such review."))
    case = case_lock(session.case_id)
    _require_department_specialist(actor, case)
    session = ReviewSession.objects.select_for_update().get(pk=session_id)
    if case.status not in PREPARATION_STATES:
        raise ConsultError(_("The review time can be corrected only before the consult."))
    if session.ended_at is None:
        raise ConsultError(_("Stop the review before correcting it."))
    if not reason.strip():
        raise ConsultError(_("Give the reason for the correction."), "reason")
    if not 0 <= minutes <= settings.CONSULT_LIMIT_MINUTES:
        raise ConsultError(_("The corrected time is between 0 and 60 minutes."), "minutes")
    before = session.seconds
    session.corrected_seconds = minutes * 60
    session.correction_reason, session.corrected_by, session.corrected_at = (
        reason.strip(),
        actor,
        _now(),
    )
    session.save(
        update_fields=["corrected_seconds", "correction_reason", "corrected_by", "corrected_at"]
    )
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=session,
        detail={"review_seconds": [before, session.seconds], "reason": session.correction_reason},
    )
    return session


# The consult of a booking.


def consult_open(*, case: Case) -> Consult:
    """The consult of the case's live booking, made when first needed (a page of either side)."""
    booking = live_booking(case.pk)
    if booking is None or case.status not in {*BOOKED_STATES, Status.IN_CONSULT}:
        existing = selectors.consult_of(case)
        if existing is None:
            raise ConsultError(_("This case has no booked consult."), "no_booking")
        return existing
    consult, _created = Consult.objects.get_or_create(
        booking=booking,
        defaults={
            "case": case,
            "specialist_id": booking.specialist_id,
            "mode": booking.mode,
            "planned_minutes": case.planned_minutes or 30,
        },
    )
    return consult


def _locked(consult_id: int) -> Consult:
    return Consult.objects.select_for_update().select_related("case", "booking").get(pk=consult_id)


def side_of(user: User, consult: Consult) -> Side | None:
    """The patient's side (the applicant or the patient's own account) or the hospital (the
    booked specialist); None for anyone else."""
    if actor_of(user, consult.case) is Actor.APPLICANT:
        return Side.PATIENT
    if user.pk == consult.specialist_id:
        return Side.HOSPITAL
    return None


class Joined(StrEnum):
    ENTERED = "entered"
    RECONNECTED = "reconnected"
    TOOK_OVER = "took_over"
    REFUSED = "refused"


def _check_room(consult: Consult, now: datetime) -> None:
    if consult.state in (ConsultState.ENDED, ConsultState.NO_SHOW):
        raise ConsultError(_("This consult has ended."), "ended")
    if consult.mode != Mode.ONLINE:
        raise ConsultError(_("This consult is at the hospital, not online."), "in_person")
    if consult.case.status not in (Status.READY, Status.IN_CONSULT):
        raise ConsultError(
            _("The waiting room opens once every step before the consult is done."), "not_ready"
        )
    opens = settings.CONSULT_ROOM_OPENS_MINUTES
    if clock.room_state(
        now=now, starts_at=consult.booking.starts_at, open_before_minutes=opens
    ) is (clock.Room.NOT_YET):
        raise ConsultError(_("The waiting room is not open yet."), "not_open")


@transaction.atomic
def patient_join(
    *, consult_id: int, user: User, channel: str, device: str, takeover: bool = False
) -> tuple[Joined, str]:
    """A patient-side connection asks to join. Only one is allowed (SPEC §7): a second device
    is refused unless the person confirms a takeover; the same device (a reload) reconnects.
    Returns the outcome and the channel to close (the device taken over), if any."""
    consult = _locked(consult_id)
    if side_of(user, consult) is not Side.PATIENT:
        raise ConsultError(_("Only the patient's side joins here."), "not_allowed")
    now = _now()
    _check_room(consult, now)
    live = consult.patient_connected(now, selectors.STALE_AFTER)
    other_device = live and consult.patient_device != device
    if other_device and not takeover:
        _event(consult, EventKind.REFUSED_DEVICE, Side.PATIENT, user, device=device[:16])
        return Joined.REFUSED, ""
    old = consult.patient_channel if live and consult.patient_channel != channel else ""
    if other_device:
        outcome, kind = Joined.TOOK_OVER, EventKind.TAKEN_OVER
    elif consult.events.filter(kind=EventKind.ENTERED).exists():
        outcome, kind = Joined.RECONNECTED, EventKind.RECONNECTED
    else:
        outcome, kind = Joined.ENTERED, EventKind.ENTERED
    consult.patient_channel, consult.patient_device, consult.patient_seen_at = channel, device, now
    consult.save(update_fields=["patient_channel", "patient_device", "patient_seen_at"])
    _event(consult, kind, Side.PATIENT, user, device=device[:16])
    return outcome, old


@transaction.atomic
def hospital_join(*, consult_id: int, user: User, channel: str) -> str:
    """The specialist's connection; a newer one (a reload, another tab) replaces the older.
    Returns the channel it replaces, if any."""
    consult = _locked(consult_id)
    if side_of(user, consult) is not Side.HOSPITAL:
        raise ConsultError(_("Only the booked specialist joins here."), "not_allowed")
    if consult.state in (ConsultState.ENDED, ConsultState.NO_SHOW):
        raise ConsultError(_("This consult has ended."), "ended")
    old = consult.hospital_channel if consult.hospital_channel != channel else ""
    consult.hospital_channel = channel
    consult.save(update_fields=["hospital_channel"])
    return old


def heard_from(*, consult_id: int, channel: str) -> None:
    """A patient-side heartbeat: the connection is alive (no lock, one UPDATE)."""
    Consult.objects.filter(pk=consult_id, patient_channel=channel).update(patient_seen_at=_now())


@transaction.atomic
def leave(*, consult_id: int, channel: str, user: User) -> Side | None:
    """A connection closed. Returns the side that left, if it was the current one."""
    consult = _locked(consult_id)
    if channel and consult.patient_channel == channel:
        consult.patient_channel, consult.patient_seen_at = "", None
        consult.save(update_fields=["patient_channel", "patient_seen_at"])
        _event(consult, EventKind.LEFT, Side.PATIENT, user)
        return Side.PATIENT
    if channel and consult.hospital_channel == channel:
        consult.hospital_channel = ""
        consult.save(update_fields=["hospital_channel"])
        _event(consult, EventKind.LEFT, Side.HOSPITAL, user)
        return Side.HOSPITAL
    return None


def _require_specialist(consult: Consult, user: User) -> None:
    if side_of(user, consult) is not Side.HOSPITAL:
        raise ConsultError(_("Only the booked specialist can do this."), "not_allowed")


@transaction.atomic
def message_post(*, consult_id: int, user: User, text: str) -> ChatMessage:
    """A short text: the specialist to the waiting patient, or either side during the call."""
    consult = _locked(consult_id)
    side = side_of(user, consult)
    text = " ".join(text.split())
    if side is None:
        raise ConsultError(_("Only the consult's two sides write here."), "not_allowed")
    if not text or len(text) > MAX_TEXT:
        raise ConsultError(_("A message has 1 to 500 characters."), "text")
    if consult.state in (ConsultState.ENDED, ConsultState.NO_SHOW):
        raise ConsultError(_("This consult has ended."), "ended")
    if side is Side.PATIENT and consult.state == ConsultState.WAITING:
        raise ConsultError(_("Please wait: the doctor will call you."), "waiting")
    return ChatMessage.objects.create(consult=consult, at=_now(), side=side, user=user, text=text)


@transaction.atomic
def call_in(*, consult_id: int, user: User) -> Consult:
    """The specialist calls the waiting patient in: only the hospital side starts (§11.4)."""
    consult = _locked(consult_id)
    _require_specialist(consult, user)
    if consult.state != ConsultState.WAITING:
        raise ConsultError(_("The patient has already been called in."), "state")
    if not consult.patient_connected(_now(), selectors.STALE_AFTER):
        raise ConsultError(_("The patient is not in the waiting room."), "not_waiting")
    consult.state = ConsultState.CALLED
    consult.save(update_fields=["state"])
    _event(consult, EventKind.CALLED_IN, Side.HOSPITAL, user)
    return consult


def _clean_people(people: object) -> list[str]:
    if not isinstance(people, list) or not 1 <= len(people) <= MAX_PRESENT:
        raise ConsultError(_("Name everyone present (at least one person)."), "people")
    cleaned = [" ".join(str(person).split()) for person in people if isinstance(person, str)]
    if len(cleaned) != len(people) or not all(0 < len(p) <= MAX_NAME for p in cleaned):
        raise ConsultError(_("Name everyone present (at least one person)."), "people")
    return cleaned


@transaction.atomic
def confirm_present(*, consult_id: int, user: User, people: object) -> Consult:
    """Each side confirms who is present before the call starts (SPEC §11.5)."""
    consult = _locked(consult_id)
    side = side_of(user, consult)
    if side is None:
        raise ConsultError(_("Only the consult's two sides confirm."), "not_allowed")
    if consult.state != ConsultState.CALLED:
        raise ConsultError(_("Who is present is confirmed when the doctor calls you in."), "state")
    names = _clean_people(people)
    if side is Side.PATIENT:
        consult.present_patient_side, consult.patient_confirmed_at = names, _now()
        fields = ["present_patient_side", "patient_confirmed_at"]
    else:
        consult.present_hospital_side, consult.hospital_confirmed_at = names, _now()
        fields = ["present_hospital_side", "hospital_confirmed_at"]
    consult.save(update_fields=fields)
    _event(consult, EventKind.PRESENT, side, user, people=names)
    audit_record(
        action=AuditAction.UPDATE,
        user=user,
        case_id=consult.case_id,
        obj=consult,
        detail={"present": side.value, "people": len(names)},
    )
    return consult


def _start(consult: Consult, case: Case, actor: User, request: HttpRequest | None) -> None:
    """Start the clock of a call or a visit: the review ends, its time is frozen."""
    now = _now()
    _close_review(case, now)
    consult.review_seconds = selectors.review_seconds(case)
    consult.started_at = now
    consult.limit_at = clock.call_limit(
        started_at=now,
        review_seconds=consult.review_seconds,
        limit_seconds=selectors.limits()["limit_seconds"],
    )
    consult.state = ConsultState.IN_CALL
    consult.save(update_fields=["review_seconds", "started_at", "limit_at", "state"])
    case_transition(
        case=case,
        to=Status.IN_CONSULT,
        actor=actor,
        request=request,
        detail={"consult": consult.pk, "review_seconds": consult.review_seconds},
    )
    _event(consult, EventKind.STARTED, Side.HOSPITAL, actor, limit_at=consult.limit_at.isoformat())


@transaction.atomic
def call_start(*, consult_id: int, user: User) -> Consult:
    """ready → in_consult: both sides have confirmed who is present; the clock starts."""
    consult = Consult.objects.get(pk=consult_id)
    case = case_lock(consult.case_id)
    consult = _locked(consult_id)
    _require_specialist(consult, user)
    if consult.state != ConsultState.CALLED:
        raise ConsultError(_("Call the patient in first."), "state")
    if consult.patient_confirmed_at is None or consult.hospital_confirmed_at is None:
        raise ConsultError(_("Both sides confirm who is present before the call."), "present")
    if not consult.patient_connected(_now(), selectors.STALE_AFTER):
        raise ConsultError(_("The patient is not connected."), "not_waiting")
    _start(consult, case, user, None)
    tasks.schedule_limit(consult)
    return consult


def _end(consult: Consult, case: Case, actor: User | None, reason: EndReason) -> None:
    now = _now()
    ended = min(now, consult.limit_at) if reason == EndReason.LIMIT and consult.limit_at else now
    consult.ended_at, consult.end_reason, consult.state = ended, reason, ConsultState.ENDED
    consult.patient_channel, consult.patient_seen_at, consult.hospital_channel = "", None, ""
    consult.save(
        update_fields=[
            "ended_at",
            "end_reason",
            "state",
            "patient_channel",
            "patient_seen_at",
            "hospital_channel",
        ]
    )
    case_transition(
        case=case,
        to=Status.COMPLETED,
        actor=actor,
        detail={
            "consult": consult.pk,
            "call_seconds": consult.call_seconds,
            "review_seconds": consult.review_seconds,
            "billable_minutes": clock.billable_minutes(
                consult.review_seconds, consult.call_seconds
            ),
            "end": reason.value,
        },
    )
    _event(
        consult,
        EventKind.ENDED,
        Side.HOSPITAL if actor else Side.SYSTEM,
        actor,
        reason=reason.value,
    )
    # The fee, in the same transaction: a completed consult always has exactly one charge.
    charge_open(
        case=case,
        consult_id=consult.pk,
        review_seconds=consult.review_seconds,
        call_seconds=consult.call_seconds,
        ended_at=ended,
        actor=actor,
    )


@transaction.atomic
def call_end(*, consult_id: int, user: User | None, reason: EndReason) -> Consult:
    """in_consult → completed: the specialist ends the call, or the server does at the limit.
    Ending twice changes nothing (both sides' pages and the task may try)."""
    consult = Consult.objects.get(pk=consult_id)
    case = case_lock(consult.case_id)
    consult = _locked(consult_id)
    if reason != EndReason.LIMIT:
        if user is None:
            raise ConsultError(_("Only the booked specialist can do this."), "not_allowed")
        _require_specialist(consult, user)
    if consult.state != ConsultState.IN_CALL:
        return consult
    if reason == EndReason.LIMIT:
        if consult.limit_at is None or _now() < consult.limit_at:
            raise ConsultError(_("The time limit has not been reached."), "not_yet")
        user = None  # the server ends it
    _end(consult, case, user, reason)
    return consult


@transaction.atomic
def warning_given(*, consult_id: int, kind: clock.Warning) -> bool:
    """Record, once, that both sides were warned of the time. False if already recorded."""
    consult = _locked(consult_id)
    if consult.events.filter(kind=EventKind.WARNED, detail__kind=kind.value).exists():
        return False
    _event(consult, EventKind.WARNED, Side.SYSTEM, kind=kind.value)
    return True


@transaction.atomic
def notes_save(*, consult_id: int, user: User, text: str) -> Consult:
    """The specialist's notes, saved continuously during the call (and after it)."""
    consult = _locked(consult_id)
    _require_specialist(consult, user)
    if len(text) > MAX_NOTES:
        raise ConsultError(_("The notes are too long."), "text")
    if consult.state == ConsultState.NO_SHOW:
        raise ConsultError(_("This consult did not take place."), "state")
    consult.notes, consult.notes_saved_at = text, _now()
    consult.save(update_fields=["notes", "notes_saved_at"])
    audit_record(
        action=AuditAction.UPDATE,
        user=user,
        case_id=consult.case_id,
        obj=consult,
        detail={"notes_chars": len(text)},
    )
    return consult


# In person (SPEC §8: the same lifecycle and fee without the video parts).


@transaction.atomic
def visit_start(*, case_id: int, actor: User, request: HttpRequest | None = None) -> Consult:
    """ready → in_consult for an in-person consult: the specialist records the start."""
    case = case_lock(case_id)
    _require_department_specialist(actor, case)
    if case.mode != Mode.IN_PERSON:
        raise ConsultError(_("An online consult starts from the waiting room."), "online")
    consult = _locked(consult_open(case=case).pk)
    if case.status != Status.READY or consult.state != ConsultState.WAITING:
        raise ConsultError(_("This consult cannot start now."), "state")
    consult.hospital_confirmed_at = consult.patient_confirmed_at = _now()
    consult.save(update_fields=["hospital_confirmed_at", "patient_confirmed_at"])
    _start(consult, case, actor, request)
    return consult


@transaction.atomic
def visit_end(*, case_id: int, actor: User, request: HttpRequest | None = None) -> Consult:
    case = case_lock(case_id)
    _require_department_specialist(actor, case)
    consult = selectors.consult_of(case)
    if consult is None or consult.mode != Mode.IN_PERSON:
        raise ConsultError(_("There is no visit to end."), "state")
    consult = _locked(consult.pk)
    if consult.state != ConsultState.IN_CALL:
        raise ConsultError(_("The visit has not started."), "state")
    _end(consult, case, actor, EndReason.STAFF)
    return consult


# The patient did not come.


@transaction.atomic
def no_show(*, case_id: int, actor: User, request: HttpRequest | None = None) -> Case:
    """booked/ready → no_show: a coordinator's decision once the booked time has passed without
    the consult starting. The booking is released."""
    case = case_lock(case_id)
    if actor.role != Role.COORDINATOR:
        raise ConsultError(_("Only the second-opinion coordinators record a no-show."))
    booking = live_booking(case.pk)
    if booking is None or case.status not in BOOKED_STATES:
        raise ConsultError(_("This case has no booked consult."), "no_booking")
    if _now() < booking.ends_at:
        raise ConsultError(_("The booked time has not passed yet."), "not_yet")
    consult = Consult.objects.select_for_update().filter(booking=booking).first()
    if consult is not None and consult.state in (ConsultState.IN_CALL, ConsultState.ENDED):
        raise ConsultError(_("This consult took place."), "state")
    case_transition(case=case, to=Status.NO_SHOW, actor=actor, request=request)
    if consult is not None:
        consult.state = ConsultState.NO_SHOW
        consult.save(update_fields=["state"])
        _event(consult, EventKind.NO_SHOW, Side.HOSPITAL, actor)
    release_for_closed_case(case=case, actor=actor)
    return case
