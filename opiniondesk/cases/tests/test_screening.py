"""The hospital's side of the lifecycle (SPEC §4), service by service: screening, requests for
documents, phone calls, rejection, referral, the department's answer (with the consult's planned
length), withdrawal. The review time is measured in the consults app (consults/tests).

Each test: given a case in a state, when a persona acts, then the case's status, the transition
row, the audit row and the e-mail sent after commit — or, for a refusal, nothing changed at all.
"""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.models import Case, CaseTransition, DocumentRequest, PhoneLog
from opiniondesk.cases.screening import (
    NotAllowed,
    case_accept,
    case_decline,
    case_refer,
    case_reject,
    case_request_documents,
    case_start_screening,
    phone_log_create,
)
from opiniondesk.cases.tests.conftest import Wizard
from opiniondesk.cases.workflow import InvalidTransition, Status
from opiniondesk.catalog.models import Department
from opiniondesk.catalog.vocabulary import DocumentCode
from opiniondesk.core.time import jst_today
from opiniondesk.desk.services import case_withdraw
from opiniondesk.public.wording import DOCUMENT_TITLES
from opiniondesk.testing.builders import case_in

pytestmark = pytest.mark.django_db

# The patient's name, illness and questions (the mails greet their reader by their own name:
# Ken, 山田 健, who applied for his mother Hana).
PATIENT_NAME = "山田 花"
PERSONAL_DATA = (PATIENT_NAME, "慢性心不全", "手術は必要でしょうか", "鈴木一郎")


# Given: a case brought to each state through the services, by the personas.


@pytest.fixture
def submitted(proxy_ken):
    """Ken's complete application for his mother Hana (cardiology, heart failure, online), as
    the wizard sends it (the wizard itself: test_application.py and the browser tests)."""
    return case_in(Status.SUBMITTED, applicant=proxy_ken, relation="child")


@pytest.fixture
def wizard(client, proxy_ken, submitted):
    """Ken, signed in, adds documents to his application through the page."""
    client.force_login(proxy_ken)
    return Wizard(client, submitted)


@pytest.fixture
def screening(submitted, coordinator_sato):
    return case_start_screening(case_id=submitted.pk, actor=coordinator_sato)


@pytest.fixture
def awaiting_documents(screening, coordinator_sato):
    case_request_documents(
        case_id=screening.pk,
        actor=coordinator_sato,
        items=[DocumentCode.TEST_DATA],
        message="CT画像もお送りください。",
        due_date=jst_today() + timedelta(days=14),
    )
    return Case.objects.get(pk=screening.pk)


@pytest.fixture
def referred(screening, coordinator_sato, dr_tanaka):
    cardiology = Department.objects.get(code="cardiology")
    return case_refer(case_id=screening.pk, actor=coordinator_sato, department=cardiology)


@pytest.fixture
def accepted(referred, dr_tanaka):
    return case_accept(case_id=referred.pk, actor=dr_tanaka, planned_minutes=30)


@pytest.fixture
def rejected(screening, coordinator_sato):
    return case_reject(case_id=screening.pk, actor=coordinator_sato, reasons=["WANTS_TRANSFER"])


def _transition(case):
    """The case's latest transition row as (from, to, actor, role, reason, detail)."""
    row = CaseTransition.objects.filter(case=case).latest("pk")
    return (row.from_status, row.to_status, row.actor, row.actor_role, row.reason, row.detail)


def _audit(case, **filters):
    return list(AuditEvent.objects.filter(case_id=case.pk, **filters).order_by("sequence"))


def _unchanged(case):
    """Everything a refused action must leave as it was."""
    case = Case.objects.get(pk=case.pk)
    return (
        case.status,
        case.department_id,
        case.rejection_reasons,
        case.decline_reason,
        case.planned_minutes,
        CaseTransition.objects.filter(case=case).count(),
        AuditEvent.objects.filter(case_id=case.pk).count(),
        DocumentRequest.objects.filter(case=case).count(),
        PhoneLog.objects.filter(case=case).count(),
    )


def _body(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def _mail_to(inbox, address):
    [message] = [m for m in inbox.messages if m["To"] == address]
    return message


def _without_personal_data(message):
    text = message["Subject"] + _body(message)
    return not any(word in text for word in PERSONAL_DATA)


# case_start_screening


def test_a_coordinator_takes_a_submitted_case_into_screening(submitted, coordinator_sato):
    case = case_start_screening(case_id=submitted.pk, actor=coordinator_sato)

    assert Case.objects.get(pk=case.pk).status == Status.SCREENING
    assert _transition(case) == ("submitted", "screening", coordinator_sato, "coordinator", "", {})
    [event] = _audit(case, action="transition", detail__to="screening")
    assert event.user == coordinator_sato and event.username == "coordinator_sato"
    assert event.detail == {"from": "submitted", "to": "screening", "reason": ""}
    assert (event.object_type, event.object_id) == ("cases.Case", str(case.pk))


# case_request_documents


def test_a_coordinator_asks_for_documents_with_a_due_date_and_the_applicant_is_told(
    screening, coordinator_sato, smtp_inbox, run_tasks, django_capture_on_commit_callbacks
):
    due = jst_today() + timedelta(days=10)

    with django_capture_on_commit_callbacks(execute=True):
        document_request = case_request_documents(
            case_id=screening.pk,
            actor=coordinator_sato,
            items=[DocumentCode.TEST_DATA, "REFERRAL_LETTER"],
            message="造影CTの画像と、最新の紹介状をお願いします。",
            due_date=due,
        )
    run_tasks()

    assert Case.objects.get(pk=screening.pk).status == Status.AWAITING_DOCUMENTS
    assert _transition(screening) == (
        "screening",
        "awaiting_documents",
        coordinator_sato,
        "coordinator",
        "造影CTの画像と、最新の紹介状をお願いします。",
        {"requested_documents": ["TEST_DATA", "REFERRAL_LETTER"]},
    )
    saved = DocumentRequest.objects.get(case=screening)
    assert saved == document_request
    assert (saved.requested_by, saved.items, saved.due_date, saved.fulfilled_at) == (
        coordinator_sato,
        ["TEST_DATA", "REFERRAL_LETTER"],
        due,
        None,
    )
    [moved] = _audit(screening, action="transition", detail__to="awaiting_documents")
    [created] = _audit(screening, action="create", object_type="cases.DocumentRequest")
    assert moved.user == created.user == coordinator_sato
    assert created.detail == {"items": ["TEST_DATA", "REFERRAL_LETTER"]}
    assert created.sequence == moved.sequence + 1  # one transaction, in order
    [mail] = smtp_inbox.messages
    assert mail["To"] == "proxy_ken@example.jp" and screening.reference in mail["Subject"]
    body = _body(mail)
    with translation.override("ja"):
        for code in (DocumentCode.TEST_DATA, DocumentCode.REFERRAL_LETTER):
            assert str(DOCUMENT_TITLES[code]) in body
    assert due.isoformat() in body
    assert "造影CTの画像と、最新の紹介状をお願いします。" in body
    assert f"/cases/{screening.pk}/" in body


def test_a_coordinator_may_ask_for_documents_straight_from_submitted(submitted, coordinator_sato):
    case_request_documents(
        case_id=submitted.pk,
        actor=coordinator_sato,
        items=["CONSENT_FORM"],
        message="",
        due_date=None,
    )

    assert Case.objects.get(pk=submitted.pk).status == Status.AWAITING_DOCUMENTS
    assert _transition(submitted)[:2] == ("submitted", "awaiting_documents")
    assert DocumentRequest.objects.get(case=submitted).due_date is None


@pytest.mark.parametrize("items", [[], ["NOT_A_DOCUMENT"]])
def test_a_request_for_no_or_unknown_documents_is_refused(screening, coordinator_sato, items):
    before = _unchanged(screening)

    with pytest.raises(ValueError):
        case_request_documents(
            case_id=screening.pk, actor=coordinator_sato, items=items, message="", due_date=None
        )

    assert _unchanged(screening) == before


# phone_log_create


def test_a_coordinator_records_a_call_and_the_case_stays_where_it_is(screening, coordinator_sato):
    called_at = timezone.now() - timedelta(minutes=5)

    log = phone_log_create(
        case_id=screening.pk,
        actor=coordinator_sato,
        called_at=called_at,
        number="090-1234-5678",
        outcome="left_message",
        notes="留守番電話に折り返しをお願いした。",
    )

    assert Case.objects.get(pk=screening.pk).status == Status.SCREENING
    assert CaseTransition.objects.filter(case=screening).count() == 2  # submit, screening
    saved = PhoneLog.objects.get(case=screening)
    assert saved == log
    assert (saved.called_by, saved.called_at, saved.number, saved.outcome, saved.notes) == (
        coordinator_sato,
        called_at,
        "090-1234-5678",
        "left_message",
        "留守番電話に折り返しをお願いした。",
    )
    [event] = _audit(screening, object_type="cases.PhoneLog")
    assert (event.action, event.user, event.object_id, event.detail) == (
        "create",
        coordinator_sato,
        str(log.pk),
        {"outcome": "left_message"},
    )


# case_reject


def test_a_coordinator_rejects_with_reasons_and_a_kind_note_and_the_mail_holds_neither(
    screening, coordinator_sato, smtp_inbox, run_tasks, django_capture_on_commit_callbacks
):
    note = "お電話で伺ったご希望(当院への転院)は、セカンドオピニオン外来ではお受けできません。"

    with django_capture_on_commit_callbacks(execute=True):
        case_reject(
            case_id=screening.pk,
            actor=coordinator_sato,
            reasons=["WANTS_TRANSFER", "WANTS_TESTS_OR_TREATMENT"],
            note=note,
        )
    run_tasks()

    case = Case.objects.get(pk=screening.pk)
    assert case.status == Status.REJECTED
    assert case.rejection_reasons == ["WANTS_TRANSFER", "WANTS_TESTS_OR_TREATMENT"]
    assert case.rejection_note == note
    assert _transition(case) == (
        "screening",
        "rejected",
        coordinator_sato,
        "coordinator",
        note,
        {"reasons": ["WANTS_TRANSFER", "WANTS_TESTS_OR_TREATMENT"]},
    )
    [event] = _audit(case, action="transition", detail__to="rejected")
    assert event.user == coordinator_sato and event.detail["reason"] == note
    [mail] = smtp_inbox.messages
    assert mail["To"] == "proxy_ken@example.jp" and case.reference in mail["Subject"]
    assert _without_personal_data(mail) and _body(mail).startswith("山田 健 様")
    assert "転院" not in _body(mail) and "WANTS_TRANSFER" not in _body(mail)


@pytest.mark.parametrize("reasons", [[], ["BECAUSE"]])
def test_a_rejection_without_a_known_reason_is_refused(screening, coordinator_sato, reasons):
    before = _unchanged(screening)

    with pytest.raises(ValueError):
        case_reject(case_id=screening.pk, actor=coordinator_sato, reasons=reasons, note="…")

    assert _unchanged(screening) == before


# case_refer


def test_a_coordinator_refers_to_cardiology_and_only_its_specialists_are_told(
    screening,
    coordinator_sato,
    dr_tanaka,
    dr_mori,
    smtp_inbox,
    run_tasks,
    django_capture_on_commit_callbacks,
):
    cardiology = Department.objects.get(code="cardiology")

    with django_capture_on_commit_callbacks(execute=True):
        case_refer(case_id=screening.pk, actor=coordinator_sato, department=cardiology)
    run_tasks()

    case = Case.objects.get(pk=screening.pk)
    assert case.status == Status.REFERRED and case.department == cardiology
    assert _transition(case) == (
        "screening",
        "referred",
        coordinator_sato,
        "coordinator",
        "",
        {"department": "cardiology", "disease": "heart_failure"},
    )
    [event] = _audit(case, action="transition", detail__to="referred")
    assert event.user == coordinator_sato
    [mail] = smtp_inbox.messages  # both cardiologists, never neurology's Dr Mori
    assert set(mail["To"].split(", ")) == {"dr_tanaka@example.jp", "dr_kato@example.jp"}
    assert case.reference in mail["Subject"] and _without_personal_data(mail)


def test_referring_to_another_department_moves_the_case_there(
    wizard_for,
    proxy_ken,
    coordinator_sato,
    dr_tanaka,
    dr_mori,
    smtp_inbox,
    run_tasks,
    django_capture_on_commit_callbacks,
):
    # Given: an in-person application to cardiology that the coordinator judges neurological.
    wizard = wizard_for(proxy_ken)
    wizard.applicant()
    wizard.proxies()
    wizard.patient()
    wizard.consult(mode="in_person")
    wizard.sheet()
    wizard.physician()
    wizard.privacy()
    wizard.all_documents()
    assert wizard.submit().status_code == 302
    case = case_start_screening(case_id=wizard.case.pk, actor=coordinator_sato)
    neurology = Department.objects.get(code="neurology")

    run_tasks()  # the mails the steps before sent (queued with their changes)
    smtp_inbox.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case_refer(
            case_id=case.pk,
            actor=coordinator_sato,
            department=neurology,
            disease=neurology.diseases.get(code="epilepsy"),
        )
    run_tasks()

    assert Case.objects.get(pk=case.pk).department == neurology
    assert _transition(case)[5] == {"department": "neurology", "disease": "epilepsy"}
    assert [m["To"] for m in smtp_inbox.messages] == ["dr_mori@example.jp"]


# case_accept


def test_the_cardiologist_accepts_for_an_hour_and_both_sides_are_told(
    referred,
    dr_tanaka,
    coordinator_sato,
    smtp_inbox,
    run_tasks,
    django_capture_on_commit_callbacks,
):
    run_tasks()  # the mails the steps before sent (queued with their changes)
    smtp_inbox.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case_accept(case_id=referred.pk, actor=dr_tanaka, planned_minutes=60)
    run_tasks()

    case = Case.objects.get(pk=referred.pk)
    assert case.status == Status.ACCEPTED
    assert case.planned_minutes == 60
    detail = {"planned_minutes": 60}
    assert _transition(case) == ("referred", "accepted", dr_tanaka, "specialist", "", detail)
    [moved] = _audit(case, action="transition", detail__to="accepted")
    assert moved.user == dr_tanaka and moved.detail["to"] == "accepted"
    assert sorted(m["To"] for m in smtp_inbox.messages) == [
        "coordinator_sato@example.jp",
        "proxy_ken@example.jp",
    ]
    assert all(_without_personal_data(m) for m in smtp_inbox.messages)


def test_a_consult_is_planned_for_30_minutes_unless_said_otherwise(referred, dr_tanaka):
    case_accept(case_id=referred.pk, actor=dr_tanaka)

    case = Case.objects.get(pk=referred.pk)
    assert (case.status, case.planned_minutes) == (Status.ACCEPTED, 30)
    assert _audit(case, action="update", user=dr_tanaka) == []


@pytest.mark.parametrize("minutes", [0, 29, 45, 90, -30])
def test_an_acceptance_with_an_impossible_length_is_refused_whole(referred, dr_tanaka, minutes):
    before = _unchanged(referred)

    with pytest.raises(ValueError):
        case_accept(case_id=referred.pk, actor=dr_tanaka, planned_minutes=minutes)

    assert _unchanged(referred) == before  # nothing recorded


# case_decline


def test_the_department_declines_with_a_reason_the_mail_does_not_carry(
    referred, dr_tanaka, smtp_inbox, run_tasks, django_capture_on_commit_callbacks
):
    reason = "この病態に対応できる専門医が現在不在のため。"

    run_tasks()  # the mails the steps before sent (queued with their changes)
    smtp_inbox.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case_decline(case_id=referred.pk, actor=dr_tanaka, reason=reason)
    run_tasks()

    case = Case.objects.get(pk=referred.pk)
    assert case.status == Status.DECLINED and case.decline_reason == reason
    assert _transition(case) == ("referred", "declined", dr_tanaka, "specialist", reason, {})
    [event] = _audit(case, action="transition", detail__to="declined")
    assert event.user == dr_tanaka and event.detail["reason"] == reason
    [mail] = smtp_inbox.messages
    assert mail["To"] == "proxy_ken@example.jp"
    assert _without_personal_data(mail) and "専門医が現在不在" not in _body(mail)


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_decline_without_a_reason_is_refused(referred, dr_tanaka, reason):
    before = _unchanged(referred)

    with pytest.raises(ValueError):
        case_decline(case_id=referred.pk, actor=dr_tanaka, reason=reason)

    assert _unchanged(referred) == before


# case_withdraw, on the applicant's request by telephone


def test_a_coordinator_withdraws_a_case_on_the_applicants_request(screening, coordinator_sato):
    case = case_withdraw(
        case_id=screening.pk, actor=coordinator_sato, reason="ご本人からお電話で取り下げの連絡"
    )

    assert Case.objects.get(pk=case.pk).status == Status.WITHDRAWN
    assert _transition(case) == (
        "screening",
        "withdrawn",
        coordinator_sato,
        "coordinator",
        "ご本人からお電話で取り下げの連絡",
        {},
    )
    [event] = _audit(case, action="transition", detail__to="withdrawn")
    assert event.user == coordinator_sato
    assert event.detail == {
        "from": "screening",
        "to": "withdrawn",
        "reason": "ご本人からお電話で取り下げの連絡",
    }


# Refusals: the wrong person, or the wrong moment. Each changes nothing.

COORDINATOR_ACTIONS = {
    "start_screening": (
        "submitted",
        lambda case, actor: case_start_screening(case_id=case.pk, actor=actor),
    ),
    "request_documents": (
        "screening",
        lambda case, actor: case_request_documents(
            case_id=case.pk, actor=actor, items=["TEST_DATA"], message="", due_date=None
        ),
    ),
    "phone_log": (
        "screening",
        lambda case, actor: phone_log_create(
            case_id=case.pk,
            actor=actor,
            called_at=timezone.now(),
            number="090-1234-5678",
            outcome="reached",
        ),
    ),
    "reject": (
        "screening",
        lambda case, actor: case_reject(case_id=case.pk, actor=actor, reasons=["WANTS_TRANSFER"]),
    ),
    "refer": (
        "screening",
        lambda case, actor: case_refer(
            case_id=case.pk, actor=actor, department=Department.objects.get(code="cardiology")
        ),
    ),
}
SPECIALIST_ACTIONS = {
    "accept": ("referred", lambda case, actor: case_accept(case_id=case.pk, actor=actor)),
    "decline": (
        "referred",
        lambda case, actor: case_decline(case_id=case.pk, actor=actor, reason="専門外のため"),
    ),
}


@pytest.mark.parametrize("persona", ["proxy_ken", "billing_ito", "dr_tanaka"])
@pytest.mark.parametrize("action", COORDINATOR_ACTIONS)
def test_only_a_coordinator_screens(request, action, persona):
    state, act = COORDINATOR_ACTIONS[action]
    case, actor = request.getfixturevalue(state), request.getfixturevalue(persona)
    before = _unchanged(case)

    with pytest.raises(NotAllowed):
        act(case, actor)

    assert _unchanged(case) == before


@pytest.mark.parametrize("persona", ["proxy_ken", "billing_ito", "coordinator_sato", "dr_mori"])
@pytest.mark.parametrize("action", SPECIALIST_ACTIONS)
def test_only_a_specialist_of_the_department_answers(request, action, persona):
    """dr_mori is a specialist too, but of neurology: the cardiology case is not hers."""
    state, act = SPECIALIST_ACTIONS[action]
    case, actor = request.getfixturevalue(state), request.getfixturevalue(persona)
    before = _unchanged(case)

    with pytest.raises(NotAllowed):
        act(case, actor)

    assert _unchanged(case) == before


ILLEGAL = [
    ("start_screening", "screening", "coordinator_sato"),
    ("start_screening", "referred", "coordinator_sato"),
    ("request_documents", "awaiting_documents", "coordinator_sato"),
    ("request_documents", "referred", "coordinator_sato"),
    ("reject", "submitted", "coordinator_sato"),
    ("reject", "referred", "coordinator_sato"),
    ("refer", "submitted", "coordinator_sato"),
    ("refer", "awaiting_documents", "coordinator_sato"),
    ("refer", "rejected", "coordinator_sato"),
    ("accept", "screening", "dr_tanaka"),
    ("accept", "accepted", "dr_tanaka"),
    ("decline", "accepted", "dr_tanaka"),
    ("withdraw", "rejected", "coordinator_sato"),
    ("withdraw", "screening", "dr_tanaka"),
    ("withdraw", "screening", "billing_ito"),
]


@pytest.mark.parametrize(("action", "state", "persona"), ILLEGAL)
def test_an_illegal_transition_is_refused_with_a_clear_message(request, action, state, persona):
    acts = {name: act for name, (_, act) in {**COORDINATOR_ACTIONS, **SPECIALIST_ACTIONS}.items()}
    acts["withdraw"] = lambda case, actor: case_withdraw(case_id=case.pk, actor=actor)
    case, actor = request.getfixturevalue(state), request.getfixturevalue(persona)
    before = _unchanged(case)

    with pytest.raises(InvalidTransition, match=f"may not move a case from {state} to"):
        acts[action](case, actor)

    assert _unchanged(case) == before


# The request-for-documents loop: asked, waiting, answered, back in screening.


def test_documents_asked_for_again_must_be_sent_again_to_release_the_case(
    wizard,
    screening,
    coordinator_sato,
    smtp_inbox,
    run_tasks,
    django_capture_on_commit_callbacks,
):
    # Given: the case already holds test data, but the coordinator asks for newer test data.
    assert screening.documents.filter(kind="test_data").exists()
    case_request_documents(
        case_id=screening.pk,
        actor=coordinator_sato,
        items=[DocumentCode.TEST_DATA],
        message="3か月以内の血液検査の結果をお送りください。",
        due_date=jst_today() + timedelta(days=14),
    )
    document_request = DocumentRequest.objects.get(case=screening)
    assert Case.objects.get(pk=screening.pk).status == Status.AWAITING_DOCUMENTS

    # When: Ken sends something else first, then the test data.
    assert wizard.upload("referral_letter").status_code == 302
    assert Case.objects.get(pk=screening.pk).status == Status.AWAITING_DOCUMENTS
    document_request.refresh_from_db()
    assert document_request.fulfilled_at is None
    run_tasks()  # the mails the steps before sent (queued with their changes)
    smtp_inbox.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = wizard.upload("test_data", test_data_kind="blood")
    assert response.status_code == 302
    run_tasks()

    # Then: the system returns the case to screening and tells the coordinators.
    case = Case.objects.get(pk=screening.pk)
    assert case.status == Status.SCREENING
    assert _transition(case) == (
        "awaiting_documents",
        "screening",
        None,
        "system",
        "requested documents received",
        {},
    )
    # The audit log names whose request caused the system's move: Ken's upload.
    [event] = _audit(case, action="transition", detail__from="awaiting_documents")
    assert event.user == wizard.case.applicant and event.detail["to"] == "screening"
    document_request.refresh_from_db()
    assert document_request.fulfilled_at is not None
    [mail] = smtp_inbox.messages
    assert mail["To"] == "coordinator_sato@example.jp" and case.reference in mail["Subject"]
    assert _without_personal_data(mail)


def test_a_call_with_an_unknown_outcome_is_refused(screening, coordinator_sato):
    before = _unchanged(screening)

    with pytest.raises(ValueError):
        phone_log_create(
            case_id=screening.pk,
            actor=coordinator_sato,
            called_at=timezone.now(),
            number="090-1234-5678",
            outcome="busy",
        )

    assert _unchanged(screening) == before
