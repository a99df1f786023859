"""Specialists' exceptions to the weekly hours: away periods (不在) and extra sessions (臨時枠).

An exception changes which slots exist, so it must never take away the slot of a live booking or
hold: such a booking would vanish from the calendar while the patient still expects the call.
Every write here locks the specialist's row first, as the booking services do, so a booking
cannot slip in between the check and the write.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.catalog.closed_days import closure
from opiniondesk.catalog.models import Department
from opiniondesk.catalog.selectors import year_end_closure
from opiniondesk.core.time import JST, jst_today
from opiniondesk.scheduling import slots as slot_rules
from opiniondesk.scheduling.models import Away, BookedSlot, ExtraSession, HeldSlot
from opiniondesk.scheduling.selectors import _weekly
from opiniondesk.scheduling.services import SchedulingError


@dataclass(frozen=True)
class Change:
    """An exception about to be added or removed, for `stranded_claims`."""

    add_away: slot_rules.Away | None = None
    drop_away: int | None = None
    add_extra: tuple[int, slot_rules.ExtraSession] | None = None  # (department id, session)
    drop_extra: int | None = None


def _claims_on(specialist_id: int, day: date) -> list[tuple[int, datetime]]:
    """(department id, slot start) of every slot of the specialist's live bookings and holds on
    one day: each slot of a 60-minute consult must stay."""
    lower = datetime.combine(day, time.min, tzinfo=JST)
    window = {
        "specialist_id": specialist_id,
        "released_at__isnull": True,
        "starts_at__gte": lower,
        "starts_at__lt": lower + timedelta(days=1),
    }
    held = HeldSlot.objects.filter(**window).values_list("offered_slot__department_id", "starts_at")
    booked = BookedSlot.objects.filter(**window).values_list("booking__department_id", "starts_at")
    return sorted(set(held) | set(booked))


def _slot_starts(
    specialist_id: int, department: Department, day: date, change: Change
) -> set[datetime]:
    away = [
        slot_rules.Away(a.day, a.starts_at, a.ends_at)
        for a in Away.objects.filter(specialist_id=specialist_id, day=day).exclude(
            pk=change.drop_away
        )
    ]
    extra = [
        slot_rules.ExtraSession(e.day, e.starts_at, e.ends_at)
        for e in ExtraSession.objects.filter(
            specialist_id=specialist_id, department=department, day=day
        ).exclude(pk=change.drop_extra)
    ]
    if change.add_away is not None:
        away.append(change.add_away)
    if change.add_extra is not None and change.add_extra[0] == department.pk:
        extra.append(change.add_extra[1])
    generated = slot_rules.generate_slots(
        weekly=_weekly(department),
        start=day,
        end=day,
        away=away,
        extra=extra,
        year_end=year_end_closure(),
    )
    return {slot.starts_at for slot in generated}


def stranded_claims(*, specialist_id: int, day: date, change: Change) -> list[datetime]:
    """The starts of live bookings and holds whose slot would no longer exist after `change`."""
    claims = _claims_on(specialist_id, day)
    departments = Department.objects.in_bulk({department_id for department_id, __ in claims})
    starts = {
        pk: _slot_starts(specialist_id, department, day, change)
        for pk, department in departments.items()
    }
    return [moment for pk, moment in claims if moment not in starts[pk]]


def _refuse_stranding(specialist_id: int, day: date, change: Change) -> None:
    stranded = stranded_claims(specialist_id=specialist_id, day=day, change=change)
    if stranded:
        times = ", ".join(f"{moment.astimezone(JST):%H:%M}" for moment in stranded)
        raise SchedulingError(
            _("Booked or offered dates fall in this time (%(times)s). Move or cancel them first.")
            % {"times": times}
        )


def _check_common(actor: User, specialist: User, day: date, *, adding: bool = True) -> None:
    if actor.role != Role.COORDINATOR:
        raise SchedulingError(_("Only the second-opinion coordinators can do this."))
    if adding and (specialist.role != Role.SPECIALIST or not specialist.is_active):
        raise SchedulingError(_("Choose one of the specialists."))
    if day < jst_today():
        raise SchedulingError(_("That day has passed."))
    # The offering and moving services lock the specialist too: no new claim slips in during the
    # check. (A booking of a held date needs no lock: its hold is already counted as a claim.)
    User.objects.select_for_update(no_key=True).filter(pk=specialist.pk).first()


def check_extra_session_day(*, specialist: User, department: Department, day: date) -> None:
    """An extra session needs a specialist of the department and an open day: on a closed day
    the slot generator would drop it without a word."""
    if not specialist.departments.filter(pk=department.pk).exists():
        raise SchedulingError(_("This specialist does not see patients of this department."))
    closed = closure(day, year_end=year_end_closure())
    if closed is not None:
        raise SchedulingError(
            _("The hospital is closed on %(day)s, so no consult can be held that day.")
            % {"day": day.isoformat()}
        )


@transaction.atomic
def away_create(
    *,
    actor: User,
    specialist: User,
    day: date,
    starts_at: time | None = None,
    ends_at: time | None = None,
    note: str = "",
    request: HttpRequest | None = None,
) -> Away:
    """The specialist is away on `day` (all day without times). Refused while a booking or a
    hold falls in that time."""
    _check_common(actor, specialist, day)
    try:
        rule = slot_rules.Away(day, starts_at, ends_at)
    except ValueError as exc:
        raise SchedulingError(_("Give both times, the end after the start, or neither.")) from exc
    _refuse_stranding(specialist.pk, day, Change(add_away=rule))
    away = Away.objects.create(
        specialist=specialist, day=day, starts_at=starts_at, ends_at=ends_at, note=note
    )
    audit_record(
        action=AuditAction.CREATE, user=actor, request=request, obj=away, detail=_describe(away)
    )
    return away


@transaction.atomic
def extra_session_create(
    *,
    actor: User,
    specialist: User,
    department: Department,
    day: date,
    starts_at: time,
    ends_at: time,
    note: str = "",
    request: HttpRequest | None = None,
) -> ExtraSession:
    """A one-off session of the specialist for the department, on an open day."""
    _check_common(actor, specialist, day)
    if starts_at >= ends_at:
        raise SchedulingError(_("The end must be after the start."))
    check_extra_session_day(specialist=specialist, department=department, day=day)
    session = ExtraSession.objects.create(
        specialist=specialist,
        department=department,
        day=day,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note,
    )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        obj=session,
        detail=_describe(session),
    )
    return session


@transaction.atomic
def exception_delete(
    *, actor: User, exception: Away | ExtraSession, request: HttpRequest | None = None
) -> None:
    """Remove an upcoming exception. Removing an extra session is refused while a booking or a
    hold lies in it; removing an away period only gives slots back."""
    _check_common(actor, exception.specialist, exception.day, adding=False)
    if isinstance(exception, ExtraSession):
        change = Change(drop_extra=exception.pk)
        _refuse_stranding(exception.specialist_id, exception.day, change)
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        obj=exception,
        detail={"deleted": True, **_describe(exception)},
    )
    exception.delete()


def _describe(exception: Away | ExtraSession) -> dict[str, object]:
    detail: dict[str, object] = {
        "specialist": exception.specialist_id,
        "day": exception.day.isoformat(),
        "from": exception.starts_at.isoformat() if exception.starts_at else None,
        "until": exception.ends_at.isoformat() if exception.ends_at else None,
    }
    if isinstance(exception, ExtraSession):
        detail["department"] = exception.department_id
    return detail
