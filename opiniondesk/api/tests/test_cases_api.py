"""The authenticated case endpoints: who sees what, the audit trail, transitions, phone logs.

Personas: patient_hana applies for herself; outsider_eve must not see her case; coordinator_sato
screens; dr_tanaka (cardiology) reviews her referred case, dr_mori (neurology) must not see it;
billing_ito sees cases past the consult; admin_kato sees no clinical data.
"""

import json
import os
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opiniondesk.accounts import middleware
from opiniondesk.accounts.models import Role, User
from opiniondesk.api.tests.conftest import CASES_URL
from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.cases import screening
from opiniondesk.cases.models import Case, CaseTransition, DocumentRequest, PhoneLog
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.closed_days import next_open_day
from opiniondesk.catalog.models import Department
from opiniondesk.core.time import jst_today

pytestmark = pytest.mark.django_db

DUE = next_open_day(jst_today() + timedelta(days=7)).isoformat()  # the desk answers then


def url(case: Case, tail: str = "") -> str:
    return f"{CASES_URL}/{case.pk}{tail}"


def audit(action: AuditAction, **filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters))


def transition_rows(case: Case) -> list[tuple[str, str]]:
    return list(case.transitions.values_list("from_status", "to_status"))


def set_status(case: Case, status: Status) -> Case:
    """Given a case in a state the scheduling and billing issues will reach (no services yet)."""
    Case.objects.filter(pk=case.pk).update(status=status)
    case.refresh_from_db()
    return case


@pytest.fixture
def hana_case(make_case, patient_hana):
    """Hana's complete application for cardiology, sent with its documents: `submitted`."""
    return make_case(patient_hana)


@pytest.fixture
def referred_case(hana_case, coordinator_sato):
    screening.case_start_screening(case_id=hana_case.pk, actor=coordinator_sato)
    screening.case_refer(
        case_id=hana_case.pk,
        actor=coordinator_sato,
        department=Department.objects.get(code="cardiology"),
    )
    hana_case.refresh_from_db()
    return hana_case


@pytest.fixture
def screened_case(hana_case, coordinator_sato):
    screening.case_start_screening(case_id=hana_case.pk, actor=coordinator_sato)
    hana_case.refresh_from_db()
    return hana_case


# Who sees what --------------------------------------------------------------------------------

PERSONAS = [
    "patient_hana",
    "outsider_eve",
    "coordinator_sato",
    "dr_tanaka",
    "dr_mori",
    "billing_ito",
    "admin_kato",
]
# (case state, persona) → may see it; everything not listed is a 404.
SEES = {
    ("draft", "patient_hana"),
    ("submitted", "patient_hana"),
    ("submitted", "coordinator_sato"),
    ("referred", "patient_hana"),
    ("referred", "coordinator_sato"),
    ("referred", "dr_tanaka"),
    ("completed", "patient_hana"),
    ("completed", "coordinator_sato"),
    ("completed", "dr_tanaka"),
    ("completed", "billing_ito"),
}


@pytest.fixture
def case_in(make_case, patient_hana, coordinator_sato):
    def make(state: str) -> Case:
        case = make_case(patient_hana, send=state != "draft")
        if state in ("referred", "completed"):
            screening.case_start_screening(case_id=case.pk, actor=coordinator_sato)
            screening.case_refer(
                case_id=case.pk,
                actor=coordinator_sato,
                department=Department.objects.get(code="cardiology"),
            )
        if state == "completed":
            set_status(case, Status.COMPLETED)
        case.refresh_from_db()
        return case

    return make


@pytest.mark.parametrize("state", ["draft", "submitted", "referred", "completed"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_a_case_only_to_those_who_may_see_it(request, api_as, case_in, state, persona):
    case = case_in(state)
    user = request.getfixturevalue(persona)
    api = api_as(user)
    response = api.get(url(case))
    if (state, persona) in SEES:
        assert response.status_code == 200, response.content
        assert response.json()["id"] == case.pk
        assert audit(AuditAction.READ, case_id=case.pk, user=user)
    else:
        assert response.status_code == 404, response.content
        assert response.json() == {"detail": "No such case."}
        assert audit(AuditAction.DENIED, case_id=case.pk, user=user)
        assert not audit(AuditAction.READ, case_id=case.pk, user=user)
    listed = [row["id"] for row in api.get(CASES_URL).json()["results"]]
    assert (case.pk in listed) is ((state, persona) in SEES)


@pytest.mark.parametrize(
    ("method", "tail"),
    [
        ("get", ""),
        ("get", "/documents"),
        ("get", "/transitions"),
        ("post", "/transitions"),
        ("get", "/phone-logs"),
        ("post", "/phone-logs"),
    ],
)
def test_it_refuses_anonymous_callers_everywhere(api_as, hana_case, method, tail):
    api = api_as(None)
    response = (
        api.get(url(hana_case, tail)) if method == "get" else api.post(url(hana_case, tail), {})
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "credentials" in response.json()["detail"]
    assert api.get(CASES_URL).status_code == 401


@pytest.mark.parametrize("tail", ["", "/documents", "/transitions", "/phone-logs"])
def test_it_hides_other_peoples_cases_on_every_endpoint(api_as, hana_case, outsider_eve, tail):
    response = api_as(outsider_eve).get(url(hana_case, tail))
    assert response.status_code == 404
    (denied,) = audit(AuditAction.DENIED, case_id=hana_case.pk)
    assert denied.user == outsider_eve
    assert denied.detail["path"] == url(hana_case, tail)


def test_it_answers_404_for_an_id_no_database_can_hold(api_as, coordinator_sato):
    response = api_as(coordinator_sato).get(f"{CASES_URL}/{10**30}")
    assert response.status_code == 404
    (denied,) = audit(AuditAction.DENIED)
    assert denied.case_id is None


def test_it_refuses_staff_without_a_second_factor(api_as, hana_case):
    no_totp = User.objects.create_user(
        "coordinator_new", "new@example.jp", "x", role=Role.COORDINATOR
    )
    api = api_as(no_totp)
    for response in (
        api.get(CASES_URL),
        api.get(url(hana_case)),
        api.post(url(hana_case, "/transitions"), {"to": "screening"}),
    ):
        assert response.status_code == 403
        assert "two-factor" in response.json()["detail"]
    hana_case.refresh_from_db()
    assert hana_case.status == Status.SUBMITTED


def test_it_signs_idle_staff_out_with_a_401(api_as, coordinator_sato, hana_case, settings):
    api = api_as(coordinator_sato)
    assert api.get(CASES_URL).status_code == 200
    session = api.client.session
    session["opiniondesk.last_activity"] -= settings.STAFF_IDLE_TIMEOUT_MINUTES * 60 + 1
    session.save()
    answer = api.get(CASES_URL)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == 'Bearer realm="api"'  # as the document says


def test_it_needs_the_csrf_token_for_writes(api_as, coordinator_sato, hana_case):
    api = api_as(coordinator_sato, enforce_csrf_checks=True)
    response = api.post(url(hana_case, "/transitions"), {"to": "screening"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    token = "a" * 32
    api.client.cookies["csrftoken"] = token
    response = api.client.post(
        url(hana_case, "/transitions"),
        json.dumps({"to": "screening"}),
        content_type="application/json",
        secure=True,
        headers={"X-CSRFToken": token, "Referer": "https://testserver/"},
    )
    assert response.status_code == 201, response.content


# Lists ------------------------------------------------------------------------------------


def test_it_lists_the_cases_with_their_summary(api_as, coordinator_sato, hana_case):
    response = api_as(coordinator_sato).get(CASES_URL)
    assert response.status_code == 200
    page = response.json()
    assert (page["count"], page["next"], page["previous"]) == (1, None, None)
    (row,) = page["results"]
    assert row == {
        "id": hana_case.pk,
        "reference": f"SO-{hana_case.pk:06d}",
        "status": "submitted",
        "status_changed_at": row["status_changed_at"],
        "department": "cardiology",
        "disease": "heart_failure",
        "mode": "online",
        "submitted_at": row["submitted_at"],
        "days_waiting": 0,
    }
    assert row["submitted_at"].endswith("+09:00")


def test_it_audits_a_list_once_naming_the_cases(api_as, coordinator_sato, make_case, patient_hana):
    cases = [make_case(patient_hana, documents=False) for _ in range(2)]
    api_as(coordinator_sato).get(CASES_URL, REMOTE_ADDR="203.0.113.7")
    (event,) = audit(AuditAction.READ, detail__api="case_list")
    assert sorted(event.detail["cases"]) == sorted(c.pk for c in cases)
    assert event.source_address == "203.0.113.7"


def test_it_counts_days_waiting_in_tokyo(api_as, coordinator_sato, hana_case):
    Case.objects.filter(pk=hana_case.pk).update(submitted_at=timezone.now() - timedelta(days=3))
    (row,) = api_as(coordinator_sato).get(CASES_URL).json()["results"]
    assert row["days_waiting"] == 3


def test_it_filters_by_status_department_and_mode(
    api_as, coordinator_sato, make_case, patient_hana
):
    sent = make_case(patient_hana)
    waiting = make_case(patient_hana, documents=False)
    neuro = make_case(patient_hana, department="neurology", disease="epilepsy", mode="in_person")
    api = api_as(coordinator_sato)

    def ids(**params: str) -> set[int]:
        response = api.get(CASES_URL, params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids() == {sent.pk, waiting.pk, neuro.pk}
    assert ids(status="awaiting_documents") == {waiting.pk}
    assert ids(department="neurology") == {neuro.pk}
    assert ids(mode="online") == {sent.pk, waiting.pk}
    assert ids(mode="in_person", department="cardiology") == set()
    assert ids(department="no-such-department") == set()


def test_it_pages_the_list(api_as, coordinator_sato, make_case, patient_hana):
    for _ in range(3):
        make_case(patient_hana, documents=False)
    api = api_as(coordinator_sato)
    first = api.get(CASES_URL, {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = api.get(CASES_URL, {"page_size": 2, "page": 2}).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert api.get(CASES_URL, {"page": 9}).status_code == 404


def test_it_pages_by_cursor_through_every_case_once_both_ways(
    api_as, coordinator_sato, make_case, patient_hana
):
    made = [make_case(patient_hana, documents=False).pk for _ in range(5)]
    api = api_as(coordinator_sato)
    pages, url = [], CASES_URL + "?page_size=2"
    while url:
        page = api.get(url).json()
        assert page["count"] == 5  # from the kept counts, on every page
        pages.append([row["id"] for row in page["results"]])
        url = page["next"]
    assert pages == [made[::-1][i : i + 2] for i in range(0, 5, 2)]  # newest first
    back = api.get(page["previous"]).json()
    assert [row["id"] for row in back["results"]] == pages[1]
    assert "cursor=" in back["next"] and "cursor=" in page["previous"]


@pytest.mark.parametrize(
    "params",
    [{"cursor": "bm90LWEtY3Vyc29y"}, {"cursor": "a!"}, {"cursor": "eA", "page": "2"}],
)
def test_it_refuses_a_cursor_it_did_not_give(api_as, coordinator_sato, params):
    response = api_as(coordinator_sato).get(CASES_URL, params)
    assert response.status_code == 400
    assert set(response.json()) & {"cursor", "page"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"mode": "video"}, "mode"),
        ({"department": "循環器"}, "department"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"page": "x"}, "page"),
        ({"stauts": "submitted"}, "stauts"),
    ],
)
def test_it_refuses_bad_list_filters(api_as, coordinator_sato, params, field):
    response = api_as(coordinator_sato).get(CASES_URL, params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("persona", ["coordinator_sato", "patient_hana"])
def test_it_lists_in_a_bounded_number_of_queries(
    request,
    api_as,
    make_case,
    patient_hana,
    coordinator_sato,
    persona,
    django_assert_max_num_queries,
    monkeypatch,
):
    # Staff sessions record their last activity once a minute: not during this test.
    monkeypatch.setattr(middleware, "ACTIVITY_RESOLUTION_SECONDS", 3600)
    api = api_as(request.getfixturevalue(persona))
    api.get(CASES_URL)  # the session's first request writes its last-activity stamp

    def queries_for(total: int) -> int:
        while Case.objects.count() < total:
            make_case(patient_hana, documents=False)
        with CaptureQueriesContext(connection) as captured:
            response = api.get(CASES_URL)
        assert response.json()["count"] == total
        return len(captured)

    few, many = queries_for(3), queries_for(13)
    assert few == many
    with django_assert_max_num_queries(11):
        api.get(CASES_URL)


# One case -------------------------------------------------------------------------------------


def test_it_shows_the_whole_application(api_as, coordinator_sato, hana_case):
    response = api_as(coordinator_sato).get(url(hana_case), REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200
    case = response.json()
    assert case["status"] == "submitted"
    assert case["applicant"]["relation"] == "self"
    assert case["patient"]["family_name"] == "山田"
    assert case["patient"]["birth_date"] == "1950-04-01"
    assert case["consultation_sheet"]["questions"] == "手術は必要でしょうか。"
    assert case["declarations"]["attending_physician_agrees"] is True
    assert case["attending_physician"]["institution"] == "見本町クリニック"
    assert case["proxies"] == []
    assert case["privacy_policy"] == "demo-1"
    assert case["incomplete_steps"] == []
    assert case["eligibility"] == {"eligible": True, "reasons": [], "missing_documents": []}
    assert case["open_document_request"] is None
    assert case["allowed_transitions"] == ["screening", "awaiting_documents", "withdrawn"]
    (read,) = audit(AuditAction.READ, case_id=hana_case.pk, detail__api="case")
    assert (read.user, read.source_address) == (coordinator_sato, "198.51.100.4")


def test_it_recomputes_eligibility_with_the_missing_documents(api_as, patient_hana, make_case):
    case = make_case(patient_hana, documents=False)
    body = api_as(patient_hana).get(url(case)).json()
    assert body["status"] == "awaiting_documents"
    assert body["eligibility"] == {
        "eligible": False,
        "reasons": [],
        "missing_documents": ["REFERRAL_LETTER", "TEST_DATA"],
    }
    assert body["allowed_transitions"] == ["withdrawn"]


def test_it_shows_no_verdict_while_the_application_is_incomplete(api_as, patient_hana, wizard_for):
    wizard = wizard_for(patient_hana)
    wizard.applicant(relation="self")
    body = api_as(patient_hana).get(url(wizard.case)).json()
    assert body["status"] == "draft"
    assert body["eligibility"] is None
    assert "patient" in body["incomplete_steps"]
    assert body["department"] is None and body["days_waiting"] is None


def test_it_shows_a_proxys_application_with_the_family_members(
    api_as, coordinator_sato, proxy_ken, wizard_for
):
    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    assert wizard.submit().status_code == 302
    body = api_as(coordinator_sato).get(url(wizard.case)).json()
    assert body["status"] == "submitted"
    assert body["applicant"]["relation"] == "child"
    assert body["patient"]["patient_consent"] == "signed"
    (proxy,) = body["proxies"]
    assert (proxy["family_name"], proxy["relation"]) == ("山田", "child")
    assert body["eligibility"]["eligible"] is True


def test_it_shows_the_open_request_for_documents(
    api_as, coordinator_sato, patient_hana, screened_case
):
    screening.case_request_documents(
        case_id=screened_case.pk,
        actor=coordinator_sato,
        items=["MEDICATION_LIST"],
        message="お薬手帳の写しをお送りください。",
        due_date=date.fromisoformat(DUE),  # a week ahead falls on a closed day on Saturdays
    )
    body = api_as(patient_hana).get(url(screened_case)).json()
    request = body["open_document_request"]
    assert request["items"] == ["MEDICATION_LIST"]
    assert request["message"] == "お薬手帳の写しをお送りください。"
    assert request["due_date"] == DUE


# Documents -------------------------------------------------------------------------------------


def test_it_lists_document_metadata_with_links_never_the_bytes(api_as, patient_hana, hana_case):
    api = api_as(patient_hana)
    response = api.get(url(hana_case, "/documents"))
    assert response.status_code == 200
    letter, tests = response.json()
    assert set(letter) == {
        "id",
        "kind",
        "test_data_kind",
        "original_name",
        "file_kind",
        "content_type",
        "size",
        "sha256",
        "uploaded_at",
        "source",
        "supersedes",
        "url",
    }
    assert (letter["kind"], letter["original_name"], letter["file_kind"]) == (
        "referral_letter",
        "referral_letter.pdf",
        "pdf",
    )
    assert (tests["kind"], tests["test_data_kind"], tests["source"]) == (
        "test_data",
        "blood",
        "applicant",
    )
    assert len(letter["sha256"]) == 64 and letter["size"] > 0 and letter["supersedes"] is None
    assert b"%PDF" not in response.content
    assert letter["url"] == f"https://testserver/documents/{letter['id']}/"
    assert api.client.get(letter["url"], secure=True).status_code == 200
    assert audit(AuditAction.READ, case_id=hana_case.pk, detail__api="documents")


# Transitions -------------------------------------------------------------------------------------


def post_transition(api: Any, case: Case, body: Any) -> Any:
    return api.post(url(case, "/transitions"), body)


def test_it_lists_the_history(api_as, patient_hana, coordinator_sato, referred_case):
    staff = api_as(coordinator_sato).get(url(referred_case, "/transitions")).json()
    assert [(t["from_status"], t["to_status"]) for t in staff] == [
        ("draft", "submitted"),
        ("submitted", "screening"),
        ("screening", "referred"),
    ]
    assert [t["actor"] for t in staff] == ["patient_hana", "coordinator_sato", "coordinator_sato"]
    assert staff[2]["detail"] == {"department": "cardiology", "disease": "heart_failure"}
    # The applicant sees what happened and the role, not the staff member's name.
    own = api_as(patient_hana).get(url(referred_case, "/transitions")).json()
    assert [t["actor"] for t in own] == ["patient_hana", None, None]
    assert [t["actor_role"] for t in own] == ["applicant", "coordinator", "coordinator"]
    assert len(audit(AuditAction.READ, case_id=referred_case.pk, detail__api="transitions")) == 2


def test_it_starts_screening(api_as, coordinator_sato, hana_case):
    response = post_transition(api_as(coordinator_sato), hana_case, {"to": "screening"})
    assert response.status_code == 201, response.content
    row = response.json()
    assert (row["from_status"], row["to_status"], row["actor"]) == (
        "submitted",
        "screening",
        "coordinator_sato",
    )
    transition = CaseTransition.objects.get(pk=row["id"])
    assert (transition.actor, transition.actor_role) == (coordinator_sato, "coordinator")
    hana_case.refresh_from_db()
    assert hana_case.status == Status.SCREENING
    (event,) = audit(AuditAction.TRANSITION, case_id=hana_case.pk, user=coordinator_sato)
    assert event.detail["to"] == "screening" and event.source_address == "127.0.0.1"


def test_it_requests_documents(api_as, coordinator_sato, screened_case):
    response = post_transition(
        api_as(coordinator_sato),
        screened_case,
        {
            "to": "awaiting_documents",
            "items": ["MEDICATION_LIST", "TEST_DATA"],
            "message": "お薬手帳と最新の血液検査をお送りください。",
            "due_date": DUE,
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["detail"] == {"requested_documents": ["MEDICATION_LIST", "TEST_DATA"]}
    request = DocumentRequest.objects.get(case=screened_case)
    assert request.items == ["MEDICATION_LIST", "TEST_DATA"]
    assert request.due_date.isoformat() == DUE
    assert transition_rows(screened_case)[-1] == ("screening", "awaiting_documents")


def test_it_rejects_with_reason_codes(api_as, coordinator_sato, screened_case):
    response = post_transition(
        api_as(coordinator_sato),
        screened_case,
        {"to": "rejected", "reasons": ["WANTS_TRANSFER"], "note": "転院のご相談は主治医へ。"},
    )
    assert response.status_code == 201, response.content
    screened_case.refresh_from_db()
    assert screened_case.status == Status.REJECTED
    assert screened_case.rejection_reasons == ["WANTS_TRANSFER"]
    assert screened_case.rejection_note == "転院のご相談は主治医へ。"
    assert response.json()["reason"] == "転院のご相談は主治医へ。"


def test_it_refers_to_a_department(api_as, coordinator_sato, dr_tanaka, screened_case):
    response = post_transition(
        api_as(coordinator_sato), screened_case, {"to": "referred", "department": "cardiology"}
    )
    assert response.status_code == 201, response.content
    assert transition_rows(screened_case)[-1] == ("screening", "referred")
    # Now the department's specialist sees it.
    assert api_as(dr_tanaka).get(url(screened_case)).status_code == 200


def test_it_accepts_with_the_planned_length(api_as, dr_tanaka, referred_case):
    api = api_as(dr_tanaka)
    assert api.get(url(referred_case)).json()["allowed_transitions"] == ["accepted", "declined"]
    response = post_transition(api, referred_case, {"to": "accepted", "planned_minutes": 60})
    assert response.status_code == 201, response.content
    assert response.json()["detail"] == {"planned_minutes": 60}
    referred_case.refresh_from_db()
    assert (referred_case.status, referred_case.planned_minutes) == (Status.ACCEPTED, 60)
    assert api.get(url(referred_case)).json()["planned_minutes"] == 60


def test_it_does_not_accept_without_the_planned_length(api_as, dr_tanaka, referred_case):
    response = post_transition(api_as(dr_tanaka), referred_case, {"to": "accepted"})
    assert response.status_code == 400, response.content
    assert "planned_minutes" in response.json()
    assert_unchanged(referred_case, Status.REFERRED, 3)


def test_it_declines_with_a_reason(api_as, dr_tanaka, patient_hana, referred_case):
    response = post_transition(
        api_as(dr_tanaka), referred_case, {"to": "declined", "reason": "担当できる専門医がいません"}
    )
    assert response.status_code == 201, response.content
    body = api_as(patient_hana).get(url(referred_case)).json()
    assert (body["status"], body["decline_reason"]) == ("declined", "担当できる専門医がいません")


def test_it_lets_the_applicant_withdraw(api_as, patient_hana, hana_case):
    response = post_transition(
        api_as(patient_hana), hana_case, {"to": "withdrawn", "reason": "地元で治療を続けます"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["actor_role"] == "applicant"
    assert transition_rows(hana_case)[-1] == ("submitted", "withdrawn")


def test_it_lets_a_coordinator_withdraw_on_the_applicants_request(
    api_as, coordinator_sato, referred_case
):
    response = post_transition(api_as(coordinator_sato), referred_case, {"to": "withdrawn"})
    assert response.status_code == 201, response.content
    assert transition_rows(referred_case)[-1] == ("referred", "withdrawn")


def assert_unchanged(case: Case, status: Status, rows: int) -> None:
    case.refresh_from_db()
    assert case.status == status
    assert case.transitions.count() == rows


def test_it_refuses_an_illegal_transition_with_409(api_as, coordinator_sato, hana_case):
    rows = hana_case.transitions.count()
    response = post_transition(
        api_as(coordinator_sato), hana_case, {"to": "referred", "department": "cardiology"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This case is submitted now; it cannot move to referred.",
        "code": "invalid_transition",
        "status": "submitted",
        "to": "referred",
    }
    assert_unchanged(hana_case, Status.SUBMITTED, rows)
    assert not audit(AuditAction.TRANSITION, user=coordinator_sato)


@pytest.mark.parametrize(
    "body",
    [
        {"to": "screening"},
        {"to": "referred", "department": "cardiology"},
        {"to": "rejected", "reasons": ["WANTS_TRANSFER"]},
    ],
)
def test_it_refuses_the_second_of_two_identical_transitions(
    api_as, coordinator_sato, make_case, patient_hana, body
):
    case = make_case(patient_hana)
    if body["to"] != "screening":
        screening.case_start_screening(case_id=case.pk, actor=coordinator_sato)
    other = User.objects.create_user("coordinator_abe", role=Role.COORDINATOR)
    from opiniondesk.accounts.mfa import enrol_demo_factor

    enrol_demo_factor(other)
    first = post_transition(api_as(coordinator_sato), case, body)
    assert first.status_code == 201, first.content
    rows = case.transitions.count()
    second = post_transition(api_as(other), case, body)
    assert second.status_code == 409
    assert second.json()["code"] == "invalid_transition"
    assert_unchanged(case, Status(body["to"]), rows)


def test_it_refuses_a_specialist_who_accepts_twice(api_as, dr_tanaka, referred_case):
    api = api_as(dr_tanaka)
    accept = {"to": "accepted", "planned_minutes": 30}
    assert post_transition(api, referred_case, accept).status_code == 201
    second = post_transition(api, referred_case, {"to": "declined", "reason": "やはり辞退"})
    assert second.status_code == 409
    assert second.json()["status"] == "accepted"


@pytest.mark.parametrize(
    ("persona", "body"),
    [
        ("patient_hana", {"to": "screening"}),
        ("patient_hana", {"to": "referred", "department": "cardiology"}),
        ("patient_hana", {"to": "accepted"}),
        ("coordinator_sato", {"to": "accepted"}),
        ("coordinator_sato", {"to": "declined", "reason": "x"}),
        ("dr_tanaka", {"to": "withdrawn"}),
        ("dr_tanaka", {"to": "screening"}),
        ("dr_tanaka", {"to": "referred", "department": "neurology"}),
    ],
)
def test_it_refuses_a_role_that_may_not_act_with_403(request, api_as, referred_case, persona, body):
    user = request.getfixturevalue(persona)
    rows = referred_case.transitions.count()
    response = post_transition(api_as(user), referred_case, body)
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role may not do this."}
    assert_unchanged(referred_case, Status.REFERRED, rows)
    (denied,) = audit(AuditAction.DENIED, case_id=referred_case.pk, user=user)
    assert denied.detail["why"] == f"transition to {body['to']}"


def test_it_refuses_billing_any_transition(api_as, billing_ito, referred_case):
    completed = set_status(referred_case, Status.COMPLETED)
    rows = completed.transitions.count()
    response = post_transition(api_as(billing_ito), completed, {"to": "withdrawn"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role may not do this."}
    assert_unchanged(completed, Status.COMPLETED, rows)
    (denied,) = audit(AuditAction.DENIED, case_id=completed.pk, user=billing_ito)
    assert denied.detail["why"] == "transition to withdrawn"
    assert not audit(AuditAction.TRANSITION, user=billing_ito)


def test_it_hides_the_case_from_a_specialist_of_another_department(api_as, dr_mori, referred_case):
    response = post_transition(api_as(dr_mori), referred_case, {"to": "accepted"})
    assert response.status_code == 404
    assert_unchanged(referred_case, Status.REFERRED, 3)


BAD_BODIES = [
    ({}, "to"),
    ({"to": None}, "to"),
    ({"to": "offered"}, "to"),
    ({"to": "SCREENING"}, "to"),
    ({"to": ["screening"]}, "to"),
    ({"to": "screening", "note": "x"}, "note"),
    ({"to": "awaiting_documents", "message": "x", "due_date": DUE}, "items"),
    ({"to": "awaiting_documents", "items": [], "message": "x", "due_date": DUE}, "items"),
    ({"to": "awaiting_documents", "items": "TEST_DATA", "message": "x", "due_date": DUE}, "items"),
    ({"to": "awaiting_documents", "items": ["X_RAY"], "message": "x", "due_date": DUE}, "items"),
    (
        {
            "to": "awaiting_documents",
            "items": ["TEST_DATA", "TEST_DATA"],
            "message": "x",
            "due_date": DUE,
        },
        "items",
    ),
    (
        {"to": "awaiting_documents", "items": ["TEST_DATA"], "message": "", "due_date": DUE},
        "message",
    ),
    ({"to": "awaiting_documents", "items": ["TEST_DATA"], "message": "x"}, "due_date"),
    (
        {
            "to": "awaiting_documents",
            "items": ["TEST_DATA"],
            "message": "x",
            "due_date": "2020-01-01",
        },
        "due_date",
    ),
    (
        {
            "to": "awaiting_documents",
            "items": ["TEST_DATA"],
            "message": "x",
            "due_date": "2026-02-30",
        },
        "due_date",
    ),
    ({"to": "rejected"}, "reasons"),
    ({"to": "rejected", "reasons": ["TOO_LATE"]}, "reasons"),
    ({"to": "rejected", "reasons": ["WANTS_TRANSFER"], "note": 3}, "note"),
    ({"to": "referred"}, "department"),
    ({"to": "referred", "department": "dermatology"}, "department"),
    ({"to": "referred", "department": 7}, "department"),
    ({"to": "withdrawn", "reason": ["x"]}, "reason"),
    ({"to": "withdrawn", "reason": "x" * 501}, "reason"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_it_names_the_field_at_fault(api_as, coordinator_sato, screened_case, body, field):
    rows = screened_case.transitions.count()
    response = post_transition(api_as(coordinator_sato), screened_case, body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert_unchanged(screened_case, Status.SCREENING, rows)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "accepted", "planned_minutes": 45}, "planned_minutes"),
        ({"to": "accepted", "planned_minutes": 90}, "planned_minutes"),
        ({"to": "accepted", "planned_minutes": "30"}, "planned_minutes"),
        ({"to": "accepted", "planned_minutes": 30.0}, "planned_minutes"),
        ({"to": "accepted", "planned_minutes": True}, "planned_minutes"),
        ({"to": "accepted", "review_minutes": 25, "planned_minutes": 30}, "review_minutes"),
        ({"to": "declined"}, "reason"),
        ({"to": "declined", "reason": "   "}, "reason"),
    ],
)
def test_it_names_the_field_at_fault_for_specialists(api_as, dr_tanaka, referred_case, body, field):
    response = post_transition(api_as(dr_tanaka), referred_case, body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert_unchanged(referred_case, Status.REFERRED, 3)


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"[]", b'"screening"', b"null", b"[" * 100_000, b'{"to": "\\ud800"}', b"\xff"],
)
def test_it_answers_400_to_bodies_that_are_no_object(api_as, coordinator_sato, hana_case, raw):
    response = api_as(coordinator_sato).post(url(hana_case, "/transitions"), raw)
    assert response.status_code == 400, response.content
    assert_unchanged(hana_case, Status.SUBMITTED, 1)


def test_it_answers_415_to_a_form_body(api_as, coordinator_sato, hana_case):
    response = api_as(coordinator_sato).client.post(
        url(hana_case, "/transitions"), {"to": "screening"}, secure=True
    )
    assert response.status_code == 415


# Property-based: whatever the body, the answer is a client error or a success, never a 500.

VALID_BODIES = [
    {"to": "screening"},
    {"to": "awaiting_documents", "items": ["TEST_DATA"], "message": "x", "due_date": DUE},
    {"to": "rejected", "reasons": ["WANTS_TRANSFER"], "note": ""},
    {"to": "referred", "department": "cardiology"},
    {"to": "accepted", "planned_minutes": 30},
    {"to": "declined", "reason": "x"},
    {"to": "withdrawn", "reason": ""},
]
KEYS = sorted({key for body in VALID_BODIES for key in body})
any_text = st.text(st.characters(exclude_categories=()), max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | any_text
    | st.sampled_from(
        [
            *("screening", "awaiting_documents", "rejected", "referred", "accepted"),
            *("declined", "withdrawn", "offered", "TEST_DATA", "WANTS_TRANSFER", "cardiology"),
            *(DUE, "", "2026-02-30", "1899-12-31"),
        ]
    )
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def mutated_bodies(draw: Any) -> dict[str, Any]:
    """A valid body of some transition with keys dropped, replaced or added."""
    body = dict(draw(st.sampled_from(VALID_BODIES)))
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        key = draw(st.sampled_from(KEYS) | any_text)
        if draw(st.booleans()):
            body.pop(key, None)
        else:
            body[key] = draw(values)
    return body


# Mostly near-valid bodies (they reach the services), some of any shape.
bodies = st.one_of(
    mutated_bodies(),
    mutated_bodies(),
    st.dictionaries(st.sampled_from(KEYS), values, max_size=4),
    values,
)


# A fuzzer of the API's answers, the same on every database: the SQLite half (marker `contract`).
@pytest.mark.contract
@pytest.mark.parametrize("persona", ["coordinator_sato", "patient_hana"])
@settings(
    max_examples=75,
    deadline=None,
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_it_never_fails_on_any_transition_body(
    request, api_as, make_case, patient_hana, coordinator_sato, persona, body
):
    case = make_case(patient_hana, documents=False)  # a fresh case in screening each time
    screening.case_start_screening(case_id=case.pk, actor=coordinator_sato)
    rows = case.transitions.count()
    response = post_transition(api_as(request.getfixturevalue(persona)), case, body)
    assert response.status_code in (201, 400, 403, 409), response.content
    assert isinstance(response.json(), dict)
    case.refresh_from_db()
    if response.status_code == 201:
        assert case.transitions.count() == rows + 1
        assert case.status == response.json()["to_status"] == body["to"]
    else:
        assert_unchanged(case, Status.SCREENING, rows)


# Phone logs ------------------------------------------------------------------------------------

CALL = {
    "called_at": "2026-01-15T10:30:00+09:00",
    "number": "03-1234-5678",
    "outcome": "no_answer",
    "notes": "夕方にもう一度",
}


def test_it_records_a_call(api_as, coordinator_sato, hana_case):
    api = api_as(coordinator_sato)
    response = api.post(url(hana_case, "/phone-logs"), CALL)
    assert response.status_code == 201, response.content
    log = PhoneLog.objects.get(case=hana_case)
    assert (log.called_by, log.number, log.outcome) == (
        coordinator_sato,
        "03-1234-5678",
        "no_answer",
    )
    assert log.called_at.isoformat() == "2026-01-15T01:30:00+00:00"
    (created,) = audit(AuditAction.CREATE, object_type="cases.PhoneLog", object_id=str(log.pk))
    assert created.detail == {"outcome": "no_answer"}
    (row,) = api.get(url(hana_case, "/phone-logs")).json()
    assert row["called_at"] == "2026-01-15T10:30:00+09:00"
    assert (row["called_by"], row["notes"]) == ("coordinator_sato", "夕方にもう一度")
    assert audit(AuditAction.READ, case_id=hana_case.pk, detail__api="phone_logs")


def test_it_takes_a_call_time_in_utc(api_as, coordinator_sato, hana_case):
    body = {**CALL, "called_at": "2026-01-15T01:30Z"}
    assert api_as(coordinator_sato).post(url(hana_case, "/phone-logs"), body).status_code == 201
    assert PhoneLog.objects.get().called_at.isoformat() == "2026-01-15T01:30:00+00:00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"called_at": "2026-01-15T10:30:00"}, "called_at"),
        ({"called_at": "2026-01-15 10:30+09:00"}, "called_at"),
        ({"called_at": "2026-13-15T10:30+09:00"}, "called_at"),
        ({"called_at": "2026-01-15T10:30+24:00"}, "called_at"),
        ({"called_at": "2099-01-15T10:30+09:00"}, "called_at"),
        ({"called_at": 1736904600}, "called_at"),
        ({"number": "call me"}, "number"),
        ({"number": ""}, "number"),
        ({"number": "03-1234-5678 内線2"}, "number"),
        ({"outcome": "busy"}, "outcome"),
        ({"notes": None}, "notes"),
        ({"caller": "sato"}, "caller"),
    ],
)
def test_it_names_the_field_at_fault_in_a_call(api_as, coordinator_sato, hana_case, change, field):
    response = api_as(coordinator_sato).post(url(hana_case, "/phone-logs"), {**CALL, **change})
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not PhoneLog.objects.exists()


def test_it_lets_only_coordinators_record_calls(api_as, dr_tanaka, patient_hana, referred_case):
    assert api_as(dr_tanaka).post(url(referred_case, "/phone-logs"), CALL).status_code == 403
    assert api_as(patient_hana).post(url(referred_case, "/phone-logs"), CALL).status_code == 403
    assert not PhoneLog.objects.exists()
    assert len(audit(AuditAction.DENIED, case_id=referred_case.pk)) == 2


def test_it_shows_calls_to_staff_only(api_as, dr_tanaka, patient_hana, referred_case):
    assert api_as(dr_tanaka).get(url(referred_case, "/phone-logs")).status_code == 200
    assert api_as(patient_hana).get(url(referred_case, "/phone-logs")).status_code == 403


# The OpenAPI document ---------------------------------------------------------------------------

CASE_OPERATIONS = {
    ("/api/v1/cases", "get"),
    ("/api/v1/cases/{case_id}", "get"),
    ("/api/v1/cases/{case_id}/documents", "get"),
    ("/api/v1/cases/{case_id}/transitions", "get"),
    ("/api/v1/cases/{case_id}/transitions", "post"),
    ("/api/v1/cases/{case_id}/phone-logs", "get"),
    ("/api/v1/cases/{case_id}/phone-logs", "post"),
}


def test_it_documents_the_case_endpoints(client):
    document = client.get("/api/schema/", {"format": "json"}, secure=True).json()
    for path, method in CASE_OPERATIONS:
        operation = document["paths"][path][method]
        assert operation["tags"] == ["cases"]
        # A hospital system's API token, or the signed-in session (api/auth.py).
        assert operation["security"] == [{"apiToken": []}, {"cookieAuth": []}]
        read_or_write = "read" if method == "get" else "write"
        assert operation["x-token-scope"] == f"cases:{read_or_write}"
        assert (
            "application/json"
            in operation["responses"]["200" if method == "get" else "201"]["content"]
        )
        if method == "post":
            assert "application/json" in operation["requestBody"]["content"]
            assert {"400", "403", "404"} <= set(operation["responses"])
    transitions = document["paths"]["/api/v1/cases/{case_id}/transitions"]["post"]
    assert "409" in transitions["responses"]
    assert document["components"]["securitySchemes"]["cookieAuth"]["in"] == "cookie"
    body = document["components"]["schemas"]["NewTransitionRequest"]
    assert body["discriminator"]["propertyName"] == "to"
    assert set(body["discriminator"]["mapping"]) == {
        "screening",
        "awaiting_documents",
        "rejected",
        "referred",
        "accepted",
        "declined",
        "withdrawn",
    }


# A case moved by someone else meanwhile: the caller's expected status or ETag -----------------


def test_a_transition_expecting_another_status_is_a_409_and_changes_nothing(
    api_as, coordinator_sato, hana_case
):
    api = api_as(coordinator_sato)
    screening.case_start_screening(case_id=hana_case.pk, actor=coordinator_sato)  # another desk
    before = transition_rows(hana_case)
    response = api.post(
        url(hana_case, "/transitions"),
        {"to": "referred", "department": "cardiology", "expected_status": "submitted"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "status_changed"
    assert response.json()["status"] == "screening"
    assert transition_rows(hana_case) == before
    response = api.post(
        url(hana_case, "/transitions"),
        {"to": "referred", "department": "cardiology", "expected_status": "screening"},
    )
    assert response.status_code == 201


def test_a_transition_with_a_stale_etag_is_a_412_and_changes_nothing(
    api_as, coordinator_sato, hana_case
):
    api = api_as(coordinator_sato)
    loaded = api.get(url(hana_case))
    etag = loaded["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert api.get(url(hana_case))["ETag"] == etag  # the same state, the same tag
    screening.case_start_screening(case_id=hana_case.pk, actor=coordinator_sato)  # another desk
    before = transition_rows(hana_case)
    stale = api.client.post(
        url(hana_case, "/transitions"),
        json.dumps({"to": "referred", "department": "cardiology"}),
        content_type="application/json",
        secure=True,
        headers={"If-Match": etag},
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert transition_rows(hana_case) == before
    current = api.get(url(hana_case))["ETag"]
    assert stale.json()["etag"] == current != etag
    moved = api.client.post(
        url(hana_case, "/transitions"),
        json.dumps({"to": "referred", "department": "cardiology"}),
        content_type="application/json",
        secure=True,
        headers={"If-Match": f'"other", {current}'},
    )
    assert moved.status_code == 201
    assert moved["ETag"] not in (etag, current)
    assert moved["ETag"] == api.get(url(hana_case))["ETag"]
