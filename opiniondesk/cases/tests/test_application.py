"""The online application (申込), from the first step to submission, as proxy Ken for Hana."""

import pytest
from django.urls import reverse
from django.utils import translation

from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.models import Case, CaseTransition
from opiniondesk.cases.wording import status_label
from opiniondesk.cases.workflow import Status
from opiniondesk.documents.models import Document

pytestmark = pytest.mark.django_db


def _label(status):
    with translation.override("ja"):
        return status_label(status)


def test_it_walks_a_proxy_child_through_the_whole_wizard_and_submits(
    wizard_for,
    proxy_ken,
    coordinator_sato,
    smtp_inbox,
    run_tasks,
    django_capture_on_commit_callbacks,
):
    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    review = wizard.client.get(reverse("case-step", args=[wizard.case.pk, "review"]))
    assert "山田 花" in review.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = wizard.submit()
    assert response.status_code == 302
    case = Case.objects.get(pk=wizard.case.pk)
    assert case.status == Status.SUBMITTED
    assert case.privacy_policy.version == "demo-1" and case.privacy_accepted_at
    transition = CaseTransition.objects.get(case=case)
    assert (transition.from_status, transition.to_status, transition.actor) == (
        "draft",
        "submitted",
        proxy_ken,
    )
    assert AuditEvent.objects.filter(case_id=case.pk, action="transition").count() == 1
    run_tasks()
    recipients = sorted(m["To"] for m in smtp_inbox.messages)
    assert recipients == ["coordinator_sato@example.jp", "proxy_ken@example.jp"]
    assert all(case.reference in m["Subject"] for m in smtp_inbox.messages)
    # No personal data in the coordinators' e-mail.
    staff_mail = next(m for m in smtp_inbox.messages if m["To"].startswith("coordinator"))
    assert "山田" not in staff_mail.get_body(preferencelist=("plain",)).get_content()


def test_missing_documents_wait_and_the_last_upload_returns_the_case_to_screening(
    wizard_for,
    proxy_ken,
    coordinator_sato,
    django_capture_on_commit_callbacks,
):
    wizard = wizard_for(proxy_ken)
    wizard.fill_all(documents=False)
    wizard.upload("referral_letter")
    with django_capture_on_commit_callbacks(execute=True):
        wizard.submit()
    case = Case.objects.get(pk=wizard.case.pk)
    assert case.status == Status.AWAITING_DOCUMENTS
    missing = case.transitions.last().detail["missing_documents"]
    assert missing == ["TEST_DATA", "CONSENT_FORM", "RELATIONSHIP_PROOF", "PROXY_ID"]
    dashboard = wizard.client.get(reverse("dashboard")).content.decode()
    assert _label(Status.AWAITING_DOCUMENTS) in dashboard
    wizard.upload("test_data", test_data_kind="ct_mri")
    wizard.upload("consent_form")
    wizard.upload("relationship_proof")
    assert Case.objects.get(pk=case.pk).status == Status.AWAITING_DOCUMENTS
    wizard.upload("proxy_id", proxy=case.proxies.first().pk)
    case.refresh_from_db()
    assert case.status == Status.SCREENING
    assert case.transitions.last().actor is None  # the system moved it


def test_a_refused_application_is_explained_and_stays_a_draft(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    wizard.fill_all(wants_transfer="yes", complaint_or_litigation="yes")
    response = wizard.submit()
    assert response.url.endswith("/apply/review/")
    case = Case.objects.get(pk=wizard.case.pk)
    assert case.status == Status.DRAFT
    review = wizard.client.get(response.url).content.decode()
    assert review.count('class="reason"') == 2
    assert not CaseTransition.objects.exists()


def test_it_refuses_a_relation_beyond_the_third_degree_with_the_reason(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken, accept_privacy=False)
    response = wizard.applicant(relation="cousin")
    assert response.status_code == 200
    wizard.case.refresh_from_db()
    assert wizard.case.revision == 0 and wizard.case.applicant_relation == ""
    assert "3" in response.content.decode()  # 3親等 / third degree explained


def test_an_incomplete_application_cannot_be_sent(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    wizard.applicant()
    response = wizard.submit()
    assert response.url.endswith("/apply/proxies/")
    assert Case.objects.get(pk=wizard.case.pk).status == Status.DRAFT


def test_a_double_submit_sends_once(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    wizard.submit()
    second = wizard.submit()
    assert second.status_code == 302
    assert CaseTransition.objects.filter(to_status="submitted").count() == 1


def test_a_second_tab_with_an_old_copy_is_told_and_loses_nothing(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    wizard.applicant()
    revision = Case.objects.get(pk=wizard.case.pk).revision
    url = reverse("case-step", args=[wizard.case.pk, "sheet"])
    form = {
        "current_diagnosis": "タブ1",
        "questions": "q",
        "wants_opinion_on_current": "on",
        "action": "next",
    }
    assert wizard.client.post(url, {**form, "revision": revision}).status_code == 302
    stale = wizard.client.post(url, {**form, "current_diagnosis": "タブ2", "revision": revision})
    assert stale.status_code == 200
    body = stale.content.decode()
    assert "タブ2" in body  # the second tab's answers are still on screen
    assert Case.objects.get(pk=wizard.case.pk).current_diagnosis == "タブ1"
    assert f'value="{revision + 1}"' in body  # saving again now is deliberate


def test_save_and_finish_later_keeps_partial_answers(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    response = wizard.post("patient", {"patient_family_name": "山田"}, action="later")
    assert response.url == reverse("dashboard")
    case = Case.objects.get(pk=wizard.case.pk)
    assert case.patient_family_name == "山田" and case.patient_given_name == ""


def test_bad_answers_are_explained_and_change_nothing(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    wizard.applicant()
    before = Case.objects.get(pk=wizard.case.pk).revision
    response = wizard.patient(
        birth=(2099, 1, 1),
        patient_family_name_kana="Yamada",
        patient_phone="12345",
        patient_postal_code="1138",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="error-message"') >= 4
    assert Case.objects.get(pk=wizard.case.pk).revision == before


def test_someone_else_cannot_see_or_edit_the_case_and_the_attempt_is_audited(
    wizard_for, proxy_ken, outsider_eve, client
):
    wizard = wizard_for(proxy_ken)
    case_id = wizard.case.pk
    client.force_login(outsider_eve)
    for url in (
        reverse("case-detail", args=[case_id]),
        reverse("case-step", args=[case_id, "patient"]),
        reverse("case-documents", args=[case_id]),
    ):
        assert client.get(url).status_code == 404
    assert client.post(reverse("case-submit", args=[case_id])).status_code == 404
    denied = AuditEvent.objects.filter(action="denied", username="outsider_eve")
    assert denied.count() == 4 and {e.case_id for e in denied} == {case_id}


def test_the_dashboard_shows_each_case_in_plain_words(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    body = wizard.client.get(reverse("dashboard")).content.decode()
    assert wizard.case.reference in body
    assert _label(Status.DRAFT) in body


def test_the_applicant_can_withdraw_before_booking(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    wizard.submit()
    url = reverse("case-withdraw", args=[wizard.case.pk])
    wizard.client.post(url, {"reason": "家族で相談"})  # the box is not ticked: nothing happens
    assert Case.objects.get(pk=wizard.case.pk).status == Status.SUBMITTED
    wizard.client.post(url, {"reason": "家族で相談", "confirm": "1"})
    case = Case.objects.get(pk=wizard.case.pk)
    assert case.status == Status.WITHDRAWN
    assert case.transitions.last().reason == "家族で相談"
    assert Document.objects.filter(case=case).count() == 5  # documents stay


def test_an_out_of_range_case_id_is_a_404_not_an_error(client, proxy_ken):
    client.force_login(proxy_ken)
    assert client.get(f"/cases/{2**64}/").status_code == 404
    assert client.get(f"/cases/{2**63 - 1}/").status_code == 404  # in range, but no such case


def test_the_physician_s_delivery_details_are_stored_as_typed_the_japanese_way(
    wizard_for, proxy_ken
):
    """Full-width digits, hyphens and the long-vowel mark are stored plain (NFKC, SPEC §13)."""
    wizard = wizard_for(proxy_ken)
    response = wizard.physician(
        physician_postal_code="〒１１３－８６５５",
        physician_address="東京都架空区見本町７－３－１",
        physician_fax="０３ー１２３４ー５６７８",
        physician_email="ｓｕｚｕｋｉ＠ｈｏｎｇｏ.example.jp",
    )
    assert response.status_code == 302
    wizard.case.refresh_from_db()
    assert (
        wizard.case.physician_postal_code,
        wizard.case.physician_fax,
        wizard.case.physician_email,
    ) == ("113-8655", "03-1234-5678", "suzuki@hongo.example.jp")
    # An address is no name: its digits and hyphens are stored plain too (#16 item 1).
    assert wizard.case.physician_address == "東京都架空区見本町7-3-1"


def test_a_bad_physician_postal_code_or_e_mail_is_explained_and_nothing_saved(
    wizard_for, proxy_ken
):
    wizard = wizard_for(proxy_ken)
    response = wizard.physician(physician_postal_code="12-34", physician_email="not-an-address")
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    wizard.case.refresh_from_db()
    assert wizard.case.physician_postal_code == "" and wizard.case.physician_email == ""


def test_the_privacy_agreement_reads_as_one_sentence_in_english(wizard_for, proxy_ken):
    """The case page said "… on Dec. 3, 2026, 5:01 p.m.." (Django's date format ends in a full
    stop, and so did the sentence): the date and the time are written as on the other pages."""
    from datetime import datetime

    from django.conf import settings

    from opiniondesk.core.time import JST

    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    wizard.submit()
    Case.objects.filter(pk=wizard.case.pk).update(
        privacy_accepted_at=datetime(2026, 12, 3, 17, 1, tzinfo=JST)
    )
    wizard.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = wizard.client.get(reverse("case-detail", args=[wizard.case.pk])).content.decode()
    assert "on Thursday 3 December 2026 17:01." in body
    assert "p.m.." not in body
    wizard.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    body = wizard.client.get(reverse("case-detail", args=[wizard.case.pk])).content.decode()
    assert "2026年12月3日(木) 17:01" in body
