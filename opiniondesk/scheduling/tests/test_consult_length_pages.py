"""A 60-minute consult on the pages (SPEC §5): the coordinator's dates to offer and to move to are
only the starts where the whole hour fits, the calendar shows both slots booked with the case
and the length, and the patient reads the right end time on the page and in the .ics file.
"Now" is Wednesday 25 November 2026, 10:00 in Japan; cardiology consults are on Tuesdays and
Thursdays 14:00–16:00 with Dr Tanaka and Dr Kato."""

from datetime import date

import icalendar
import pytest
from django.urls import reverse

from opiniondesk.cases.models import Case
from opiniondesk.scheduling.models import BookedSlot, HeldSlot
from opiniondesk.scheduling.selectors import live_booking
from opiniondesk.scheduling.services import booking_create, offer_create
from opiniondesk.scheduling.tests import factories, test_staff_offer
from opiniondesk.scheduling.tests.factories import held
from opiniondesk.scheduling.tests.test_staff_offer import (
    TUE,
    at,
    key,
    offer_post,
    signed_in,
    written,
)

pytestmark = pytest.mark.django_db

_now = test_staff_offer._now  # "now", from the offer tests
THU = date(2026, 12, 3)
HOLD = at(date(2026, 11, 30), 17)


@pytest.fixture
def hana_60(patient_hana, coordinator_sato, dr_tanaka):
    """Hana's own case, accepted for 60 minutes."""
    return factories.accepted_case(
        patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka, planned_minutes=60
    )


@pytest.fixture
def booked_60(hana_60, coordinator_sato, patient_hana, dr_tanaka, dr_kato):
    """Hana offered Tuesday 14:00 with Dr Tanaka and Thursday 14:00 with Dr Kato, and booked
    Tuesday: 14:00–15:00."""
    offer = offer_create(
        case_id=hana_60.pk,
        actor=coordinator_sato,
        slots=[(dr_tanaka.pk, at(TUE, 14)), (dr_kato.pk, at(THU, 14))],
        hold_until=HOLD,
    )
    booking_create(case_id=hana_60.pk, actor=patient_hana, offered_slot_id=held(offer)[0].pk)
    return Case.objects.get(pk=hana_60.pk)


def case_url(case) -> str:
    return reverse("staff-case", args=[case.pk])


def spans(views) -> list[tuple[str, str, str]]:
    return [(v.specialist_name, f"{v.starts_at:%m-%d %H:%M}", f"{v.ends_at:%H:%M}") for v in views]


# The coordinator's dates to offer.


def test_it_suggests_only_starts_where_the_whole_hour_fits(
    hana_60, coordinator_sato, proxy_ken, dr_kato
):
    # Ken's 30-minute case holds Dr Kato's Tuesday 14:30: his 14:00 and 14:30 cannot start an hour
    other = factories.proxy_case(proxy_ken, None, coordinator=coordinator_sato, specialist=dr_kato)
    offer_create(
        case_id=other.pk,
        actor=coordinator_sato,
        slots=[(dr_kato.pk, at(TUE, 14, 30))],
        hold_until=HOLD,
    )

    response = signed_in(coordinator_sato).get(case_url(hana_60))

    assert spans(response.context["suggestions"])[:6] == [
        ("田中 健一", "12-01 14:00", "15:00"),
        ("田中 健一", "12-01 14:30", "15:30"),
        ("加藤 大輔", "12-01 15:00", "16:00"),
        ("田中 健一", "12-01 15:00", "16:00"),
        ("加藤 大輔", "12-03 14:00", "15:00"),
        ("田中 健一", "12-03 14:00", "15:00"),
    ]
    html = response.content.decode()
    assert "Tuesday 1 December 2026, 14:00–15:00 (Japan time)" in html
    assert 'data-minutes="60"' in html
    assert "Each date is the whole consult: 60 minutes" in html


def test_it_offers_an_hour_and_holds_both_of_its_slots(hana_60, coordinator_sato, dr_tanaka):
    response = offer_post(signed_in(coordinator_sato), hana_60, slots=[key(dr_tanaka, at(TUE, 14))])

    assert response.status_code == 302
    assert [r.starts_at for r in HeldSlot.objects.order_by("starts_at")] == [
        at(TUE, 14),
        at(TUE, 14, 30),
    ]


@pytest.mark.parametrize(
    ("starts", "said"),
    [
        ([(15, 30)], "The consult takes 60 minutes"),  # the session ends at 16:00
        ([(14, 0), (14, 30)], "Two of the chosen dates overlap"),
    ],
)
def test_it_refuses_a_date_where_the_hour_does_not_fit_and_changes_nothing(
    hana_60, coordinator_sato, dr_tanaka, starts, said
):
    before = written()

    response = offer_post(
        signed_in(coordinator_sato),
        hana_60,
        slots=[key(dr_tanaka, at(TUE, hour, minute)) for hour, minute in starts],
    )

    assert response.status_code == 200
    assert said in response.content.decode()
    assert written() == before


# The coordinator's dates to move to.


def move(user, case, target):
    return signed_in(user).post(
        reverse("staff-booking-change", args=[case.pk]),
        {"seen": live_booking(case.pk).pk, "target": target, "change_reason": "医師の都合"},
    )


def test_it_lists_moves_where_the_hour_fits_counting_the_booking_s_own_slots(
    booked_60, coordinator_sato, dr_tanaka
):
    response = signed_in(coordinator_sato).get(
        case_url(booked_60), {"specialist": dr_tanaka.pk, "start": "2026-12-01"}
    )

    choices = spans(response.context["change_choices"])
    assert choices[:2] == [
        ("田中 健一", "12-01 14:30", "15:30"),  # half an hour later, over its own 14:30
        ("田中 健一", "12-01 15:00", "16:00"),
    ]
    assert ("田中 健一", "12-01 14:00", "15:00") not in choices  # where it is now
    html = response.content.decode()
    assert "Tuesday 1 December 2026, 14:00–15:00 (Japan time)" in html  # the booking
    assert 'class="sched-length">60 minutes' in html


def test_it_moves_the_hour_by_half_an_hour(booked_60, coordinator_sato, dr_tanaka):
    response = move(coordinator_sato, booked_60, key(dr_tanaka, at(TUE, 14, 30)))

    assert response.status_code == 302
    booking = live_booking(booked_60.pk)
    assert (booking.starts_at, booking.ends_at) == (at(TUE, 14, 30), at(TUE, 15, 30))
    assert [r.starts_at for r in BookedSlot.objects.filter(released_at__isnull=True)] == [
        at(TUE, 14, 30),
        at(TUE, 15),
    ]


def test_it_refuses_to_move_the_hour_where_it_does_not_fit(booked_60, coordinator_sato, dr_tanaka):
    before = written()

    response = move(coordinator_sato, booked_60, key(dr_tanaka, at(TUE, 15, 30)))

    assert response.status_code == 200
    assert "The consult takes 60 minutes" in response.content.decode()
    assert written() == before


# The calendar.


def test_the_calendar_shows_both_slots_of_the_hour_booked_with_the_case(
    booked_60, coordinator_sato, admin_kato, dr_tanaka
):
    query = {"department": "cardiology", "date": "2026-12-01", "specialist": dr_tanaka.pk}

    response = signed_in(coordinator_sato).get(reverse("staff-schedule"), query)

    [tuesday] = [d for d in response.context["days"] if d.day == TUE]
    rows = [
        (f"{e.slot.starts_at:%H:%M}", e.slot.state, e.reference, e.slot.consult_minutes)
        for e in tuesday.entries
    ]
    assert rows == [
        ("14:00", "booked", booked_60.reference, 60),
        ("14:30", "booked", booked_60.reference, 60),
        ("15:00", "free", "", None),
        ("15:30", "free", "", None),
    ]
    assert tuesday.counts["booked"] == 2
    html = response.content.decode()
    assert "60 min, until 15:00" in html and "continued from 14:00" in html
    assert html.count(f'href="{case_url(booked_60)}"') == 2
    # the administrator sees the states and the length, not the case
    html = signed_in(admin_kato).get(reverse("staff-schedule"), query).content.decode()
    assert html.count('data-state="booked"') == 2 and 'data-minutes="60"' in html
    assert booked_60.reference not in html


# The patient.


def test_the_patient_reads_the_hour_on_her_page_and_in_the_calendar_file(
    hana_60, booked_60, patient_hana
):
    client = signed_in(patient_hana)

    html = client.get(reverse("case-detail", args=[booked_60.pk])).content.decode()

    assert "Tuesday 1 December 2026, 14:00–15:00 (Japan time)" in html
    assert "60 minutes" in html
    ics = client.get(reverse("case-booking-ics", args=[booked_60.pk])).content
    [event] = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert (event.decoded("DTSTART"), event.decoded("DTEND")) == (at(TUE, 14), at(TUE, 15))


def test_the_patient_is_told_the_planned_length_with_the_dates(
    hana_60, coordinator_sato, patient_hana, dr_tanaka
):
    offer_create(
        case_id=hana_60.pk,
        actor=coordinator_sato,
        slots=[(dr_tanaka.pk, at(TUE, 14))],
        hold_until=HOLD,
    )

    html = signed_in(patient_hana).get(reverse("case-detail", args=[hana_60.pk])).content.decode()

    assert "The specialist has planned 60 minutes for your consultation" in html
    assert "Tuesday 1 December 2026, 14:00–15:00 (Japan time)" in html
