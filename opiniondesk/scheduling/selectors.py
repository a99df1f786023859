"""Slots as the hospital sees them: generated from the catalog and each specialist's exceptions,
with the holds and bookings laid over them."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from opiniondesk.accounts.models import Role, User
from opiniondesk.catalog.models import Department
from opiniondesk.catalog.selectors import year_end_closure
from opiniondesk.core.time import JST
from opiniondesk.scheduling import slots as slot_rules
from opiniondesk.scheduling.models import Away, Booking, ExtraSession, Offer, OfferedSlot


class SlotState(StrEnum):
    FREE = "free"  # 空き
    HELD = "held"  # 候補日として提示中
    BOOKED = "booked"  # 予約済


@dataclass(frozen=True)
class SlotView:
    specialist_id: int
    specialist_name: str
    department_id: int
    starts_at: datetime
    ends_at: datetime
    state: SlotState = SlotState.FREE
    case_id: int | None = None

    @property
    def key(self) -> str:
        """How a form names this slot: specialist and start, e.g. `12@2026-12-01T14:00`."""
        return f"{self.specialist_id}@{self.starts_at.astimezone(JST):%Y-%m-%dT%H:%M}"


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


def is_slot_of(*, department: Department, specialist: User, starts_at: datetime) -> bool:
    """Whether this specialist has a slot of this department starting at `starts_at`."""
    day = starts_at.astimezone(JST).date()
    return any(
        slot.starts_at == starts_at
        for slot in specialist_slots(
            department=department, specialist=specialist, start=day, end=day
        )
    )


def slot_claimed(specialist_id: int, starts_at: datetime, *, case_id: int) -> bool:
    """Held for another case, or booked by any live booking (this case's included).

    A hold whose time has run out no longer counts, even before its expiry task has run: its
    case can no longer book the slot (`services._held_slot`)."""
    held = (
        OfferedSlot.objects.filter(
            specialist_id=specialist_id,
            starts_at=starts_at,
            released_at__isnull=True,
            offer__hold_until__gt=timezone.now(),
        )
        .exclude(offer__case_id=case_id)
        .exists()
    )
    booked = Booking.objects.filter(
        specialist_id=specialist_id, starts_at=starts_at, cancelled_at__isnull=True
    ).exists()
    return held or booked


def _claims(
    specialist_ids: Iterable[int], start: date, end: date
) -> dict[tuple[int, datetime], tuple[SlotState, int]]:
    lower = datetime.combine(start, datetime.min.time(), tzinfo=JST)
    upper = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=JST)
    ids = list(specialist_ids)
    claims: dict[tuple[int, datetime], tuple[SlotState, int]] = {}
    holds = OfferedSlot.objects.filter(
        specialist_id__in=ids, released_at__isnull=True, starts_at__gte=lower, starts_at__lt=upper
    ).values_list("specialist_id", "starts_at", "offer__case_id")
    for specialist_id, starts_at, case_id in holds:
        claims[(specialist_id, starts_at)] = (SlotState.HELD, case_id)
    bookings = Booking.objects.filter(
        specialist_id__in=ids, cancelled_at__isnull=True, starts_at__gte=lower, starts_at__lt=upper
    ).values_list("specialist_id", "starts_at", "case_id")
    for specialist_id, starts_at, case_id in bookings:  # a booking outranks its own hold
        claims[(specialist_id, starts_at)] = (SlotState.BOOKED, case_id)
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
            state, case_id = claims.get((person.pk, slot.starts_at), (SlotState.FREE, None))
            views.append(
                SlotView(
                    person.pk, name, department.pk, slot.starts_at, slot.ends_at, state, case_id
                )
            )
    views.sort(key=lambda v: (v.starts_at, v.specialist_name, v.specialist_id))
    return views


def earliest_offer_day(today: date) -> date:
    """Candidate dates start this many days ahead, so the patient can book and prepare."""
    return today + timedelta(days=settings.SCHEDULING_MIN_LEAD_DAYS)


def suggest_slots(
    *, department: Department, today: date, limit: int = 12, specialist: User | None = None
) -> list[SlotView]:
    """The earliest free slots from the first day candidate dates may fall on."""
    start = earliest_offer_day(today)
    end = today + timedelta(days=settings.SCHEDULING_HORIZON_DAYS)
    free = [
        view
        for view in department_slots(
            department=department, start=start, end=end, specialist=specialist
        )
        if view.state is SlotState.FREE
    ]
    return free[:limit]


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
        .select_related("specialist", "booked_by", "cancelled_by")
        .order_by("booked_at", "pk")
    )
