"""The consult's pages: the patient's waiting room, the specialist's room and list of today's
consults, the review time and the visit on the staff case page, the patient's case page."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.consults import services
from opiniondesk.consults.consumers import token_is_valid
from opiniondesk.consults.models import Consult, EndReason, ReviewSession
from opiniondesk.scheduling.models import Booking
from opiniondesk.testing.builders import case_in, ready_case

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def config_of(page: str) -> dict:
    found = re.search(r'<script id="consult-config" type="application/json">(.*?)</script>', page)
    return json.loads(found.group(1))


# The patient's waiting room.


def test_the_waiting_room_says_when_it_opens(ready, booking, at, patient_hana):
    at(booking.starts_at - timedelta(hours=2))
    response = as_user(patient_hana).get(reverse("consult-room", args=[ready.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    config = config_of(page)
    assert config["roomOpen"] is False and config["side"] == "patient"
    assert config["opensAt"] == (booking.starts_at - timedelta(minutes=5)).isoformat()
    # The specialist, the department and the hospital's number are on the page (§11.3).
    assert "田中" in page or "dr_tanaka" in page
    assert "Cardiology" in page and "03-" in page
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    )
    read = AuditEvent.objects.filter(case_id=ready.pk, action="read").latest("sequence")
    assert read.detail == {"page": "consult room"} and read.object_type == "consults.Consult"


def test_the_open_room_gives_the_page_a_short_lived_join_token(in_room, patient_hana):
    page = as_user(patient_hana).get(reverse("consult-room", args=[in_room.case_id]))
    config = config_of(page.content.decode())
    assert config["roomOpen"] is True and config["consultId"] == in_room.pk
    assert token_is_valid(config["token"], in_room.pk, patient_hana.pk)
    assert not token_is_valid(config["token"], in_room.pk, in_room.specialist_id)
    assert config["present"] == ["山田 花"]


TURN = {
    "WEBRTC_STUN_URLS": ["stun:turn.example.jp:3478"],
    "WEBRTC_TURN_URLS": ["turns:turn.example.jp:443?transport=tcp"],
    "WEBRTC_TURN_SECRET": "s" * 40,
    "WEBRTC_TURN_TTL_SECONDS": 600,
}


def test_each_side_gets_a_turn_credential_of_its_own(in_room, patient_hana, dr_tanaka, settings):
    for name, value in TURN.items():
        setattr(settings, name, value)
    patient = config_of(
        as_user(patient_hana).get(reverse("consult-room", args=[in_room.case_id])).content.decode()
    )
    hospital = config_of(
        as_user(dr_tanaka)
        .get(reverse("staff-consult-room", args=[in_room.case_id]))
        .content.decode()
    )
    for config, user in ((patient, patient_hana), (hospital, dr_tanaka)):
        stun, turn = config["iceServers"]
        assert stun == {"urls": ["stun:turn.example.jp:3478"]}
        expires, purpose = turn["username"].split(":")
        assert purpose == f"c{in_room.pk}u{user.pk}"
        assert int(expires) == int(timezone.now().timestamp()) + 600
        assert turn["credential"] and "s" * 40 not in json.dumps(config)
        assert config["iceTransportPolicy"] == "all" and config["iceRenewMs"] == 300_000
    assert patient["iceServers"][1]["credential"] != hospital["iceServers"][1]["credential"]


def test_a_reconnecting_page_gets_a_new_credential_and_the_policy(
    in_room, patient_hana, settings, at
):
    for name, value in TURN.items():
        setattr(settings, name, value)
    settings.WEBRTC_RELAY_ONLY = True
    client = as_user(patient_hana)
    first = client.get(reverse("consult-token", args=[in_room.pk])).json()
    at(timezone.now() + timedelta(minutes=4))
    again = client.get(reverse("consult-token", args=[in_room.pk]))
    assert "no-store" in again["Cache-Control"]
    second = again.json()
    assert second["iceTransportPolicy"] == "relay"
    assert token_is_valid(second["token"], in_room.pk, patient_hana.pk)
    assert second["iceServers"][1]["username"] != first["iceServers"][1]["username"]


def test_the_room_is_the_patients_side_alone(in_room, outsider_eve, dr_tanaka, coordinator_sato):
    url = reverse("consult-room", args=[in_room.case_id])
    assert as_user(outsider_eve).get(url).status_code == 404
    assert as_user(dr_tanaka).get(url).status_code in (403, 404)
    assert as_user(coordinator_sato).get(url).status_code == 403


def test_an_in_person_consult_has_no_video_room(seeded, patient_hana):
    case = ready_case(mode="in_person")
    response = as_user(patient_hana).get(reverse("consult-room", args=[case.pk]))
    assert response.status_code == 302 and response.url == reverse("case-detail", args=[case.pk])
    assert not Consult.objects.filter(case=case).exists()


def test_no_room_before_a_booking(seeded, patient_hana):
    case = case_in(Status.ACCEPTED)
    response = as_user(patient_hana).get(reverse("consult-room", args=[case.pk]))
    assert response.status_code == 302 and not Consult.objects.exists()


def test_the_case_page_opens_the_door_five_minutes_before(ready, booking, at, patient_hana):
    at(booking.starts_at - timedelta(minutes=6))
    page = as_user(patient_hana).get(reverse("case-detail", args=[ready.pk])).content.decode()
    assert "The waiting room opens at" in page and 'id="enter-room"' not in page
    at(booking.starts_at - timedelta(minutes=5))
    page = as_user(patient_hana).get(reverse("case-detail", args=[ready.pk])).content.decode()
    assert 'id="enter-room"' in page and reverse("consult-room", args=[ready.pk]) in page


def test_the_dashboard_leads_to_the_open_waiting_room(ready, booking, at, patient_hana):
    room = reverse("consult-room", args=[ready.pk])
    at(booking.starts_at - timedelta(minutes=6))
    page = as_user(patient_hana).get(reverse("dashboard")).content.decode()
    assert "enter the waiting room" not in page and room not in page
    at(booking.starts_at - timedelta(minutes=5))
    page = as_user(patient_hana).get(reverse("dashboard")).content.decode()
    assert f'<a href="{room}">Now: enter the waiting room</a>' in page


def test_after_the_consult_the_patient_reads_what_happens_next(in_room, patient_hana, dr_tanaka):
    consult = ended_consult(in_room, patient_hana, dr_tanaka)
    page = (
        as_user(patient_hana).get(reverse("case-detail", args=[consult.case_id])).content.decode()
    )
    assert "time counted for the fee (review and consult): 25 minutes" in page
    assert "the written opinion is sent to your attending physician" in page


def ended_consult(consult, patient, specialist):
    services.patient_join(consult_id=consult.pk, user=patient, channel="c", device="d" * 32)
    services.call_in(consult_id=consult.pk, user=specialist)
    services.confirm_present(consult_id=consult.pk, user=patient, people=["山田 花"])
    services.confirm_present(consult_id=consult.pk, user=specialist, people=["田中 健一"])
    started = services.call_start(consult_id=consult.pk, user=specialist)
    Consult.objects.filter(pk=consult.pk).update(
        started_at=started.started_at - timedelta(minutes=25)
    )
    return services.call_end(consult_id=consult.pk, user=specialist, reason=EndReason.SPECIALIST)


# The specialist's room and list.


def test_the_booked_specialist_opens_the_room(in_room, dr_tanaka):
    page = as_user(dr_tanaka).get(reverse("staff-consult-room", args=[in_room.case_id]))
    assert page.status_code == 200
    config = config_of(page.content.decode())
    assert (config["side"], config["consultId"]) == ("hospital", in_room.pk)
    assert token_is_valid(config["token"], in_room.pk, dr_tanaka.pk)


def test_no_one_else_opens_the_specialists_room(in_room, dr_kato, dr_mori, coordinator_sato):
    url = reverse("staff-consult-room", args=[in_room.case_id])
    assert as_user(dr_kato).get(url).status_code == 403  # the other cardiologist
    assert as_user(dr_mori).get(url).status_code == 404  # not neurology's case
    assert as_user(coordinator_sato).get(url).status_code == 403


def test_the_join_token_is_fresh_and_only_for_the_two_sides(in_room, patient_hana, outsider_eve):
    url = reverse("consult-token", args=[in_room.pk])
    token = as_user(patient_hana).get(url).json()["token"]
    assert token_is_valid(token, in_room.pk, patient_hana.pk)
    assert as_user(outsider_eve).get(url).status_code == 404


def test_the_list_of_todays_consults_shows_who_is_waiting(in_room, dr_tanaka, patient_hana):
    services.patient_join(consult_id=in_room.pk, user=patient_hana, channel="c", device="d" * 32)
    page = as_user(dr_tanaka).get(reverse("staff-consults")).content.decode()
    assert in_room.case.reference in page
    assert f'data-consult="{in_room.pk}"' in page and 'data-waiting="true"' in page
    assert reverse("staff-consult-room", args=[in_room.case_id]) in page


def test_specialists_find_todays_consults_in_the_menu(seeded, dr_tanaka, coordinator_sato):
    link = f'href="{reverse("staff-consults")}"'
    assert link in as_user(dr_tanaka).get(reverse("staff-queue")).content.decode()
    assert link not in as_user(coordinator_sato).get(reverse("staff-queue")).content.decode()


# The review time on the staff case page.


def test_the_specialist_times_the_review_on_the_case_page(seeded, dr_tanaka, at):
    case = case_in(Status.ACCEPTED)
    tanaka, page_url = as_user(dr_tanaka), reverse("staff-case", args=[case.pk])
    start = at(timezone.now())
    assert "Start reviewing the materials" in tanaka.get(page_url).content.decode()
    response = tanaka.post(reverse("staff-review-start", args=[case.pk]))
    assert response.status_code == 302 and response.url.endswith("#review")
    at(start + timedelta(minutes=18))
    tanaka = as_user(dr_tanaka)  # signed in again: staff are signed out after 15 idle minutes
    page = tanaka.get(page_url).content.decode()
    assert "Reviewing since" in page and "Stop reviewing" in page
    tanaka.post(reverse("staff-review-stop", args=[case.pk]))
    [session] = ReviewSession.objects.filter(case=case)
    assert session.seconds == 18 * 60
    assert "So far: 18 minutes, counted toward the fee." in tanaka.get(page_url).content.decode()

    # A correction without a reason is shown again with the error, and changes nothing.
    bad = tanaka.post(
        reverse("staff-review-correct", args=[case.pk]),
        {"session": session.pk, "minutes": "10", "reason": ""},
    )
    assert bad.status_code == 200 and "This field is required." in bad.content.decode()
    tanaka.post(
        reverse("staff-review-correct", args=[case.pk]),
        {"session": session.pk, "minutes": "10", "reason": "電話対応で中断した"},
    )
    session.refresh_from_db()
    assert (session.seconds, session.correction_reason) == (600, "電話対応で中断した")
    page = tanaka.get(page_url).content.decode()
    assert f'<tr data-session="{session.pk}">' in page and "<td>10:00 <small>" in page


def test_a_session_of_another_case_is_no_session(seeded, dr_tanaka):
    case, other = case_in(Status.ACCEPTED), case_in(Status.ACCEPTED)
    session = ReviewSession.objects.create(
        case=other, specialist=dr_tanaka, started_at=timezone.now(), ended_at=timezone.now()
    )
    response = as_user(dr_tanaka).post(
        reverse("staff-review-correct", args=[case.pk]),
        {"session": session.pk, "minutes": "10", "reason": "x"},
    )
    assert response.status_code == 200 and "Nothing was changed" in response.content.decode()
    session.refresh_from_db()
    assert session.corrected_seconds is None


def test_only_the_departments_specialist_times_a_review(seeded, dr_mori, coordinator_sato):
    case = case_in(Status.ACCEPTED)
    assert as_user(dr_mori).post(reverse("staff-review-start", args=[case.pk])).status_code == 404
    response = as_user(coordinator_sato).post(reverse("staff-review-start", args=[case.pk]))
    assert response.status_code == 403
    assert not ReviewSession.objects.exists()


# In person, and the no-show, on the staff case page.


def test_the_specialist_records_a_visit_at_the_hospital(seeded, dr_tanaka, at):
    case = ready_case(mode="in_person")
    booking = Booking.objects.get(case=case, cancelled_at__isnull=True)
    at(booking.starts_at)
    tanaka = as_user(dr_tanaka)
    assert (
        "The consult at the hospital starts now"
        in tanaka.get(reverse("staff-case", args=[case.pk])).content.decode()
    )
    tanaka.post(reverse("staff-visit-start", args=[case.pk]))
    at(booking.starts_at + timedelta(minutes=29, seconds=59))
    tanaka = as_user(dr_tanaka)  # signed in again after the staff idle timeout
    tanaka.post(reverse("staff-visit-end", args=[case.pk]))
    case.refresh_from_db()
    assert case.status == Status.COMPLETED
    page = tanaka.get(reverse("staff-case", args=[case.pk])).content.decode()
    assert 'data-billable="29"' in page


def test_the_coordinator_records_a_no_show_once_the_time_has_passed(
    ready, booking, at, coordinator_sato
):
    sato, url = as_user(coordinator_sato), reverse("staff-case", args=[ready.pk])
    at(booking.starts_at)
    assert "The patient did not come" not in sato.get(url).content.decode()
    at(booking.ends_at + timedelta(minutes=1))
    sato = as_user(coordinator_sato)  # signed in again after the staff idle timeout
    assert "The patient did not come" in sato.get(url).content.decode()
    response = sato.post(reverse("staff-no-show", args=[ready.pk]))
    assert response.status_code == 302
    assert Case.objects.get(pk=ready.pk).status == Status.NO_SHOW
