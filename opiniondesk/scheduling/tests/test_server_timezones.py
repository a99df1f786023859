"""A server set to another time zone (Django's TIME_ZONE and the process's TZ) changes nothing:
the calendar gives Japan's consult days at Japan's hours and never a closed day, and the patient's
online changes end at midnight in Japan (SPEC §2, §5).

The pure rules are checked in `test_slots.py` and `test_deadline.py`; here the selectors and the
services run against the database with the server in UTC or in Los Angeles. The expected calendar
is written out from the demo catalog of SPEC §2 and the `holidays` library, not taken from the
code under test.
"""

import os
import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from opiniondesk.accounts.models import Role
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.models import Department
from opiniondesk.catalog.selectors import patient_deadline
from opiniondesk.core.time import JST, jst_today
from opiniondesk.scheduling.selectors import SlotState, department_slots, suggest_slots
from opiniondesk.scheduling.services import (
    PastDeadline,
    booking_cancel,
    booking_change,
    booking_create,
    offer_create,
)
from opiniondesk.scheduling.tests import factories
from opiniondesk.scheduling.tests.factories import held, snapshot
from opiniondesk.testing.personas import make_user

pytestmark = pytest.mark.django_db

MON, TUE, WED, THU, FRI = range(5)
# SPEC §2, demo catalog: consult days and hours in Japan.
SESSIONS = {
    "cardiology": ([TUE, THU], 14, 16),
    "gastroenterology": ([MON, WED], 13, 15),
    "geriatrics": ([FRI], 10, 12),
    "breast_surgery": ([MON, THU], 15, 17),
    "neurology": ([WED], 14, 16),
}
SLOW = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def closed(day: date) -> bool:
    """Weekends, national holidays (substitute and citizens' ones too), 29 Dec – 3 Jan."""
    return (
        day.weekday() >= 5
        or day in holidays.Japan(years=day.year)
        or (day.month, day.day) >= (12, 29)
        or (day.month, day.day) <= (1, 3)
    )


def expected_starts(code: str, start: date, end: date) -> list[datetime]:
    weekdays, first, last = SESSIONS[code]
    starts = []
    for ordinal in range(start.toordinal(), end.toordinal() + 1):
        day = date.fromordinal(ordinal)
        if day.weekday() in weekdays and not closed(day):
            for half_hours in range(first * 2, last * 2):
                moment = time(half_hours // 2, 30 * (half_hours % 2))
                starts.append(datetime.combine(day, moment, tzinfo=JST))
    return starts


@pytest.fixture(params=["UTC", "America/Los_Angeles"])
def server_zone(request, settings):
    """Django's TIME_ZONE and the process's local zone both set away from Japan."""
    zone = request.param
    settings.TIME_ZONE = zone
    saved = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time_module.tzset()
    try:
        yield ZoneInfo(zone)
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time_module.tzset()


@pytest.fixture
def specialists(personas, server_zone):
    """A specialist in each department (Tanaka and Kato in cardiology, Mori in neurology)."""
    for code in SESSIONS:
        if code not in ("cardiology", "neurology"):
            make_user(f"dr_{code}", Role.SPECIALIST, code)
    return personas


def test_the_server_really_is_elsewhere(server_zone):
    moment = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 14:00 in Japan
    assert timezone.get_current_timezone() == server_zone
    assert timezone.localtime(moment).utcoffset() != timedelta(hours=9)
    assert time_module.localtime(moment.timestamp()).tm_gmtoff != 9 * 3600


days = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))


@SLOW
@given(code=st.sampled_from(sorted(SESSIONS)), start=days, length=st.integers(0, 45))
@example(code="cardiology", start=date(2026, 12, 20), length=20)  # the year end
@example(code="gastroenterology", start=date(2027, 4, 26), length=14)  # Golden Week
@example(code="cardiology", start=date(2026, 9, 20), length=5)  # 国民の休日 on a Tuesday
def test_the_calendar_is_japans_whatever_the_servers_zone(specialists, code, start, length):
    end = start + timedelta(days=length)
    department = Department.objects.get(code=code)

    views = department_slots(department=department, start=start, end=end)

    per_specialist = 2 if code == "cardiology" else 1
    want = [s for s in expected_starts(code, start, end) for _ in range(per_specialist)]
    assert [v.starts_at for v in views] == want
    for view in views:
        local = view.starts_at.astimezone(JST)
        assert view.starts_at.utcoffset() == timedelta(hours=9)
        assert not closed(local.date())
        assert local.weekday() in SESSIONS[code][0]
        assert view.ends_at - view.starts_at == timedelta(minutes=30)
        assert view.key.endswith(f"{local:%Y-%m-%dT%H:%M}")


@SLOW
@given(today=days, hour=st.integers(0, 23))
@example(today=date(2026, 12, 24), hour=23)
def test_suggestions_start_two_japanese_days_ahead(specialists, today, hour):
    """Two days ahead, and after the phone desk's next open day (the hold ends on a day the
    patient can call, SPEC §5)."""
    # The server's clock: `hour` o'clock in Japan on `today` — another date in UTC or LA.
    cardiology = Department.objects.get(code="cardiology")
    with time_machine.travel(datetime.combine(today, time(hour), tzinfo=JST), tick=False):
        views = suggest_slots(department=cardiology, today=jst_today(), limit=20)

    desk_day = today + timedelta(days=1)
    while closed(desk_day):
        desk_day += timedelta(days=1)
    first_day = max(today + timedelta(days=2), desk_day + timedelta(days=1))
    want = expected_starts("cardiology", first_day, today + timedelta(days=120))
    assert [v.starts_at for v in views] == sorted(want * 2)[:20]
    assert all(v.state is SlotState.FREE for v in views)
    assert all(v.starts_at.astimezone(JST).date() >= first_day for v in views)


def open_cardiology_days() -> list[date]:
    day, found = date(2026, 12, 1), []
    while day < date(2027, 12, 31):
        if day.weekday() in (TUE, THU) and not closed(day):
            found.append(day)
        day += timedelta(days=1)
    return found


CONSULT_DAYS = open_cardiology_days()
SIX_HOURS = 6 * 3600 * 10**6  # microseconds


@SLOW
@given(
    index=st.integers(0, len(CONSULT_DAYS) - 2),
    offset=st.integers(-SIX_HOURS, SIX_HOURS),
    action=st.sampled_from(["cancel", "change"]),
)
@example(index=0, offset=-1, action="cancel")  # 23:59:59.999999 the day before: allowed
@example(index=0, offset=-(10**6), action="change")  # 23:59:59
@example(index=0, offset=0, action="cancel")  # 00:00 of the consult day: refused
@example(index=0, offset=0, action="change")
def test_the_patient_is_refused_from_midnight_in_japan(specialists, index, offset, action):
    tanaka, hana, sato = (
        specialists[name] for name in ("dr_tanaka", "patient_hana", "coordinator_sato")
    )
    day, later_day = CONSULT_DAYS[index], CONSULT_DAYS[index + 1]
    first = datetime.combine(day, time(14), tzinfo=JST)
    second = datetime.combine(later_day, time(14), tzinfo=JST)
    midnight = datetime.combine(day, time(), tzinfo=JST)
    now = midnight + timedelta(microseconds=offset)

    with transaction.atomic():  # each example starts afresh
        with time_machine.travel(midnight - timedelta(days=7), tick=False):
            case = factories.accepted_case(hana, coordinator=sato, specialist=tanaka)
            offer = offer_create(
                case_id=case.pk,
                actor=sato,
                slots=[(tanaka.pk, first), (tanaka.pk, second)],
                # The desk's last moment before the later date (SPEC §5).
                hold_until=patient_deadline(
                    datetime.combine(later_day, time(), tzinfo=JST) - timedelta(microseconds=1)
                ),
            )
            booking_create(case_id=case.pk, actor=hana, offered_slot_id=held(offer)[0].pk)
        with time_machine.travel(now, tick=False):
            before = snapshot()
            try:
                if action == "cancel":
                    booking_cancel(case_id=case.pk, actor=hana)
                else:
                    booking_change(case_id=case.pk, actor=hana, offered_slot_id=held(offer)[1].pk)
                allowed = True
            except PastDeadline:
                allowed = False
                assert snapshot() == before
        status = Case.objects.get(pk=case.pk).status
        transaction.set_rollback(True)

    assert allowed is (now < midnight), (now, midnight)
    if allowed:
        assert status == (Status.CANCELLED if action == "cancel" else Status.BOOKED)
    else:
        assert status == Status.BOOKED
