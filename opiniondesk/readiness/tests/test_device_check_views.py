"""The device check page: who may open it, when, and what its JSON answer may contain.

Hana's accepted online case (cardiology); Ken (her son) applies for her in one test; Sato the
coordinator and Dr Tanaka see the case but this page is not theirs; Eve must not see it at all.
"""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.cases.workflow import Status
from opiniondesk.core.ice_rules import turn_credential
from opiniondesk.desk.services import case_withdraw
from opiniondesk.documents.tests import samples
from opiniondesk.readiness import services
from opiniondesk.readiness.models import ConsentForm, DeviceCheck
from opiniondesk.scheduling import services as scheduling
from opiniondesk.scheduling.tests import conftest as scheduling_fixtures
from opiniondesk.scheduling.tests import factories

# Hana's accepted online case of the scheduling tests, as a fixture here too.
accepted = scheduling_fixtures.accepted

pytestmark = pytest.mark.django_db

PASSED = {
    "camera_ok": True,
    "microphone_ok": True,
    "connection_ok": True,
    "round_trip_ms": 42,
    "detail": {
        "camera": {"result": "ok", "width": 640, "height": 480, "dark": False},
        "microphone": {"result": "ok", "heard": True, "peak": 0.12},
        "connection": {"result": "ok", "pings": [40, 42, 45, 41, 44], "ice": ["host", "srflx"]},
    },
}
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"


def _as(user, **extra):
    client = Client(**extra)
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def _url(case):
    return reverse("device-check", args=[case.pk])


def _post(client, case, body):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(_url(case), data, content_type="application/json", HTTP_USER_AGENT=BROWSER)


def _page_json(response, element_id):
    html = response.content.decode()
    start = html.index(f'<script id="{element_id}" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


@pytest.fixture
def booked_and_prepared(coordinator_sato, patient_hana, accepted):
    """Hana's online case, booked, with her ID verified and the consent signed: only the device
    check is missing before `ready`."""
    sato, hana = coordinator_sato, patient_hana
    slots = factories.free_slots(accepted, limit=2)
    offer = scheduling.offer_create(
        case_id=accepted.pk,
        actor=sato,
        slots=[(s.specialist_id, s.starts_at) for s in slots],
        hold_until=factories.hold_until_for(slots),
    )
    scheduling.booking_create(
        case_id=accepted.pk, actor=hana, offered_slot_id=offer.slots.first().pk
    )
    licence = services.id_document_add(
        case_id=accepted.pk,
        actor=hana,
        uploaded=SimpleUploadedFile("licence.png", samples.image("PNG"), "image/png"),
        id_type="drivers_licence",
    )
    services.identity_review(document_id=licence.pk, actor=sato, verified=True)
    form = ConsentForm.objects.create(
        version="2026-04", effective_from=date(2026, 4, 1), text_ja="オンライン診療の依頼・同意"
    )
    accepted.refresh_from_db()
    services.consent_sign(
        case_id=accepted.pk,
        actor=hana,
        signer_name=accepted.patient_name,
        form_version=form.version,
        language="ja",
    )
    accepted.refresh_from_db()
    assert accepted.status == Status.BOOKED
    return accepted


def test_it_shows_the_checks_to_the_patient(patient_hana, accepted, settings):
    settings.WEBRTC_STUN_URLS = ["stun:stun.example.jp:3478"]
    response = _as(patient_hana).get(_url(accepted))
    assert response.status_code == 200
    html = response.content.decode()
    for element in ("check-camera", "check-microphone", "check-connection", "start-check"):
        assert f'id="{element}"' in html
    assert 'id="needs-javascript"' in html  # inside <noscript>
    assert 'id="last-check"' not in html
    config = _page_json(response, "device-check-config")
    assert config["wsPath"] == "/ws/device-check/"
    assert config["postUrl"] == _url(accepted)
    assert config["iceServers"] == [{"urls": ["stun:stun.example.jp:3478"]}]
    texts = _page_json(response, "device-check-messages")
    assert texts["camera_running"] == "Starting the camera…"
    assert "%(ms)s" in texts["conn_ok"]
    assert "no-store" in response["Cache-Control"]
    read = AuditEvent.objects.filter(action=AuditAction.READ, case_id=accepted.pk).last()
    assert read.user == patient_hana and read.detail == {"page": "device_check"}


TURN_SECRET = "the-hospitals-coturn-static-auth-secret"
TURN_URLS = ["turn:turn.example.jp:3478?transport=udp", "turns:turn.example.jp:443?transport=tcp"]
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def turn(settings):
    settings.WEBRTC_STUN_URLS = ["stun:stun.example.jp:3478"]
    settings.WEBRTC_TURN_URLS = TURN_URLS
    settings.WEBRTC_TURN_SECRET = TURN_SECRET
    settings.WEBRTC_TURN_TTL_SECONDS = 900


def _turn_server(response):
    (stun, turn) = _page_json(response, "device-check-config")["iceServers"]
    assert stun == {"urls": ["stun:stun.example.jp:3478"]}  # STUN without credentials
    assert turn["urls"] == TURN_URLS
    return turn


def test_the_patient_gets_a_turn_credential_for_this_case_that_expires_after_the_ttl(
    patient_hana, accepted, turn, time_machine
):
    time_machine.move_to(NOW, tick=False)
    server = _turn_server(_as(patient_hana).get(_url(accepted)))
    expires, purpose = int(NOW.timestamp()) + 900, f"d{accepted.pk}u{patient_hana.pk}"
    assert server["username"] == f"{expires}:{purpose}"
    made = turn_credential(secret=TURN_SECRET, expires=expires, purpose_id=purpose)
    assert server["credential"] == made.credential

    # Ten minutes later the page gives a credential valid fifteen minutes from then.
    time_machine.move_to(NOW + timedelta(minutes=10), tick=False)
    later = _turn_server(_as(patient_hana).get(_url(accepted)))
    assert later["username"] == f"{expires + 600}:{purpose}"


def test_no_long_lived_secret_is_in_the_page(patient_hana, accepted, turn):
    response = _as(patient_hana).get(_url(accepted))
    page = response.content.decode() + str(response.headers)
    assert _turn_server(response)["credential"] in page
    assert TURN_SECRET not in page
    assert json.dumps(TURN_SECRET)[1:-1] not in page  # nor as the JSON of a script would have it
    assert "no-store" in response["Cache-Control"]


def test_each_person_gets_a_username_of_their_own(
    patient_hana, proxy_ken, coordinator_sato, dr_tanaka, turn, time_machine
):
    time_machine.move_to(NOW, tick=False)
    case = factories.proxy_case(
        proxy_ken, patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka
    )
    hana = _turn_server(_as(patient_hana).get(_url(case)))
    ken = _turn_server(_as(proxy_ken).get(_url(case)))
    assert hana["username"].endswith(f":d{case.pk}u{patient_hana.pk}")
    assert ken["username"].endswith(f":d{case.pk}u{proxy_ken.pk}")
    assert hana["username"] != ken["username"]
    assert hana["credential"] != ken["credential"]


def test_no_turn_credential_without_a_turn_server(patient_hana, accepted, settings):
    settings.WEBRTC_STUN_URLS = []
    settings.WEBRTC_TURN_URLS = []
    response = _as(patient_hana).get(_url(accepted))
    assert _page_json(response, "device-check-config")["iceServers"] == []


def test_it_shows_the_latest_check(patient_hana, accepted):
    hana = patient_hana
    for camera_ok in (True, False):
        services.device_check_record(
            case_id=accepted.pk,
            actor=hana,
            camera_ok=camera_ok,
            microphone_ok=True,
            connection_ok=True,
            round_trip_ms=87,
        )
    html = _as(hana).get(_url(accepted)).content.decode()
    assert 'id="last-check" data-passed="false"' in html
    assert "Camera: did not work" in html
    assert "(response time 87 ms)" in html


def test_it_hides_the_case_from_another_patient(outsider_eve, accepted):
    eve = _as(outsider_eve)
    assert eve.get(_url(accepted)).status_code == 404
    assert _post(eve, accepted, PASSED).status_code == 404
    assert not DeviceCheck.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, case_id=accepted.pk).count() == 2


@pytest.mark.parametrize("who", ["coordinator_sato", "dr_tanaka"])
def test_it_is_not_a_page_for_staff(personas, accepted, who):
    staff = _as(personas[who])
    assert staff.get(_url(accepted)).status_code == 403
    assert _post(staff, accepted, PASSED).status_code == 403
    assert not DeviceCheck.objects.exists()


def test_it_sends_a_signed_out_visitor_to_sign_in(accepted):
    response = Client().get(_url(accepted))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert Client().post(_url(accepted), "{}", content_type="application/json").status_code == 302


def test_the_family_member_who_applied_may_check(proxy_ken, coordinator_sato, dr_tanaka):
    ken = proxy_ken
    case = factories.accepted_case(
        ken, coordinator=coordinator_sato, specialist=dr_tanaka, relation="child"
    )
    assert _as(ken).get(_url(case)).status_code == 200
    assert _post(_as(ken), case, PASSED).status_code == 201
    assert DeviceCheck.objects.get().user == ken


def test_it_waits_until_the_department_has_accepted(patient_hana, accepted):
    hana = _as(patient_hana)
    case_withdraw(case_id=accepted.pk, actor=patient_hana)
    response = hana.get(_url(accepted))
    assert response.status_code == 302
    assert response["Location"] == reverse("case-detail", args=[accepted.pk])
    response = _post(hana, accepted, PASSED)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not DeviceCheck.objects.exists()


def test_it_records_a_passed_check(patient_hana, accepted):
    response = _post(_as(patient_hana), accepted, PASSED)
    assert response.status_code == 201
    answer = response.json()
    assert answer["passed"] is True
    assert answer["case_ready"] is False  # accepted, not booked yet
    assert answer["case_url"] == reverse("case-detail", args=[accepted.pk])
    check = DeviceCheck.objects.get()
    assert (check.case, check.user) == (accepted, patient_hana)
    assert check.passed and check.round_trip_ms == 42
    assert check.user_agent == BROWSER
    assert check.detail == PASSED["detail"]
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="readiness.DeviceCheck", object_id=str(check.pk)
    ).exists()
    accepted.refresh_from_db()
    assert accepted.status == Status.ACCEPTED


def test_it_records_a_failed_check(patient_hana, accepted):
    body = {
        "camera_ok": False,
        "microphone_ok": True,
        "connection_ok": False,
        "round_trip_ms": None,
        "detail": {
            "camera": {"result": "failed", "error": "NotAllowedError"},
            "connection": {"result": "failed", "error": "closed", "pings": [], "ice": []},
        },
    }
    response = _post(_as(patient_hana), accepted, body)
    assert response.status_code == 201
    assert response.json()["passed"] is False
    check = DeviceCheck.objects.get()
    assert not check.passed and check.round_trip_ms is None


def test_a_passed_check_makes_a_booked_case_ready(patient_hana, booked_and_prepared):
    case = booked_and_prepared
    failed = {**PASSED, "microphone_ok": False}
    assert _post(_as(patient_hana), case, failed).json()["case_ready"] is False
    case.refresh_from_db()
    assert case.status == Status.BOOKED

    response = _post(_as(patient_hana), case, PASSED)
    assert response.status_code == 201
    assert response.json()["case_ready"] is True
    case.refresh_from_db()
    assert case.status == Status.READY
    assert case.transitions.last().to_status == Status.READY


def _with(**changes):
    return {**PASSED, **changes}


def _detail(part, **changes):
    return _with(detail={**PASSED["detail"], part: {**PASSED["detail"][part], **changes}})


BAD_BODIES = {
    "not json": "camera_ok=true",
    "not utf-8": b"\xff\xfe{",
    "a list": [PASSED],
    "missing field": {k: v for k, v in PASSED.items() if k != "microphone_ok"},
    "unknown field": _with(passed=True),
    "string for bool": _with(camera_ok="true"),
    "number for bool": _with(connection_ok=1),
    "negative ms": _with(round_trip_ms=-5),
    "ms too large": _with(round_trip_ms=60_001),
    "float ms": _with(round_trip_ms=4.5),
    "bool ms": _with(round_trip_ms=True),
    "string ms": _with(round_trip_ms="42"),
    "connected without a round trip": _with(round_trip_ms=None),
    "detail not an object": _with(detail=["camera"]),
    "unknown detail part": _with(detail={"speaker": {"result": "ok"}}),
    "unknown detail field": _detail("camera", fps=30),
    "bad result word": _detail("connection", result="great"),
    "too many pings": _detail("connection", pings=[1] * 11),
    "negative ping": _detail("connection", pings=[1, -1]),
    "unknown ice kind": _detail("connection", ice=["mdns"]),
    "error not a code": _detail("camera", error="<script>alert(1)</script>"),
    "peak above one": _detail("microphone", peak=1.5),
    "huge body": json.dumps(PASSED) + " " * 9000,  # valid, but beyond the size limit
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_it_refuses_a_bad_result_and_stores_nothing(patient_hana, booked_and_prepared, body):
    case = booked_and_prepared
    audit_rows = AuditEvent.objects.count()
    response = _post(_as(patient_hana), case, body)
    assert response.status_code == 400
    assert response.json()["error"] == "The check result could not be read. Please check again."
    assert not DeviceCheck.objects.exists()
    assert AuditEvent.objects.count() == audit_rows
    case.refresh_from_db()
    assert case.status == Status.BOOKED


def test_it_names_the_bad_field(patient_hana, accepted):
    response = _post(_as(patient_hana), accepted, _detail("connection", pings=[1, -1]))
    assert response.json()["field"] == "detail.connection.pings"


def test_it_needs_the_csrf_token(patient_hana, accepted):
    client = _as(patient_hana, enforce_csrf_checks=True)
    assert _post(client, accepted, PASSED).status_code == 403
    assert not DeviceCheck.objects.exists()
