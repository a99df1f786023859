"""The calendar of consult slots, /staff/schedule/ (SPEC §2, §5): week and month views, closed
days with their reason, free / held / booked slots, case numbers for coordinators only (SPEC §1:
the administrator sees no case data), and the specialists' absences and extra sessions.
"Now" is Wednesday 25 November 2026, 10:00 JST; Monday 23 November was a national holiday."""

from datetime import date, time

import pytest
from django.conf import settings
from django.urls import reverse

from opiniondesk.accounts.models import User
from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.catalog.closed_days import ClosedReason
from opiniondesk.catalog.models import Department
from opiniondesk.scheduling.models import Away, ExtraSession
from opiniondesk.scheduling.selectors import SlotState, department_slots
from opiniondesk.scheduling.services import booking_create
from opiniondesk.scheduling.tests import factories, test_staff_offer
from opiniondesk.scheduling.tests.test_staff_offer import TUE, at, signed_in, written

pytestmark = pytest.mark.django_db

# The fixtures of the offer tests: "now", and the personas.
_now = test_staff_offer._now

URL = reverse("staff-schedule")
WED = date(2026, 12, 2)
THU = date(2026, 12, 3)


@pytest.fixture
def busy(accepted, coordinator_sato, patient_hana, dr_tanaka):
    """Tuesday 1 December: Hana booked Tanaka's 14:00; Kato's 14:00 is still held for her."""
    offer = factories.offer(accepted, coordinator_sato, factories.free_slots(accepted, limit=2))
    booking_create(
        case_id=accepted.pk,
        actor=patient_hana,
        offered_slot_id=offer.slots.get(specialist=dr_tanaka).pk,
    )
    return accepted


def day_of(response, day: date):
    [found] = [d for d in response.context["days"] if d.day == day]
    return found


def states(calendar_day) -> list[tuple[str, str]]:
    return [(e.slot.specialist_name, e.slot.state) for e in calendar_day.entries]


# The calendar.


def test_it_shows_this_week_from_monday_for_the_first_department(coordinator_sato):
    response = signed_in(coordinator_sato).get(URL)

    assert response.status_code == 200
    assert response.context["choice"]["department"].code == "cardiology"
    days = [d.day for d in response.context["days"]]
    assert days == [date(2026, 11, 23 + i) for i in range(7)]
    monday = day_of(response, date(2026, 11, 23))
    assert monday.closure.reason == ClosedReason.NATIONAL_HOLIDAY and not monday.entries
    assert day_of(response, date(2026, 11, 28)).closure.reason == ClosedReason.SATURDAY
    thursday = day_of(response, date(2026, 11, 26))
    assert len(thursday.entries) == 8  # Tanaka and Kato, 14:00–16:00
    html = response.content.decode()
    assert 'data-day="2026-11-23"' in html and "National holiday (Labor Thanksgiving Day)" in html
    assert "勤労感謝の日" not in html  # the holiday is named in the page's language


def test_it_names_a_holiday_in_the_pages_language(coordinator_sato):
    client = signed_in(coordinator_sato)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    html = client.get(URL).content.decode()
    assert "祝日（勤労感謝の日）" in html and "Labor Thanksgiving Day" not in html


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_substitute_holiday_is_named_once(coordinator_sato, language):
    client = signed_in(coordinator_sato)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    # Monday 22 March 2027: the substitute holiday of the equinox (Sunday the 21st).
    response = client.get(URL, {"department": "cardiology", "date": "2027-03-22"})
    monday = day_of(response, date(2027, 3, 22))
    assert monday.closure.reason == ClosedReason.SUBSTITUTE_HOLIDAY
    assert monday.closed_reason == {"en": "Substitute holiday", "ja": "振替休日"}[language]


def test_it_marks_free_held_and_booked_slots_and_links_the_case(busy, coordinator_sato):
    response = signed_in(coordinator_sato).get(
        URL, {"department": "cardiology", "date": "2026-12-01"}
    )

    tuesday = day_of(response, TUE)
    assert states(tuesday)[:3] == [
        ("加藤 大輔", SlotState.HELD),
        ("田中 健一", SlotState.BOOKED),
        ("加藤 大輔", SlotState.FREE),
    ]
    html = response.content.decode()
    case_link = (
        f'<a class="cal-case" href="{reverse("staff-case", args=[busy.pk])}">{busy.reference}</a>'
    )
    assert html.count(case_link) == 2
    assert 'data-state="held"' in html and 'data-state="booked"' in html
    # Not colour alone: each slot says its state in words.
    assert "</span> Held</span>" in html and "</span> Booked</span>" in html
    audit = AuditEvent.objects.filter(action=AuditAction.READ, user=coordinator_sato).last()
    assert audit.detail["cases"] == [busy.pk] and audit.case_id is None


def test_it_shows_the_admin_only_the_state(busy, admin_kato):
    response = signed_in(admin_kato).get(URL, {"date": "2026-12-01"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-state="booked"' in html and 'data-state="held"' in html
    assert busy.reference not in html and "data-case" not in html
    assert reverse("staff-case", args=[busy.pk]) not in html
    assert reverse("staff-schedule-away") not in html  # no exceptions forms either
    assert all(not e.reference for d in response.context["days"] for e in d.entries)


def test_it_shows_one_specialist(busy, coordinator_sato, dr_kato):
    response = signed_in(coordinator_sato).get(
        URL, {"department": "cardiology", "date": "2026-12-01", "specialist": dr_kato.pk}
    )

    assert {name for name, __ in states(day_of(response, TUE))} == {"加藤 大輔"}


def test_it_ignores_a_specialist_of_another_department(coordinator_sato, dr_mori):
    response = signed_in(coordinator_sato).get(
        URL, {"department": "cardiology", "date": "2026-12-01", "specialist": dr_mori.pk}
    )

    assert response.context["choice"]["specialist"] is None
    assert {n for n, __ in states(day_of(response, TUE))} == {"加藤 大輔", "田中 健一"}


def test_it_shows_a_month_with_counts_and_links_to_each_week(busy, coordinator_sato):
    response = signed_in(coordinator_sato).get(
        URL, {"department": "cardiology", "view": "month", "date": "2026-12-10"}
    )

    weeks = response.context["weeks"]
    assert weeks[0][0].day == date(2026, 11, 30) and weeks[-1][-1].day == date(2027, 1, 3)
    assert all(len(week) == 7 for week in weeks)
    assert day_of(response, TUE).counts == {"free": 6, "held": 1, "booked": 1}
    assert day_of(response, date(2026, 12, 29)).closure.reason == ClosedReason.YEAR_END
    assert not day_of(response, date(2026, 11, 30)).in_month
    html = response.content.decode()
    assert 'href="?department=cardiology&amp;view=week&amp;date=2026-12-01"' in html
    assert "Year-end holidays" in html


def test_it_moves_by_week_and_month(coordinator_sato):
    client = signed_in(coordinator_sato)

    week = client.get(URL, {"department": "cardiology", "date": "2026-12-02"}).context["nav"]
    month = client.get(
        URL, {"department": "cardiology", "date": "2026-12-20", "view": "month"}
    ).context["nav"]

    assert week["previous"] == "department=cardiology&view=week&date=2026-11-25"
    assert week["next"] == "department=cardiology&view=week&date=2026-12-09"
    assert week["today"] == "department=cardiology&view=week"
    assert month["previous"] == "department=cardiology&view=month&date=2026-11-01"
    assert month["next"] == "department=cardiology&view=month&date=2027-01-01"


@pytest.mark.parametrize(
    "query",
    [
        {"date": "yesterday"},
        {"date": "2026-02-30"},
        {"department": "nope"},
        {"view": "year"},
        {"specialist": "abc"},
        {"specialist": "99999999999999999999"},
    ],
)
def test_it_falls_back_to_the_defaults_on_bad_choices(coordinator_sato, query):
    response = signed_in(coordinator_sato).get(URL, query)

    assert response.status_code == 200
    choice = response.context["choice"]
    assert choice["department"].code == "cardiology" and choice["view"] == "week"


def test_it_reads_a_week_in_a_bounded_number_of_queries(
    busy, coordinator_sato, django_assert_max_num_queries
):
    client = signed_in(coordinator_sato)
    with django_assert_max_num_queries(30):
        client.get(URL, {"department": "cardiology", "view": "month", "date": "2026-12-01"})


def test_it_links_the_calendar_from_the_staff_menu(accepted, coordinator_sato, dr_tanaka):
    coordinator = signed_in(coordinator_sato).get(reverse("staff-queue")).content.decode()
    specialist = signed_in(dr_tanaka).get(reverse("staff-queue")).content.decode()

    assert f'href="{URL}"' in coordinator
    assert f'href="{URL}"' not in specialist


# Absences and extra sessions.


def post(client, name, data, query="department=cardiology&date=2026-12-01"):
    return client.post(f"{reverse(name)}?{query}", data)


def tanaka_on(day: date) -> list:
    tanaka = User.objects.get(username="dr_tanaka")
    return [
        s.starts_at
        for s in department_slots(
            department=Department.objects.get(code="cardiology"),
            start=day,
            end=day,
            specialist=tanaka,
        )
    ]


def test_it_records_a_whole_day_absence(dr_tanaka, coordinator_sato):
    tanaka = dr_tanaka

    response = post(
        signed_in(coordinator_sato),
        "staff-schedule-away",
        {"specialist": tanaka.pk, "day": "2026-12-03"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{URL}?department=cardiology&date=2026-12-01#exceptions"
    away = Away.objects.get()
    assert (away.specialist, away.day, away.starts_at) == (tanaka, THU, None)
    assert tanaka_on(THU) == []
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_id=str(away.pk))
    assert event.case_id is None and event.user == coordinator_sato


def test_it_records_part_of_a_day_away(coordinator_sato, dr_tanaka):
    post(
        signed_in(coordinator_sato),
        "staff-schedule-away",
        {
            "specialist": dr_tanaka.pk,
            "day": "2026-12-03",
            "starts_at": "14:00",
            "ends_at": "15:00",
        },
    )

    assert tanaka_on(THU) == [at(THU, 15), at(THU, 15, 30)]


@pytest.mark.parametrize(
    "data",
    [
        {"day": "2026-12-03", "starts_at": "14:00"},
        {"day": "2026-12-03", "ends_at": "15:00"},
        {"day": "2026-12-03", "starts_at": "15:00", "ends_at": "15:00"},
        {"day": "2026-12-03", "starts_at": "16:00", "ends_at": "15:00"},
        {"day": "2026-11-24"},  # passed
        {"day": "someday"},
        {},
    ],
)
def test_it_refuses_a_bad_absence(coordinator_sato, dr_tanaka, data):
    before = written()

    response = post(
        signed_in(coordinator_sato), "staff-schedule-away", {"specialist": dr_tanaka.pk, **data}
    )

    assert response.status_code == 200
    assert response.context["away_form"].errors
    assert written() == before


def test_it_refuses_an_absence_over_a_booked_or_offered_date(
    busy, coordinator_sato, dr_tanaka, dr_kato
):
    client = signed_in(coordinator_sato)
    before = written()

    booked = post(client, "staff-schedule-away", {"specialist": dr_tanaka.pk, "day": "2026-12-01"})
    held = post(
        client,
        "staff-schedule-away",
        {
            "specialist": dr_kato.pk,
            "day": "2026-12-01",
            "starts_at": "13:30",
            "ends_at": "14:15",
        },
    )

    for response in (booked, held):
        assert response.status_code == 200
        assert "Move or cancel them first." in response.content.decode()
    assert "(14:00)" in booked.content.decode()
    assert written() == before
    # Around the booking is fine.
    post(
        client,
        "staff-schedule-away",
        {
            "specialist": dr_tanaka.pk,
            "day": "2026-12-01",
            "starts_at": "14:30",
            "ends_at": "16:00",
        },
    )
    assert tanaka_on(TUE) == [at(TUE, 14)]


def test_it_adds_an_extra_session(coordinator_sato, dr_tanaka):
    response = post(
        signed_in(coordinator_sato),
        "staff-schedule-extra",
        {
            "specialist": dr_tanaka.pk,
            "department": Department.objects.get(code="cardiology").pk,
            "day": "2026-12-02",
            "starts_at": "10:00",
            "ends_at": "11:00",
            "note": "Covering for a colleague",
        },
    )

    assert response.status_code == 302
    session = ExtraSession.objects.get()
    assert (session.day, session.starts_at, session.ends_at) == (WED, time(10), time(11))
    assert tanaka_on(WED) == [at(WED, 10), at(WED, 10, 30)]
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_id=str(session.pk))
    assert event.case_id is None and event.detail["department"] == session.department_id


def _extra(dr_tanaka, **changes):
    cardiology = Department.objects.get(code="cardiology")
    data = {
        "specialist": dr_tanaka.pk,
        "department": cardiology.pk,
        "day": "2026-12-02",
        "starts_at": "10:00",
        "ends_at": "11:00",
    }
    return data | changes


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"day": "2026-11-28"}, "The hospital is closed on 2026-11-28"),  # Saturday
        ({"day": "2026-12-30"}, "The hospital is closed on 2026-12-30"),  # year end
        ({"day": "2027-01-11"}, "The hospital is closed on 2027-01-11"),  # Coming of Age Day
        ({"starts_at": "11:00"}, "The end must be after the start."),
        ({"starts_at": "12:00"}, "The end must be after the start."),
        ({"specialist": "mori"}, "does not see patients of this department"),
        ({"day": "2026-11-24"}, "That day has passed."),
        ({"ends_at": ""}, "This field is required."),
    ],
)
def test_it_refuses_a_bad_extra_session(dr_mori, coordinator_sato, dr_tanaka, changes, said):
    if changes.get("specialist") == "mori":
        changes["specialist"] = dr_mori.pk
    before = written()

    response = post(
        signed_in(coordinator_sato), "staff-schedule-extra", _extra(dr_tanaka, **changes)
    )

    assert response.status_code == 200
    assert said in response.content.decode()
    assert written() == before


def test_it_lists_and_removes_upcoming_exceptions(coordinator_sato, dr_kato, dr_tanaka):
    client = signed_in(coordinator_sato)
    post(client, "staff-schedule-away", {"specialist": dr_kato.pk, "day": "2026-12-08"})
    post(client, "staff-schedule-extra", _extra(dr_tanaka))
    away, session = Away.objects.get(), ExtraSession.objects.get()

    html = client.get(URL).content.decode()
    assert f'data-away="{away.pk}"' in html and f'data-extra="{session.pk}"' in html

    for kind, pk in (("away", away.pk), ("extra", session.pk)):
        response = post(client, "staff-schedule-remove", {"kind": kind, "pk": pk})
        assert response.status_code == 302
    assert not Away.objects.exists() and not ExtraSession.objects.exists()
    removed = AuditEvent.objects.filter(action=AuditAction.UPDATE, detail__deleted=True)
    assert removed.count() == 2 and not removed.filter(case_id__isnull=False).exists()


def test_it_keeps_an_extra_session_that_carries_a_booking(accepted, coordinator_sato, dr_tanaka):
    client = signed_in(coordinator_sato)
    post(client, "staff-schedule-extra", _extra(dr_tanaka, day="2026-11-30"))  # a Monday
    session = ExtraSession.objects.get()
    offer = factories.offer(accepted, coordinator_sato, factories.free_slots(accepted, limit=1))
    assert offer.slots.get().starts_at == at(date(2026, 11, 30), 10)  # in the extra session
    before = written()

    response = post(client, "staff-schedule-remove", {"kind": "extra", "pk": session.pk})

    assert response.status_code == 302
    assert ExtraSession.objects.filter(pk=session.pk).exists()
    assert written() == before


@pytest.mark.parametrize("data", [{"kind": "away", "pk": 987}, {"kind": "x", "pk": 1}, {}])
def test_it_answers_404_for_no_such_exception(coordinator_sato, dr_kato, dr_tanaka, data):
    client = signed_in(coordinator_sato)
    # Upcoming exceptions that a wrong lookup could remove.
    post(client, "staff-schedule-away", {"specialist": dr_kato.pk, "day": "2026-12-08"})
    post(client, "staff-schedule-extra", _extra(dr_tanaka))
    assert Away.objects.exists() and ExtraSession.objects.exists()
    before = written()

    response = post(client, "staff-schedule-remove", data)

    assert response.status_code == 404
    assert written() == before


def test_it_does_not_remove_a_past_exception(dr_tanaka, coordinator_sato):
    away = Away.objects.create(specialist=dr_tanaka, day=date(2026, 11, 24))
    before = written()

    response = post(
        signed_in(coordinator_sato), "staff-schedule-remove", {"kind": "away", "pk": away.pk}
    )

    assert response.status_code == 404
    assert Away.objects.filter(pk=away.pk).exists()
    assert written() == before
