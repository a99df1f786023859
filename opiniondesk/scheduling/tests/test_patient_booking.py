"""The patient's side of scheduling (SPEC §5): booking an offered date, changing and cancelling
it with a confirmation, the deadline, the .ics file, and who may do it. Real views and services;
"now" is Wednesday 25 November 2026, 10:00 in Japan."""

import re
from datetime import datetime

import icalendar
import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import JST
from opiniondesk.readiness.services import invitation_accept, invitation_create
from opiniondesk.scheduling.models import Booking, CancelKind, Offer, OfferedSlot
from opiniondesk.scheduling.services import offer_create
from opiniondesk.scheduling.tests import factories

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)
CONSULT_DAY = datetime(2026, 12, 1, 9, 0, tzinfo=JST)  # the first candidate dates' day


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=True):
        yield


def offer(case: Case, sato, *, skip: int = 0, count: int = 3) -> Offer:
    """Every other free slot from the earliest, held until the evening before the first."""
    slots = factories.free_slots(case, limit=2 * (skip + count))[2 * skip :: 2][:count]
    return offer_create(
        case_id=case.pk,
        actor=sato,
        slots=[(s.specialist_id, s.starts_at) for s in slots],
        hold_until=factories.hold_until_for(slots),
    )


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def held(case: Case) -> list[OfferedSlot]:
    return list(
        OfferedSlot.objects.filter(offer__case=case, released_at__isnull=True).order_by(
            "starts_at", "pk"
        )
    )


def page(client: Client, case: Case) -> str:
    response = client.get(reverse("case-detail", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def book(client: Client, case: Case, slot: OfferedSlot):
    return client.post(reverse("case-book", args=[case.pk]), {"slot": slot.pk})


def section(html: str, element_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{element_id}".*?</section>', html, re.S)
    assert match, f"no section #{element_id}"
    return match.group(0)


@pytest.fixture
def offered(accepted, coordinator_sato):
    offer(accepted, coordinator_sato)
    accepted.refresh_from_db()
    return accepted


@pytest.fixture
def hana(patient_hana):
    return signed_in(patient_hana)


def test_it_books_an_offered_date(offered, hana, patient_hana):
    html = page(hana, offered)
    slots = held(offered)
    for slot in slots:
        assert f'data-slot="{slot.pk}"' in html
    assert html.count(f'action="{reverse("case-book", args=[offered.pk])}"') == len(slots)
    assert "Please choose by 17:00 on Monday 30 November 2026." in html
    # Who cannot book online may call until the hold ends, while the desk still answers.
    call_by = re.search(r'<p class="call-by" id="call-by">(.*?)</p>', html, re.S).group(1)
    assert "If you cannot book online, please call us by 17:00 on Monday 30 November 2026" in (
        call_by
    )
    assert f'href="tel:{settings.HOSPITAL["phone"]}"' in call_by

    response = book(hana, offered, slots[1])

    assert response.status_code == 302
    assert response["Location"] == reverse("case-detail", args=[offered.pk]) + "#booking"
    booking = Booking.objects.get(case=offered, cancelled_at__isnull=True)
    assert (booking.specialist_id, booking.starts_at) == (
        slots[1].specialist_id,
        slots[1].starts_at,
    )
    assert booking.booked_by == patient_hana
    assert Case.objects.get(pk=offered.pk).status == Status.BOOKED
    html = page(hana, offered)
    booked = section(html, "booking")
    assert "Tuesday 1 December 2026, 14:30–15:00 (Japan time)" in booked
    assert "until 23:59 on Monday 30 November 2026" in booked
    for element in ('id="ics-link"', 'id="change-link"', 'id="cancel-link"', "waiting room"):
        assert element in booked
    assert 'id="call-to-change"' not in html
    assert 'id="dates"' not in html


def test_dates_replaced_meanwhile_are_refused_and_the_new_ones_shown(
    offered, hana, coordinator_sato
):
    old = held(offered)
    offer(offered, coordinator_sato, skip=3)  # the coordinator offers other dates
    new = held(offered)

    response = hana.post(reverse("case-book", args=[offered.pk]), {"slot": old[0].pk}, follow=True)

    html = response.content.decode()
    assert "That date is no longer held for you. Please choose another." in html
    for slot in new:
        assert f'data-slot="{slot.pk}"' in html
    for slot in old:
        assert f'data-slot="{slot.pk}"' not in html
    assert not Booking.objects.filter(case=offered).exists()
    assert Case.objects.get(pk=offered.pk).status == Status.OFFERED
    assert len(held(offered)) == len(new)


def test_when_the_other_account_was_faster_nothing_else_changes(
    proxy_ken, coordinator_sato, dr_tanaka, patient_hana
):
    ken_case = factories.accepted_case(
        proxy_ken, coordinator=coordinator_sato, specialist=dr_tanaka, relation="child"
    )
    token = invitation_create(case_id=ken_case.pk, actor=proxy_ken, email="hana@example.jp")
    invitation_accept(token=token, actor=patient_hana)
    offer(ken_case, coordinator_sato)
    slots = held(ken_case)
    ken, hana = signed_in(proxy_ken), signed_in(patient_hana)
    hana_old_page = page(hana, ken_case)  # both have the dates on screen
    assert f'data-slot="{slots[2].pk}"' in hana_old_page

    assert book(ken, ken_case, slots[0]).status_code == 302
    response = hana.post(
        reverse("case-book", args=[ken_case.pk]), {"slot": slots[2].pk}, follow=True
    )

    assert "This consult is already booked." in response.content.decode()
    booking = Booking.objects.get(case=ken_case)
    assert (booking.starts_at, booking.booked_by) == (slots[0].starts_at, proxy_ken)
    assert len(held(ken_case)) == len(slots)


def test_a_bad_slot_is_refused_and_changes_nothing(offered, hana):
    for value in ("", "abc", "0", "999999"):
        response = hana.post(reverse("case-book", args=[offered.pk]), {"slot": value}, follow=True)
        assert response.status_code == 200
    assert not Booking.objects.filter(case=offered).exists()
    assert Case.objects.get(pk=offered.pk).status == Status.OFFERED


def test_it_changes_the_date_only_after_confirmation(offered, hana):
    slots = held(offered)
    book(hana, offered, slots[0])
    url = reverse("case-booking-change", args=[offered.pk])

    listing = hana.get(url).content.decode()
    assert f'data-slot="{slots[0].pk}"' not in listing  # the date already booked
    assert all(f'data-slot="{s.pk}"' in listing for s in slots[1:])

    confirm = hana.post(url, {"slot": slots[2].pk})
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "Tuesday 1 December 2026, 14:00–14:30" in html  # from
    assert "Tuesday 1 December 2026, 15:00–15:30" in html  # to
    assert 'name="confirm" value="1"' in html
    assert (
        Booking.objects.get(case=offered, cancelled_at__isnull=True).starts_at == slots[0].starts_at
    )

    response = hana.post(url, {"slot": slots[2].pk, "confirm": "1"})

    assert response.status_code == 302
    live = Booking.objects.get(case=offered, cancelled_at__isnull=True)
    assert live.starts_at == slots[2].starts_at
    assert live.replaces.cancel_kind == CancelKind.CHANGED
    assert Case.objects.get(pk=offered.pk).status == Status.BOOKED


def test_a_change_to_a_date_not_offered_changes_nothing(offered, hana):
    slots = held(offered)
    book(hana, offered, slots[0])
    url = reverse("case-booking-change", args=[offered.pk])
    for value in (slots[0].pk, "x", 10**12):
        response = hana.post(url, {"slot": value, "confirm": "1"})
        assert response.status_code == 200
        assert "Please choose one of the dates shown." in response.content.decode()
    assert Booking.objects.filter(case=offered).count() == 1


def test_it_cancels_only_after_confirmation(offered, hana):
    slots = held(offered)
    book(hana, offered, slots[0])
    url = reverse("case-booking-cancel", args=[offered.pk])

    confirm = hana.get(url)
    assert confirm.status_code == 200
    assert "cannot be undone online" in confirm.content.decode()
    assert hana.post(url, {}).status_code == 200  # no confirm=1: the page again
    assert Case.objects.get(pk=offered.pk).status == Status.BOOKED

    response = hana.post(url, {"confirm": "1", "reason": "体調が悪いため"})

    assert response.status_code == 302
    assert Case.objects.get(pk=offered.pk).status == Status.CANCELLED
    booking = Booking.objects.get(case=offered)
    assert booking.cancel_kind == CancelKind.CANCELLED and booking.cancel_reason == "体調が悪いため"
    assert not held(offered)
    assert hana.get(url).status_code == 302  # nothing left to cancel


def test_after_the_deadline_it_says_call_us_and_refuses_changes(offered, hana, patient_hana):
    slots = held(offered)
    book(hana, offered, slots[0])
    booking = Booking.objects.get(case=offered)
    change = reverse("case-booking-change", args=[offered.pk])
    cancel = reverse("case-booking-cancel", args=[offered.pk])

    with time_machine.travel(CONSULT_DAY, tick=False):
        hana.logout()  # days later her session has ended: she signs in again
        hana.force_login(patient_hana)
        html = page(hana, offered)
        booked = section(html, "booking")
        assert 'id="call-to-change"' in booked
        assert settings.HOSPITAL["phone"] in booked
        assert settings.HOSPITAL["phone_hours"] in booked
        assert f"press “{settings.HOSPITAL['phone_guidance']}”" in booked
        for link in ('id="change-link"', 'id="cancel-link"', change, cancel):
            assert link not in booked
        assert hana.get(change).status_code == 302
        assert hana.get(cancel).status_code == 302
        refused = hana.post(change, {"slot": slots[1].pk, "confirm": "1"}, follow=True)
        assert "end at 23:59 the day before" in refused.content.decode()
        hana.post(cancel, {"confirm": "1"})

    assert Case.objects.get(pk=offered.pk).status == Status.BOOKED
    assert list(Booking.objects.filter(case=offered)) == [booking]
    assert Booking.objects.get(pk=booking.pk).cancelled_at is None


def test_a_date_past_its_deadline_is_not_offered_for_booking(offered, hana):
    slots = held(offered)
    with time_machine.travel(CONSULT_DAY, tick=False):
        html = page(hana, offered)
        assert 'id="no-dates"' in html
        response = book(hana, offered, slots[0])
    assert response.status_code == 302
    assert not Booking.objects.filter(case=offered).exists()


def test_the_patients_own_account_can_book(proxy_ken, coordinator_sato, dr_tanaka, patient_hana):
    case = factories.accepted_case(
        proxy_ken, coordinator=coordinator_sato, specialist=dr_tanaka, relation="child"
    )
    hana = signed_in(patient_hana)
    offer(case, coordinator_sato)
    assert hana.get(reverse("case-detail", args=[case.pk])).status_code == 404  # not linked yet
    token = invitation_create(case_id=case.pk, actor=proxy_ken, email="hana@example.jp")
    invitation_accept(token=token, actor=patient_hana)

    response = book(hana, case, held(case)[1])

    assert response.status_code == 302
    booking = Booking.objects.get(case=case)
    assert booking.booked_by == patient_hana
    assert 'id="change-link"' in page(hana, case)
    assert 'id="change-link"' in page(signed_in(proxy_ken), case)


def test_another_patient_gets_404_on_every_page_and_nothing_changes(offered, hana, outsider_eve):
    slots = held(offered)
    book(hana, offered, slots[0])
    eve = signed_in(outsider_eve)
    body = {"slot": slots[1].pk, "confirm": "1", "email": "eve@example.jp", "signer_name": "x"}
    tries = [
        ("post", "case-book"),
        ("get", "case-booking-change"),
        ("post", "case-booking-change"),
        ("get", "case-booking-cancel"),
        ("post", "case-booking-cancel"),
        ("get", "case-booking-ics"),
        ("get", "case-identity"),
        ("post", "case-identity"),
        ("get", "case-consent"),
        ("post", "case-consent"),
        ("get", "case-invite-patient"),
        ("post", "case-invite-patient"),
    ]
    for method, name in tries:
        url = reverse(name, args=[offered.pk])
        response = eve.get(url) if method == "get" else eve.post(url, body)
        assert response.status_code == 404, (method, name)
    assert Booking.objects.get(case=offered).starts_at == slots[0].starts_at
    assert Case.objects.get(pk=offered.pk).status == Status.BOOKED
    denied = AuditEvent.objects.filter(action="denied", username="outsider_eve")
    assert denied.count() == len(tries) and {e.case_id for e in denied} == {offered.pk}


def test_staff_cannot_book_or_cancel_from_the_patients_pages(offered, coordinator_sato):
    sato = signed_in(coordinator_sato)
    slots = held(offered)
    assert (
        sato.post(reverse("case-book", args=[offered.pk]), {"slot": slots[0].pk}).status_code == 403
    )
    assert not Booking.objects.filter(case=offered).exists()


def test_the_calendar_file_holds_the_booking(offered, hana):
    slots = held(offered)
    book(hana, offered, slots[1])
    booking = Booking.objects.get(case=offered)
    url = reverse("case-booking-ics", args=[offered.pk])

    response = hana.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == f'attachment; filename="{offered.reference}.ics"'
    calendar = icalendar.Calendar.from_ical(response.content)
    event = next(iter(calendar.walk("VEVENT")))
    assert event.decoded("dtstart") == booking.starts_at
    assert event.decoded("dtend") == booking.ends_at
    assert "オンライン" in str(event["summary"])
    assert offered.reference in str(event["description"])
    assert str(event["uid"]).startswith(f"case-{offered.pk}@")
    assert AuditEvent.objects.filter(
        action="download", case_id=offered.pk, object_id=str(booking.pk)
    ).exists()
    hana.post(reverse("case-booking-cancel", args=[offered.pk]), {"confirm": "1"})
    assert hana.get(url).status_code == 404


def test_an_in_person_case_shows_the_way_and_no_video_words(
    patient_hana, coordinator_sato, dr_tanaka
):
    case = factories.accepted_case(
        patient_hana,
        coordinator=coordinator_sato,
        specialist=dr_tanaka,
        mode="in_person",
    )
    offer(case, coordinator_sato)
    hana = signed_in(patient_hana)
    assert "at the hospital, in person" in section(page(hana, case), "dates")

    book(hana, case, held(case)[0])

    html = page(hana, case)
    booked = section(html, "booking")
    hospital = settings.HOSPITAL
    for text in (
        hospital["desk"],
        hospital["postal_code"],
        hospital["address"],
        hospital["name_en"],
    ):
        assert text in booked
    assert "15 minutes before" in booked and "ID" in booked
    assert 'data-mode="in_person"' in booked
    for word in ("video", "waiting room", "camera"):
        assert word not in booked.lower()
    assert reverse("device-check", args=[case.pk]) not in html
    assert reverse("case-consent", args=[case.pk]) not in html
    assert 'data-item="identity"' in html
