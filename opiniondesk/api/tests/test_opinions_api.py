"""The written opinion and the disclosures through the authenticated API (issue #13): each role
sees what its pages show (a draft's text only for the department's specialists), the PDF is the
newest signed version, no link token or hash ever leaves, every read is audited."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from opiniondesk.accounts import services as tokens
from opiniondesk.accounts.vocabulary import Scope
from opiniondesk.api.tests.conftest import Api
from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.billing import services as billing
from opiniondesk.billing.models import Charge
from opiniondesk.cases.workflow import Status
from opiniondesk.interop import services as interop
from opiniondesk.opinions import services as opinions
from opiniondesk.opinions.models import OpinionDelivery
from opiniondesk.testing.builders import completed_case, opinion_signed
from opiniondesk.testing.pdf import pdf_text

DRAFT_TEXT = "訂正中の下書き：まだ誰にも見せない文"


def url(case, tail):
    return f"/api/v1/cases/{case.pk}/{tail}"


@pytest.fixture
def token_for(admin_kato):
    def make(user, scopes=tuple(Scope.values)):
        _token, secret = tokens.api_token_create(
            name="EMR", user=user, scopes=list(scopes), expires_at=None, actor=admin_kato
        )
        return Api(Client(headers={"Accept-Language": "en", "Authorization": f"Bearer {secret}"}))

    return make


@pytest.fixture
def opined(seeded, billing_ito, coordinator_sato, dr_tanaka):
    """Fee paid at the desk; version 1 signed and posted (the case closed), then a link sent
    (not opened); a correction drafted; the patient asked for the record."""
    case = completed_case(call_minutes=25)
    billing.collect(charge_id=Charge.objects.get(case=case).pk, actor=billing_ito, method="cash")
    first = opinion_signed(case, on_current="署名済みの意見です。")
    opinions.post_record(case_id=case.pk, actor=coordinator_sato, posted_on=timezone.localdate())
    opinions.delivery_details_save(
        case_id=case.pk,
        actor=coordinator_sato,
        postal_code="113-0000",
        address="東京都架空区見本町9-99-99",
        fax="",
        email="suzuki@clinic.invalid",
    )
    opinions.link_send(case_id=case.pk, actor=coordinator_sato)
    opinions.correction_start(version_id=first.pk, actor=dr_tanaka, reason="誤記")
    count = len(opinions.questions_of(case))
    opinions.draft_save(
        case_id=case.pk,
        actor=dr_tanaka,
        on_current=DRAFT_TEXT,
        on_future="",
        answers=["はい。"] * count,
        remarks="",
    )
    interop.disclosure_request_create(
        case_id=case.pk, actor=case.applicant, wanted="whole_record", details="", delivery="post"
    )
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    return case


def test_a_coordinator_reads_the_signed_versions_and_the_deliveries(
    token_for, coordinator_sato, opined
):
    response = token_for(coordinator_sato).get(url(opined, "opinion"))
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    first, draft = body["versions"]
    assert (first["number"], first["state"], first["signed_by"]) == (1, "signed", "dr_tanaka")
    assert first["content"]["on_current"] == "署名済みの意見です。"
    assert len(first["content_hash"]) == 64
    assert (draft["state"], draft["corrects"], draft["correction_reason"]) == ("draft", 1, "誤記")
    assert draft["content"] is None and draft["content_hash"] is None
    assert DRAFT_TEXT not in response.content.decode()
    posted, link = body["deliveries"]
    assert posted["method"] == "post" and posted["delivered_at"] is not None
    assert link["method"] == "link" and link["opened_at"] is None and link["delivered_at"] is None
    assert link["recipient_email"] == "suzuki@clinic.invalid"
    # Neither the link's token nor its hash.
    text = response.content.decode()
    assert "token" not in text
    for delivery in OpinionDelivery.objects.filter(case=opined, method="link"):
        assert delivery.token_hash not in text
    assert AuditEvent.objects.filter(
        action=AuditAction.READ, case_id=opined.pk, detail__api="opinion"
    ).exists()


def test_the_departments_specialist_also_reads_the_draft(token_for, dr_tanaka, opined):
    body = token_for(dr_tanaka).get(url(opined, "opinion")).json()
    assert body["versions"][1]["content"]["on_current"] == DRAFT_TEXT


@pytest.mark.parametrize(
    ("who", "opinion", "disclosures"),
    [
        ("coordinator_sato", 200, 200),
        ("dr_tanaka", 200, 403),
        ("billing_ito", 403, 403),  # billing staff have no opinion or disclosure pages
        ("dr_mori", 404, 404),  # another department's case
        ("admin_kato", 404, 404),  # administrators see no cases
    ],
)
def test_each_role_sees_what_its_pages_show(request, token_for, opined, who, opinion, disclosures):
    api = token_for(request.getfixturevalue(who))
    assert api.get(url(opined, "opinion")).status_code == opinion
    assert api.get(url(opined, "opinion/pdf")).status_code == opinion
    response = api.get(url(opined, "disclosures"))
    assert response.status_code == disclosures
    assert response["Content-Type"] == "application/json"
    if 403 in (opinion, disclosures):
        assert AuditEvent.objects.filter(action=AuditAction.DENIED, case_id=opined.pk).exists()


def test_a_patient_session_is_refused(api_as, opined):
    api = api_as(opined.applicant)
    for tail in ("opinion", "opinion/pdf", "disclosures"):
        assert api.get(url(opined, tail)).status_code == 403


def test_scopes_are_needed(token_for, coordinator_sato, opined):
    api = token_for(coordinator_sato, [Scope.CASES_READ])
    for tail in ("opinion", "opinion/pdf", "disclosures"):
        response = api.get(url(opined, tail))
        assert response.status_code == 403 and "lacks the scope" in response.json()["detail"]
    api = token_for(coordinator_sato, [Scope.OPINIONS_READ])
    assert api.get(url(opined, "opinion")).status_code == 200
    assert api.get(url(opined, "disclosures")).status_code == 403


def test_the_pdf_is_the_newest_signed_version_and_audited(token_for, coordinator_sato, opined):
    api = token_for(coordinator_sato)
    response = api.get(url(opined, "opinion/pdf"), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert f"opinion-{opined.reference}-v1.pdf" in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert "署名済みの意見です" in text and "訂正中の下書き" not in text
    assert AuditEvent.objects.filter(
        action=AuditAction.DOWNLOAD, case_id=opined.pk, detail__api="opinion pdf"
    ).exists()


def test_no_opinion_or_no_signature_yet_is_a_json_404(token_for, coordinator_sato, dr_tanaka):
    case = completed_case(call_minutes=25)
    api = token_for(coordinator_sato)
    assert api.get(url(case, "opinion")).status_code == 404
    opinions.draft_save(
        case_id=case.pk,
        actor=dr_tanaka,
        on_current="下書き",
        on_future="",
        answers=[""] * len(opinions.questions_of(case)),
        remarks="",
    )
    assert api.get(url(case, "opinion")).json()["versions"][0]["content"] is None
    response = api.get(url(case, "opinion/pdf"), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"] == "The opinion is not signed yet."
    body = api.get(url(case, "disclosures")).json()
    assert body == {"requests": [], "third_party": []}


def test_the_disclosures_show_the_requests_and_the_third_party_provisions(
    token_for, coordinator_sato, opined, settings
):
    settings.DISCLOSURE_DUE_DAYS = 14
    api = token_for(coordinator_sato)
    body = api.get(url(opined, "disclosures")).json()
    (asked,) = body["requests"]
    assert (asked["wanted"], asked["delivery"], asked["standing"]) == (
        "whole_record",
        "post",
        "on_time",
    )
    assert asked["overdue"] is False and asked["fulfilled_at"] is None
    assert asked["requested_by"] == opined.applicant.username
    (posted,) = body["third_party"]  # the unopened link has not been disclosed
    assert (posted["method"], posted["version"], posted["basis"]) == (
        "post",
        1,
        "application_consent",
    )
    assert posted["disclosed_by"] == "coordinator_sato"
    assert posted["what"].startswith("セカンドオピニオン回答書 第1版")
    assert AuditEvent.objects.filter(
        action=AuditAction.READ, case_id=opined.pk, detail__api="disclosures"
    ).exists()
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        (late,) = api.get(url(opined, "disclosures")).json()["requests"]
    assert late["overdue"] is True and late["standing"] == "overdue"
