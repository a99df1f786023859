"""The scheduling endpoints: the same services and rules as the pages, as JSON."""

from datetime import datetime, time, timedelta
from typing import Any

import pytest
import time_machine

from opiniondesk.accounts.models import Role
from opiniondesk.api.tests.conftest import CASES_URL
from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import JST
from opiniondesk.scheduling.models import Booking, OfferedSlot
from opiniondesk.scheduling.tests import factories
from opiniondesk.scheduling.tests.test_staff_offer import written
from opiniondesk.testing.personas import make_user

pytestmark = pytest.mark.django_db
SLOTS_URL = "/api/v1/schedule/slots"


@pytest.fixture
def accepted(patient_hana, coordinator_sato, dr_tanaka):
    return factories.accepted_case(patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka)


def url(case: Case, tail: str) -> str:
    return f"{CASES_URL}/{case.pk}{tail}"


def offer_body(case: Case, count: int = 3) -> dict[str, Any]:
    slots = factories.free_slots(case, limit=count)
    return {
        "slots": [
            {"specialist": slot.specialist_id, "starts_at": slot.starts_at.isoformat()}
            for slot in slots
        ],
        "hold_until": factories.hold_until_for(slots).isoformat(),
        "message": "ご都合のよい日時をお選びください。",
    }


@pytest.fixture
def offered(api_as, coordinator_sato, accepted):
    response = api_as(coordinator_sato).post(url(accepted, "/offers"), offer_body(accepted))
    assert response.status_code == 201, response.json()
    accepted.refresh_from_db()
    return accepted


def held_ids(case: Case) -> list[int]:
    return list(
        OfferedSlot.objects.filter(offer__case=case, released_at__isnull=True)
        .order_by("starts_at")
        .values_list("pk", flat=True)
    )


def test_a_coordinator_offers_dates_and_the_patient_sees_them(api_as, patient_hana, offered):
    assert offered.status == Status.OFFERED
    payload = api_as(patient_hana).get(url(offered, "/schedule")).json()
    assert payload["booking"] is None
    assert [slot["id"] for slot in payload["offer"]["slots"]] == held_ids(offered)
    assert payload["offer"]["message"] == "ご都合のよい日時をお選びください。"
    items = {item["item"]: item for item in payload["readiness"]}
    assert items["identity"] == {"item": "identity", "required": True, "done": False}
    assert AuditEvent.objects.filter(
        action=AuditAction.READ, case_id=offered.pk, detail__api="schedule"
    ).exists()


def test_the_patient_books_changes_and_cancels(api_as, patient_hana, offered):
    hana = api_as(patient_hana)
    first, second, _third = held_ids(offered)
    booked = hana.post(url(offered, "/booking"), {"offered_slot": first})
    assert booked.status_code == 201
    assert booked.json()["booking"]["live"] is True
    assert booked.json()["patient_may_change"] is True
    deadline = datetime.fromisoformat(booked.json()["change_deadline"]).astimezone(JST)
    assert deadline.time() == time(23, 59, 59, 999999)

    changed = hana.post(url(offered, "/booking/change"), {"offered_slot": second})
    assert changed.status_code == 201
    history = changed.json()["history"]
    assert [row["live"] for row in history] == [False, True]
    assert history[0]["cancel_kind"] == "changed"

    cancelled = hana.post(url(offered, "/booking/cancel"), {})
    assert cancelled.status_code == 201
    offered.refresh_from_db()
    assert offered.status == Status.CANCELLED
    assert not Booking.objects.filter(case=offered, cancelled_at__isnull=True).exists()


def test_the_deadline_refuses_the_patient_but_not_the_coordinator(
    api_as, patient_hana, coordinator_sato, offered
):
    first = held_ids(offered)[0]
    assert (
        api_as(patient_hana).post(url(offered, "/booking"), {"offered_slot": first}).status_code
        == 201
    )
    booking = Booking.objects.get(case=offered, cancelled_at__isnull=True)
    consult_morning = datetime.combine(
        booking.starts_at.astimezone(JST).date(), time(9), tzinfo=JST
    )
    with time_machine.travel(consult_morning, tick=False):
        refused = api_as(patient_hana).post(url(offered, "/booking/cancel"), {})
        assert refused.status_code == 409
        assert refused.json()["code"] == "PastDeadline"
        assert "23:59" in refused.json()["detail"]
        assert Booking.objects.get(pk=booking.pk).cancelled_at is None

        no_reason = api_as(coordinator_sato).post(url(offered, "/booking/cancel"), {})
        assert no_reason.status_code == 409
        done = api_as(coordinator_sato).post(
            url(offered, "/booking/cancel"), {"reason": "ご本人から電話で取消の依頼"}
        )
        assert done.status_code == 201
    offered.refresh_from_db()
    assert offered.status == Status.CANCELLED


def test_a_slot_held_for_another_case_cannot_be_offered(
    api_as, coordinator_sato, dr_tanaka, offered
):
    other = factories.accepted_case(
        make_user("patient_jun", Role.PATIENT, first_name="潤", last_name="高橋"),
        coordinator=coordinator_sato,
        specialist=dr_tanaka,
    )
    taken = OfferedSlot.objects.filter(offer__case=offered).first()
    body = {
        "slots": [{"specialist": taken.specialist_id, "starts_at": taken.starts_at.isoformat()}],
        "hold_until": (taken.starts_at - timedelta(days=1)).isoformat(),
    }
    response = api_as(coordinator_sato).post(url(other, "/offers"), body)
    assert response.status_code == 409
    assert response.json()["code"] == "SlotTaken"
    other.refresh_from_db()
    assert other.status == Status.ACCEPTED


ONE = {"specialist": 1, "starts_at": "2026-12-01T14:00+09:00"}
HOLD = "2026-12-01T10:00+09:00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slots": [], "hold_until": HOLD}, "slots"),
        ({"slots": [{**ONE, "starts_at": "2026-12-01T14:00"}], "hold_until": HOLD}, "slots"),
        ({"slots": [{**ONE, "specialist": "1"}], "hold_until": HOLD}, "slots"),
        ({"slots": [ONE]}, "hold_until"),
        ({"slots": [ONE], "hold_until": HOLD, "extra": 1}, "extra"),
    ],
)
def test_malformed_offers_are_400_and_change_nothing(
    api_as, coordinator_sato, accepted, body, field
):
    response = api_as(coordinator_sato).post(url(accepted, "/offers"), body)
    assert response.status_code == 400
    assert field in response.json()
    accepted.refresh_from_db()
    assert accepted.status == Status.ACCEPTED


def test_a_forged_slot_is_refused(api_as, coordinator_sato, accepted):
    body = offer_body(accepted, count=1)
    body["slots"][0]["starts_at"] = body["slots"][0]["starts_at"].replace(":00:00", ":10:00")
    response = api_as(coordinator_sato).post(url(accepted, "/offers"), body)
    assert response.status_code == 409
    accepted.refresh_from_db()
    assert accepted.status == Status.ACCEPTED


def test_only_coordinators_offer_and_outsiders_see_nothing(
    api_as, patient_hana, dr_tanaka, outsider_eve, dr_mori, accepted
):
    body = offer_body(accepted)
    before = written()
    assert api_as(patient_hana).post(url(accepted, "/offers"), body).status_code == 403
    assert api_as(dr_tanaka).post(url(accepted, "/offers"), body).status_code == 403
    for tail in ("/schedule", "/offers", "/booking", "/booking/change", "/booking/cancel"):
        client = api_as(outsider_eve)
        response = (
            client.get(url(accepted, tail))
            if tail == "/schedule"
            else client.post(url(accepted, tail), {})
        )
        assert response.status_code == 404, tail
    assert api_as(dr_mori).get(url(accepted, "/schedule")).status_code == 404
    assert api_as(None).get(url(accepted, "/schedule")).status_code == 401
    assert written() == before  # no offer, booking, transition, task or audited change


def test_the_calendar_shows_states_and_cases_only_to_coordinators(
    api_as, coordinator_sato, admin_kato, patient_hana, dr_tanaka, offered
):
    first = OfferedSlot.objects.filter(offer__case=offered).order_by("starts_at").first()
    day = first.starts_at.astimezone(JST).date().isoformat()
    params = {"department": "cardiology", "start": day, "end": day}
    rows = api_as(coordinator_sato).get(SLOTS_URL, params).json()
    held = [row for row in rows if row["state"] == "held"]
    assert any(row["case"] == offered.pk for row in held)
    assert all(
        datetime.fromisoformat(row["starts_at"]).astimezone(JST).minute in (0, 30) for row in rows
    )
    admin_rows = api_as(admin_kato).get(SLOTS_URL, params).json()
    assert [row["state"] for row in admin_rows] == [row["state"] for row in rows]
    assert all(row["case"] is None for row in admin_rows)
    assert api_as(patient_hana).get(SLOTS_URL, params).status_code == 403
    assert api_as(dr_tanaka).get(SLOTS_URL, params).status_code == 403


DEC = {"department": "cardiology", "start": "2026-12-01", "end": "2026-12-02"}


@pytest.mark.parametrize(
    "params",
    [
        {"department": "cardiology", "start": "2026-12-10", "end": "2026-12-01"},
        {"department": "cardiology", "start": "2026-01-01", "end": "2026-12-31"},
        {"department": "nowhere", "start": "2026-12-01", "end": "2026-12-02"},
        {**DEC, "specialist": "x"},
        {**DEC, "specialist": "9999"},
        {"department": "cardiology", "start": "12/01/2026", "end": "2026-12-02"},
        {"start": "2026-12-01", "end": "2026-12-02"},
    ],
)  # fmt: skip
def test_bad_calendar_queries_are_400(api_as, coordinator_sato, params):
    assert api_as(coordinator_sato).get(SLOTS_URL, params).status_code == 400


def test_the_year_end_has_no_slots(api_as, coordinator_sato):
    params = {"department": "cardiology", "start": "2026-12-29", "end": "2027-01-03"}
    assert api_as(coordinator_sato).get(SLOTS_URL, params).json() == []


def test_the_transitions_endpoint_leaves_offered_cases_to_the_scheduling_endpoints(
    api_as, coordinator_sato, offered
):
    sato = api_as(coordinator_sato)
    detail = sato.get(f"{CASES_URL}/{offered.pk}").json()
    assert detail["allowed_transitions"] == ["withdrawn"]
    response = sato.post(url(offered, "/transitions"), {"to": "accepted"})
    assert response.status_code == 403
    offered.refresh_from_db()
    assert offered.status == Status.OFFERED


# A 60-minute consult (SPEC §5): each date and the booking hold both of their slots.


@pytest.fixture
def accepted_60(patient_hana, coordinator_sato, dr_tanaka):
    return factories.accepted_case(
        patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka, planned_minutes=60
    )


def test_a_60_minute_case_is_offered_booked_and_moved_an_hour_at_a_time(
    api_as, coordinator_sato, patient_hana, dr_tanaka, accepted_60
):
    sato, hana = api_as(coordinator_sato), api_as(patient_hana)
    tuesday = datetime(2026, 12, 1, 14, 0, tzinfo=JST)
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=JST), tick=True):
        body = {
            "slots": [{"specialist": dr_tanaka.pk, "starts_at": tuesday.isoformat()}],
            "hold_until": "2026-11-30T17:00+09:00",
        }
        offered = sato.post(url(accepted_60, "/offers"), body).json()
        assert offered["planned_minutes"] == 60
        [date_] = offered["offer"]["slots"]
        assert datetime.fromisoformat(date_["ends_at"]) == tuesday + timedelta(hours=1)

        booked = hana.post(url(accepted_60, "/booking"), {"offered_slot": date_["id"]}).json()
        assert datetime.fromisoformat(booked["booking"]["ends_at"]) == tuesday + timedelta(hours=1)
        rows = sato.get(
            SLOTS_URL, {"department": "cardiology", "start": "2026-12-01", "end": "2026-12-01"}
        ).json()
        tanaka = [
            (datetime.fromisoformat(r["starts_at"]).astimezone(JST).strftime("%H:%M"), r["state"])
            for r in rows
            if r["specialist"] == dr_tanaka.pk
        ]
        assert tanaka == [
            ("14:00", "booked"),
            ("14:30", "booked"),
            ("15:00", "free"),
            ("15:30", "free"),
        ]

        before = written()
        too_late = {"slot": {"specialist": dr_tanaka.pk, "starts_at": "2026-12-01T15:30+09:00"}}
        refused = sato.post(url(accepted_60, "/booking/change"), {**too_late, "reason": "電話"})
        assert refused.status_code == 409
        assert refused.json()["code"] == "SchedulingError"
        assert written() == before

        later = {"slot": {"specialist": dr_tanaka.pk, "starts_at": "2026-12-01T14:30+09:00"}}
        moved = sato.post(url(accepted_60, "/booking/change"), {**later, "reason": "医師の都合"})
        assert moved.status_code == 201
        booking = moved.json()["booking"]
        assert datetime.fromisoformat(booking["starts_at"]) == tuesday + timedelta(minutes=30)
        assert datetime.fromisoformat(booking["ends_at"]) == tuesday + timedelta(minutes=90)


def test_the_schema_names_the_planned_length(client):
    document = client.get("/api/schema/", {"format": "json"}, secure=True).json()
    schedule = document["components"]["schemas"]["Schedule"]
    assert schedule["properties"]["planned_minutes"]["nullable"] is True
    assert "planned_minutes" in schedule["required"]
    offers = document["paths"]["/api/v1/cases/{case_id}/offers"]["post"]
    assert "planned_minutes of consecutive slots" in offers["description"]
