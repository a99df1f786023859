"""Slots as the hospital sees them: generated from the catalog and each specialist's exceptions,
with the holds and bookings laid over them; and where a consult of a case's length fits."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from opiniondesk.accounts.models import Role, User
from opiniondesk.catalog.closed_days import next_open_day
from opiniondesk.catalog.models import Department
from opiniondesk.catalog.selectors import year_end_closure
from opiniondesk.core.time import JST
from opiniondesk.scheduling import slots as slot_rules
from opiniondesk.scheduling.models import (
    Away,
    BookedSlot,
    Booking,
    ExtraSession,
    HeldSlot,
    Offer,
    OfferedSlot,
)


class SlotState(StrEnum):
    FREE = "free"  # 空き
    HELD = "held"  # 候補日として提示中
    BOOKED = "booked"  # 予約済


@dataclass(frozen=True)
class SlotView:
    """A 30-minute slot of the calendar, or (from `department_consults`) a whole consult that
    fits. A held or booked slot names the consult that claims it: `consult_starts_at`–
    `consult_ends_at`, two slots long for a 60-minute one."""

    specialist_id: int
    specialist_name: str
    department_id: int
    starts_at: datetime
    ends_at: datetime
    state: SlotState = SlotState.FREE
    case_id: int | None = None
    consult_starts_at: datetime | None = None
    consult_ends_at: datetime | None = None

    @property
    def key(self) -> str:
        """How a form names this slot: specialist and start, e.g. `12@2026-12-01T14:00`."""
        return f"{self.specialist_id}@{self.starts_at.astimezone(JST):%Y-%m-%dT%H:%M}"

    @property
    def consult_minutes(self) -> int | None:
        """The length of the consult that claims this slot."""
        if self.consult_starts_at is None or self.consult_ends_at is None:
            return None
        return int((self.consult_ends_at - self.consult_starts_at).total_seconds()) // 60

    @property
    def continues(self) -> bool:
        """A later slot of a consult that began in an earlier one."""
        return self.consult_starts_at is not None and self.consult_starts_at < self.starts_at


def parse_slot_key(key: str) -> tuple[int, datetime]:
    """The inverse of `SlotView.key`; ValueError for anything else."""
    specialist, _, moment = key.partition("@")
    if not specialist.isdigit() or len(moment) != 16:
        raise ValueError(f"not a slot: {key!r}")
    starts_at = datetime.strptime(moment, "%Y-%m-%dT%H:%M").replace(tzinfo=JST)
    return int(specialist), starts_at


def specialists_of(department: Department) -> QuerySet[User]:
    return User.objects.filter(
        role=Role.SPECIALIST, is_active=True, departments=department
    ).order_by("last_name", "first_name", "pk")


def _weekly(department: Department) -> list[slot_rules.WeeklyHours]:
    return [
        slot_rules.WeeklyHours(hours.weekday, hours.starts_at, hours.ends_at)
        for hours in department.consult_hours.all()
    ]


def specialist_slots(
    *,
    department: Department,
    specialist: User,
    start: date,
    end: date,
    weekly: Sequence[slot_rules.WeeklyHours] | None = None,
) -> list[slot_rules.Slot]:
    """Every slot of this specialist in this department between two days, inclusive."""
    away = [
        slot_rules.Away(a.day, a.starts_at, a.ends_at)
        for a in Away.objects.filter(specialist=specialist, day__range=(start, end))
    ]
    extra = [
        slot_rules.ExtraSession(e.day, e.starts_at, e.ends_at)
        for e in ExtraSession.objects.filter(
            specialist=specialist, department=department, day__range=(start, end)
        )
    ]
    return slot_rules.generate_slots(
        weekly=_weekly(department) if weekly is None else weekly,
        start=start,
        end=end,
        away=away,
        extra=extra,
        year_end=year_end_closure(),
    )


class Fit(StrEnum):
    """Whether a consult of a given length may start at a given moment."""

    FITS = "fits"
    NO_SLOT = "no_slot"  # no slot of the specialist starts then
    TOO_LONG = "too_long"  # a slot starts then, but the consult time ends or breaks too soon


def consult_fit(
    *, department: Department, specialist: User, starts_at: datetime, minutes: int
) -> Fit:
    """Whether a consult of `minutes` of this specialist for this department may start at
    `starts_at`: all its slots exist, one after the other (`slots.consult_starts`)."""
    day = starts_at.astimezone(JST).date()
    slots = specialist_slots(department=department, specialist=specialist, start=day, end=day)
    if not any(slot.starts_at == starts_at for slot in slots):
        return Fit.NO_SLOT
    fits = slot_rules.consult_starts(slots, minutes=minutes)
    return Fit.FITS if any(fit.starts_at == starts_at for fit in fits) else Fit.TOO_LONG


def slots_claimed(specialist_id: int, starts: Sequence[datetime], *, case_id: int) -> bool:
    """Whether any of these slots is held or booked for another case.

    This case's own booking does not count: a move gives its slots back before it takes the new
    ones. A hold whose time has run out no longer counts, even before its expiry task has run:
    its case can no longer book the slot (`services._held_slot`)."""
    held = (
        HeldSlot.objects.filter(
            specialist_id=specialist_id,
            starts_at__in=starts,
            released_at__isnull=True,
            offered_slot__offer__hold_until__gt=timezone.now(),
        )
        .exclude(offered_slot__offer__case_id=case_id)
        .exists()
    )
    booked = (
        BookedSlot.objects.filter(
            specialist_id=specialist_id, starts_at__in=starts, released_at__isnull=True
        )
        .exclude(booking__case_id=case_id)
        .exists()
    )
    return held or booked


Claim = tuple[SlotState, int, datetime, datetime]  # the case, and its consult's start and end


def _claims(
    specialist_ids: Iterable[int], start: date, end: date
) -> dict[tuple[int, datetime], Claim]:
    lower = datetime.combine(start, datetime.min.time(), tzinfo=JST)
    upper = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=JST)
    window = {
        "specialist_id__in": list(specialist_ids),
        "released_at__isnull": True,
        "starts_at__gte": lower,
        "starts_at__lt": upper,
    }
    claims: dict[tuple[int, datetime], Claim] = {}
    holds = HeldSlot.objects.filter(**window).values_list(
        "specialist_id",
        "starts_at",
        "offered_slot__offer__case_id",
        "offered_slot__starts_at",
        "offered_slot__ends_at",
    )
    for specialist_id, starts_at, *claim in holds:
        claims[(specialist_id, starts_at)] = (SlotState.HELD, *claim)
    bookings = BookedSlot.objects.filter(**window).values_list(
        "specialist_id", "starts_at", "booking__case_id", "booking__starts_at", "booking__ends_at"
    )
    for specialist_id, starts_at, *claim in bookings:  # a booking outranks its own hold
        claims[(specialist_id, starts_at)] = (SlotState.BOOKED, *claim)
    return claims


def department_slots(
    *, department: Department, start: date, end: date, specialist: User | None = None
) -> list[SlotView]:
    """The slots of a department's specialists (or one of them), with their state, by time."""
    specialists = [specialist] if specialist is not None else list(specialists_of(department))
    weekly = _weekly(department)
    claims = _claims((s.pk for s in specialists), start, end)
    views = []
    for person in specialists:
        name = person.get_full_name() or person.username
        for slot in specialist_slots(
            department=department, specialist=person, start=start, end=end, weekly=weekly
        ):
            state, case_id, consult_starts_at, consult_ends_at = claims.get(
                (person.pk, slot.starts_at), (SlotState.FREE, None, None, None)
            )
            views.append(
                SlotView(
                    person.pk,
                    name,
                    department.pk,
                    slot.starts_at,
                    slot.ends_at,
                    state,
                    case_id,
                    consult_starts_at,
                    consult_ends_at,
                )
            )
    views.sort(key=_by_time)
    return views


def _by_time(view: SlotView) -> tuple[datetime, str, int]:
    return view.starts_at, view.specialist_name, view.specialist_id


def department_consults(
    *,
    department: Department,
    start: date,
    end: date,
    minutes: int,
    specialist: User | None = None,
    case_id: int | None = None,
) -> list[SlotView]:
    """Where a consult of `minutes` fits in the free slots of the department's specialists (or
    of one), each as the whole consult, by time. The slots of `case_id`'s own booking count as
    free: a coordinator may move it by half an hour."""
    by_specialist: defaultdict[int, list[SlotView]] = defaultdict(list)
    for view in department_slots(
        department=department, start=start, end=end, specialist=specialist
    ):
        by_specialist[view.specialist_id].append(view)
    fits = []
    for views in by_specialist.values():
        taken = {
            view.starts_at
            for view in views
            if view.state is not SlotState.FREE
            and not (
                case_id is not None and view.state is SlotState.BOOKED and view.case_id == case_id
            )
        }
        slots = [slot_rules.Slot(view.starts_at, view.ends_at) for view in views]
        first = views[0]
        fits += [
            SlotView(
                first.specialist_id,
                first.specialist_name,
                department.pk,
                fit.starts_at,
                fit.ends_at,
            )
            for fit in slot_rules.consult_starts(slots, minutes=minutes, taken=taken)
        ]
    fits.sort(key=_by_time)
    return fits


def earliest_offer_day(today: date) -> date:
    """Candidate dates start this many days ahead, so the patient can book and prepare, and
    after the desk's next open day: their hold ends on a day the patient can call (SPEC §5),
    at the latest the day before them, so offering Monday's dates on a Friday cannot work."""
    next_desk_day = next_open_day(today + timedelta(days=1), year_end=year_end_closure())
    return max(
        today + timedelta(days=settings.SCHEDULING_MIN_LEAD_DAYS),
        next_desk_day + timedelta(days=1),
    )


# Suggestions are looked for two weeks at a time: the earliest free consults are nearly always in
# the first weeks, and the whole horizon (SCHEDULING_HORIZON_DAYS, 120 days) of every specialist
# of the department costs ten times as much. A consult never spans two days, so the windows
# find exactly what one pass over the horizon would.
SUGGESTION_WINDOW_DAYS = 14


def suggest_slots(
    *,
    department: Department,
    today: date,
    minutes: int = slot_rules.SLOT_MINUTES,
    limit: int = 12,
    specialist: User | None = None,
) -> list[SlotView]:
    """The earliest consults of `minutes` that fit in free slots, from the first day candidate
    dates may fall on; each covers the whole consult."""
    start = earliest_offer_day(today)
    end = today + timedelta(days=settings.SCHEDULING_HORIZON_DAYS)
    fits: list[SlotView] = []
    while start <= end and len(fits) < limit:
        window_end = min(start + timedelta(days=SUGGESTION_WINDOW_DAYS - 1), end)
        fits += department_consults(
            department=department,
            start=start,
            end=window_end,
            minutes=minutes,
            specialist=specialist,
        )
        start = window_end + timedelta(days=1)
    return fits[:limit]


def open_offer(case_id: int) -> Offer | None:
    return (
        Offer.objects.filter(case_id=case_id, released_at__isnull=True)
        .prefetch_related("slots__specialist", "slots__department")
        .first()
    )


def live_booking(case_id: int) -> Booking | None:
    return (
        Booking.objects.filter(case_id=case_id, cancelled_at__isnull=True)
        .select_related("specialist", "department")
        .first()
    )


def open_offers_by_case(case_ids: Iterable[int]) -> dict[int, Offer]:
    """Each case's open offer, for a list of cases in one query (the dashboard)."""
    by_case: dict[int, Offer] = {}
    for offer in Offer.objects.filter(case_id__in=list(case_ids), released_at__isnull=True):
        by_case.setdefault(offer.case_id, offer)  # the newest, as open_offer() reads it
    return by_case


def live_bookings_by_case(case_ids: Iterable[int]) -> dict[int, Booking]:
    """Each case's live booking, for a list of cases in one query (the dashboard)."""
    bookings = Booking.objects.filter(case_id__in=list(case_ids), cancelled_at__isnull=True)
    return {booking.case_id: booking for booking in bookings}


def bookable_slots(
    offer: Offer | None, *, exclude_booked: Booking | None = None
) -> list[OfferedSlot]:
    """The offered slots still held for the case (minus the one it is booked in)."""
    if offer is None:
        return []
    held = [slot for slot in offer.slots.all() if slot.released_at is None]
    if exclude_booked is not None:
        held = [
            slot
            for slot in held
            if (slot.specialist_id, slot.starts_at)
            != (exclude_booked.specialist_id, exclude_booked.starts_at)
        ]
    return held


def choosable_slots(
    offer: Offer | None, *, now: datetime, exclude: Booking | None = None
) -> list[OfferedSlot]:
    """Held slots the patient may still pick online: the hold runs and the slot's deadline too."""
    if offer is None or offer.hold_until <= now:
        return []
    return [
        slot
        for slot in bookable_slots(offer, exclude_booked=exclude)
        if slot_rules.may_patient_change(slot.starts_at, now)
    ]


def open_offer_id(case_id: int) -> int | None:
    return (
        Offer.objects.filter(case_id=case_id, released_at__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )


def live_booking_id(case_id: int) -> int | None:
    return (
        Booking.objects.filter(case_id=case_id, cancelled_at__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )


def booking_history(case_id: int) -> list[Booking]:
    """Every booking the case had, live, moved or cancelled, oldest first."""
    return list(
        Booking.objects.filter(case_id=case_id)
        .select_related("specialist", "department", "booked_by", "cancelled_by")
        .order_by("booked_at", "pk")
    )
