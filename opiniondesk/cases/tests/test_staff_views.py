"""The coordinator's and the specialist's consoles, the case history, and what the applicant sees
of the hospital's decisions. Ken applies for his mother Hana; Sato screens; Dr Tanaka
(cardiology) decides; Dr Mori (neurology) and Eve must not see the case."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from opiniondesk.accounts.models import Role
from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases import screening
from opiniondesk.cases.models import CaseTransition, DocumentRequest, PhoneLog
from opiniondesk.cases.tests.conftest import Wizard
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.closed_days import next_open_day
from opiniondesk.catalog.models import Department
from opiniondesk.core.time import jst_today
from opiniondesk.desk import services as desk
from opiniondesk.public.wording import DOCUMENT_TITLES, REASONS
from opiniondesk.testing.builders import case_in
from opiniondesk.testing.personas import make_user

pytestmark = pytest.mark.django_db


def _as(user):
    client = Client()
    client.force_login(user)
    return client


def _en(text):
    with translation.override("en"):
        return str(text)


@pytest.fixture
def submitted(client, proxy_ken):
    """Ken's complete application for Hana (cardiology, online), sent: state submitted. Ken is
    signed in to add documents through the page (the wizard itself: test_application.py)."""
    client.force_login(proxy_ken)
    return Wizard(client, case_in(Status.SUBMITTED, applicant=proxy_ken, relation="child"))


@pytest.fixture
def screening_case(submitted, coordinator_sato):
    screening.case_start_screening(case_id=submitted.case.pk, actor=coordinator_sato)
    return submitted.case


@pytest.fixture
def referred_case(screening_case, coordinator_sato, dr_tanaka):
    screening.case_refer(
        case_id=screening_case.pk,
        actor=coordinator_sato,
        department=Department.objects.get(code="cardiology"),
    )
    return screening_case


def _post(client, name, case, data=None, seen=None):
    case.refresh_from_db()
    body = {"seen_status": seen or case.status, **(data or {})}
    return client.post(reverse(name, args=[case.pk]), body, HTTP_ACCEPT_LANGUAGE="en")


def _transitions(case):
    return list(CaseTransition.objects.filter(case=case).values_list("to_status", flat=True))


def _audited(case, action, user):
    return AuditEvent.objects.filter(case_id=case.pk, action=action, user=user)


# The coordinator's actions.


def test_it_starts_screening(submitted, coordinator_sato):
    sato = _as(coordinator_sato)
    page = sato.get(reverse("staff-case", args=[submitted.case.pk]))
    assert page.status_code == 200
    assert reverse("staff-case-screen", args=[submitted.case.pk]) in page.content.decode()
    assert _audited(submitted.case, "read", coordinator_sato).exists()
    response = _post(sato, "staff-case-screen", submitted.case)
    assert response.status_code == 302
    submitted.case.refresh_from_db()
    assert submitted.case.status == Status.SCREENING
    last = CaseTransition.objects.filter(case=submitted.case).last()
    assert (last.from_status, last.to_status, last.actor) == (
        "submitted",
        "screening",
        coordinator_sato,
    )
    assert _audited(submitted.case, "transition", coordinator_sato).count() == 1


def test_it_requests_documents_and_the_applicant_sees_the_request(
    screening_case, coordinator_sato, proxy_ken, submitted
):
    sato = _as(coordinator_sato)
    due = next_open_day(jst_today() + timedelta(days=10))  # the desk answers that day
    response = _post(
        sato,
        "staff-case-request-documents",
        screening_case,
        {
            "items": ["REFERRAL_LETTER", "TEST_DATA"],
            "message": "紹介状の2ページ目が読めません。",
            "due_date": due.isoformat(),
        },
    )
    assert response.status_code == 302
    screening_case.refresh_from_db()
    assert screening_case.status == Status.AWAITING_DOCUMENTS
    request = DocumentRequest.objects.get(case=screening_case)
    assert (request.items, request.due_date, request.requested_by) == (
        ["REFERRAL_LETTER", "TEST_DATA"],
        due,
        coordinator_sato,
    )
    assert _audited(screening_case, "create", coordinator_sato).exists()
    ken = submitted.client
    for url in (reverse("dashboard"), reverse("case-detail", args=[screening_case.pk])):
        page = ken.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert _en(DOCUMENT_TITLES["REFERRAL_LETTER"]) in page
        assert "紹介状の2ページ目が読めません。" in page
        assert reverse("case-documents", args=[screening_case.pk]) in page
    # The applicant sends both again: the case returns to screening by itself.
    submitted.upload("referral_letter")
    submitted.upload("test_data", test_data_kind="xray")
    screening_case.refresh_from_db()
    assert screening_case.status == Status.SCREENING


def test_it_refuses_a_due_date_before_tomorrow_and_changes_nothing(
    screening_case, coordinator_sato
):
    response = _post(
        _as(coordinator_sato),
        "staff-case-request-documents",
        screening_case,
        {"items": ["TEST_DATA"], "message": "x", "due_date": jst_today().isoformat()},
    )
    assert response.status_code == 200
    assert "from tomorrow on" in response.content.decode()
    screening_case.refresh_from_db()
    assert screening_case.status == Status.SCREENING
    assert not DocumentRequest.objects.filter(case=screening_case).exists()


def test_it_records_a_phone_call_in_jst(screening_case, coordinator_sato):
    sato = _as(coordinator_sato)
    url = reverse("staff-case", args=[screening_case.pk])
    page = sato.get(url, {"open": "phone"}).content.decode()
    assert 'value="03-0100-2345"' in page  # the patient's phone, prefilled
    with time_machine.travel("2026-11-25 15:00 +0900", tick=False):
        response = sato.post(
            reverse("staff-case-phone-log", args=[screening_case.pk]),
            {
                "called_on": "2026-11-25",
                "called_time": "10:30",
                "number": "03-1234-5678",
                "outcome": "no_answer",
                "notes": "留守番電話なし",
            },
        )
    assert response.status_code == 302
    log = PhoneLog.objects.get(case=screening_case)
    assert log.called_at == datetime(2026, 11, 25, 1, 30, tzinfo=UTC)
    assert (log.outcome, log.called_by, log.notes) == (
        "no_answer",
        coordinator_sato,
        "留守番電話なし",
    )
    assert (
        _audited(screening_case, "create", coordinator_sato)
        .filter(object_type="cases.PhoneLog")
        .exists()
    )


def test_it_rejects_with_reasons_and_the_applicant_reads_them_kindly(
    screening_case, coordinator_sato, submitted
):
    response = _post(
        _as(coordinator_sato),
        "staff-case-reject",
        screening_case,
        {"reasons": ["WANTS_TRANSFER"], "note": "お電話で転院のご希望を伺いました。"},
    )
    assert response.status_code == 302
    screening_case.refresh_from_db()
    assert screening_case.status == Status.REJECTED
    assert screening_case.rejection_reasons == ["WANTS_TRANSFER"]
    last = CaseTransition.objects.filter(case=screening_case).last()
    assert last.detail == {"reasons": ["WANTS_TRANSFER"]} and last.actor == coordinator_sato
    page = submitted.client.get(
        reverse("case-detail", args=[screening_case.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    explanation = REASONS["WANTS_TRANSFER"]
    for text in (explanation.title, explanation.why, explanation.instead):
        assert _en(text).replace("'", "&#x27;") in page
    assert "お電話で転院のご希望を伺いました。" in page


def test_it_refers_and_the_specialist_accepts_with_the_planned_length(
    screening_case, coordinator_sato, dr_tanaka
):
    cardiology = Department.objects.get(code="cardiology")
    response = _post(
        _as(coordinator_sato),
        "staff-case-refer",
        screening_case,
        {"department": cardiology.pk, "disease": screening_case.disease_id},
    )
    assert response.status_code == 302
    screening_case.refresh_from_db()
    assert screening_case.status == Status.REFERRED
    tanaka = _as(dr_tanaka)
    queue = tanaka.get(reverse("staff-queue")).content.decode()
    assert screening_case.reference in queue
    page = tanaka.get(reverse("staff-case", args=[screening_case.pk]))
    assert page.status_code == 200
    assert reverse("staff-case-accept", args=[screening_case.pk]) in page.content.decode()
    response = _post(tanaka, "staff-case-accept", screening_case, {"planned_minutes": "60"})
    assert response.status_code == 302
    screening_case.refresh_from_db()
    assert screening_case.status == Status.ACCEPTED
    assert screening_case.planned_minutes == 60
    assert _transitions(screening_case)[-1] == "accepted"
    assert _audited(screening_case, "transition", dr_tanaka).count() == 1


def test_accepting_needs_the_planned_length(referred_case, dr_tanaka):
    tanaka = _as(dr_tanaka)
    for bad in ({}, {"planned_minutes": "45"}, {"planned_minutes": "90"}):
        response = _post(tanaka, "staff-case-accept", referred_case, bad)
        assert response.status_code == 200  # the page again, the choice marked
        assert "Please choose how long the consult will take." in response.content.decode() or (
            "Select a valid choice" in response.content.decode()
        )
    referred_case.refresh_from_db()
    assert (referred_case.status, referred_case.planned_minutes) == (Status.REFERRED, None)


def test_the_specialist_reads_the_materials_without_the_contact_details(referred_case, dr_tanaka):
    page = _as(dr_tanaka).get(reverse("staff-case", args=[referred_case.pk])).content.decode()
    assert "手術は必要でしょうか。" in page  # the consultation sheet
    identity = ("patient_id", "proxy_id", "relationship_proof")  # the coordinators' (least data)
    for document in referred_case.documents.exclude(kind__in=identity):
        assert reverse("document-file", args=[document.pk]) in page
    for document in referred_case.documents.filter(kind__in=identity):
        assert reverse("document-file", args=[document.pk]) not in page
    assert "東京都架空区見本町1-2-3" not in page and "hana@example.jp" not in page
    assert reverse("staff-case-withdraw", args=[referred_case.pk]) not in page


def test_it_declines_with_a_reason_the_applicant_reads(referred_case, dr_tanaka, submitted):
    response = _post(
        _as(dr_tanaka),
        "staff-case-decline",
        referred_case,
        {"reason": "この疾患を担当できる専門医が不在です。"},
    )
    assert response.status_code == 302
    referred_case.refresh_from_db()
    assert referred_case.status == Status.DECLINED
    assert CaseTransition.objects.filter(case=referred_case).last().actor == dr_tanaka
    page = submitted.client.get(reverse("case-detail", args=[referred_case.pk])).content.decode()
    assert "この疾患を担当できる専門医が不在です。" in page


def test_a_decline_needs_a_reason(referred_case, dr_tanaka):
    response = _post(_as(dr_tanaka), "staff-case-decline", referred_case, {"reason": ""})
    assert response.status_code == 200
    referred_case.refresh_from_db()
    assert referred_case.status == Status.REFERRED


def test_it_withdraws_on_the_applicants_request(screening_case, coordinator_sato):
    response = _post(
        _as(coordinator_sato),
        "staff-case-withdraw",
        screening_case,
        {"reason": "11/25 10:00 ご本人よりお電話で取り下げのご希望"},
    )
    assert response.status_code == 302
    screening_case.refresh_from_db()
    assert screening_case.status == Status.WITHDRAWN
    last = CaseTransition.objects.filter(case=screening_case).last()
    assert (last.actor, last.actor_role) == (coordinator_sato, "coordinator")
    assert "取り下げ" in last.reason


def test_a_form_asked_for_after_the_idle_timeout_sends_the_whole_page_to_sign_in(
    screening_case, coordinator_sato
):
    url = reverse("staff-case", args=[screening_case.pk])
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sato = _as(coordinator_sato)
        opened = sato.get(url, {"open": "phone"}, HTTP_HX_REQUEST="true")
        assert opened.status_code == 200 and 'id="form-phone"' in opened.content.decode()
        traveller.shift(15 * 60 + 1)
        opened = sato.get(url, {"open": "phone"}, HTTP_HX_REQUEST="true")
    # htmx goes to the sign-in page itself, instead of swapping in a piece of it.
    assert opened.status_code == 204 and opened["HX-Redirect"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in sato.session
    assert Client().get(url).status_code == 302  # without htmx: the usual redirect


def test_the_case_page_offers_only_what_the_workflow_allows(screening_case, coordinator_sato):
    sato = _as(coordinator_sato)
    url = reverse("staff-case", args=[screening_case.pk])
    every_form = {"open": ["request", "reject", "refer", "withdraw", "phone"]}
    page = sato.get(url, every_form).content.decode()
    for name in ("request-documents", "reject", "refer", "withdraw", "phone-log"):
        assert reverse(f"staff-case-{name}", args=[screening_case.pk]) in page
    assert reverse("staff-case-screen", args=[screening_case.pk]) not in page
    screening.case_reject(
        case_id=screening_case.pk, actor=coordinator_sato, reasons=["WANTS_TRANSFER"]
    )
    page = sato.get(url, every_form).content.decode()
    for name in ("request-documents", "reject", "refer", "withdraw", "screen"):
        assert reverse(f"staff-case-{name}", args=[screening_case.pk]) not in page


def test_the_case_page_shows_the_eligibility_recomputed_live(
    wizard_for, proxy_ken, coordinator_sato
):
    wizard = wizard_for(proxy_ken)
    wizard.fill_all(documents=False)
    wizard.upload("referral_letter")
    wizard.submit()
    sato = _as(coordinator_sato)
    url = reverse("staff-case", args=[wizard.case.pk])
    page = sato.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Documents missing:" in page and _en(DOCUMENT_TITLES["TEST_DATA"]) in page
    wizard.all_documents()
    page = sato.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Eligible: every rule holds" in page


# Who may see what.


def test_a_specialist_of_another_department_gets_404_and_it_is_audited(referred_case, dr_mori):
    mori = _as(dr_mori)
    assert mori.get(reverse("staff-case", args=[referred_case.pk])).status_code == 404
    assert mori.get(reverse("staff-case-history", args=[referred_case.pk])).status_code == 404
    response = _post(mori, "staff-case-accept", referred_case, {"planned_minutes": "30"})
    assert response.status_code == 404
    referred_case.refresh_from_db()
    assert referred_case.status == Status.REFERRED
    assert _audited(referred_case, "denied", dr_mori).count() == 3
    assert referred_case.reference not in mori.get(reverse("staff-queue")).content.decode()


def test_a_specialist_sees_nothing_before_referral_nor_a_case_withdrawn_before_it(
    screening_case, coordinator_sato, dr_tanaka
):
    tanaka = _as(dr_tanaka)
    assert tanaka.get(reverse("staff-case", args=[screening_case.pk])).status_code == 404
    desk.case_withdraw(case_id=screening_case.pk, actor=coordinator_sato, reason="電話")
    # Withdrawn is a state specialists may see, but this case never reached the department.
    assert tanaka.get(reverse("staff-case", args=[screening_case.pk])).status_code == 404


def test_an_applicant_cannot_reach_staff_pages(screening_case, proxy_ken, outsider_eve):
    case = screening_case
    for user in (proxy_ken, outsider_eve):
        client = _as(user)
        assert client.get(reverse("staff-queue")).status_code == 403
        assert client.get(reverse("staff-case", args=[case.pk])).status_code == 403
        for name in ("screen", "request-documents", "reject", "refer", "accept", "decline"):
            assert _post(client, f"staff-case-{name}", case).status_code == 403
    anonymous = Client()
    assert anonymous.get(reverse("staff-queue")).status_code == 302
    assert anonymous.get(reverse("staff-case-history", args=[case.pk])).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.SCREENING


def test_a_specialist_cannot_use_the_coordinators_actions(referred_case, dr_tanaka):
    response = _post(_as(dr_tanaka), "staff-case-withdraw", referred_case, {"reason": "x"})
    assert response.status_code == 403
    referred_case.refresh_from_db()
    assert referred_case.status == Status.REFERRED


# Two people at once.


def test_a_second_coordinator_gets_the_clear_message_and_nothing_changes(
    screening_case, coordinator_sato
):
    suzuki = make_user("coordinator_suzuki", Role.COORDINATOR)
    sato, other = _as(coordinator_sato), _as(suzuki)
    cardiology = Department.objects.get(code="cardiology").pk
    # Both opened the page while the case was in screening.
    seen = "screening"
    chosen = {"department": cardiology, "disease": screening_case.disease_id}
    first = _post(sato, "staff-case-refer", screening_case, chosen, seen=seen)
    assert first.status_code == 302
    before = (
        list(CaseTransition.objects.all()),
        AuditEvent.objects.filter(action="transition").count(),
    )
    second = other.post(
        reverse("staff-case-refer", args=[screening_case.pk]),
        {"seen_status": seen, **chosen},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    page = second.content.decode()
    assert "Someone else already changed this case" in page
    assert "Here is its current state." in page
    assert list(CaseTransition.objects.all()) == before[0]
    assert AuditEvent.objects.filter(action="transition").count() == before[1]
    screening_case.refresh_from_db()
    assert screening_case.status == Status.REFERRED


def test_a_stale_click_is_refused_even_when_the_new_state_would_allow_it(
    submitted, coordinator_sato
):
    """Sato asks for documents; Suzuki, on the old page, clicks "start screening". From
    awaiting_documents that move is legal, but it is not what Suzuki saw: refused."""
    suzuki = _as(make_user("coordinator_suzuki", Role.COORDINATOR))
    case = submitted.case
    _post(
        _as(coordinator_sato),
        "staff-case-request-documents",
        case,
        {
            "items": ["TEST_DATA"],
            "message": "x",
            "due_date": next_open_day(jst_today() + timedelta(days=3)),
        },
        seen="submitted",
    )
    response = suzuki.post(
        reverse("staff-case-screen", args=[case.pk]),
        {"seen_status": "submitted"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "Someone else already changed this case" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.AWAITING_DOCUMENTS
    assert _transitions(case) == ["submitted", "awaiting_documents"]


def test_two_specialists_accepting_at_once_give_one_acceptance(referred_case, dr_tanaka, dr_kato):
    colleague = dr_kato  # the other cardiologist
    first = _post(_as(dr_tanaka), "staff-case-accept", referred_case, {"planned_minutes": "30"})
    second = _as(colleague).post(
        reverse("staff-case-accept", args=[referred_case.pk]),
        {"seen_status": "referred", "planned_minutes": "60"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert first.status_code == 302
    assert "Someone else already changed this case" in second.content.decode()
    referred_case.refresh_from_db()
    assert referred_case.planned_minutes == 30  # the first decision stands
    assert _transitions(referred_case).count("accepted") == 1


# The queue.


def _quick_case(applicant, *, department="cardiology", mode="online"):
    """A sent application without documents (awaiting_documents), for the department's first
    disease."""
    return case_in(
        Status.AWAITING_DOCUMENTS,
        applicant=applicant,
        department=department,
        disease=Department.objects.get(code=department).diseases.first().code,
        mode=mode,
        documents=False,
    )


@pytest.mark.parametrize("n", [3, 13])
def test_the_queue_query_count_is_bounded(
    n, demo_catalog, policy, patient_hana, coordinator_sato, django_assert_max_num_queries
):
    for i in range(n):
        case = _quick_case(patient_hana, mode="online" if i % 2 else "in_person")
        if i % 3 == 0:
            screening.case_start_screening(case_id=case.pk, actor=coordinator_sato)
            screening.case_request_documents(
                case_id=case.pk,
                actor=coordinator_sato,
                items=["TEST_DATA"],
                message="",
                due_date=jst_today() + timedelta(days=1),
            )
    sato = _as(coordinator_sato)
    sato.get(reverse("staff-queue"))  # sessions and the like warmed up
    # Session, user, second factor, the audit row (4), counts, departments, page count and rows:
    # the same for 3 cases as for 13.
    with django_assert_max_num_queries(13):
        response = sato.get(reverse("staff-queue") + "?state=all")
    assert response.content.decode().count('class="case-link"') == n


def test_the_queue_sorts_by_waiting_time_and_filters(
    demo_catalog, policy, patient_hana, coordinator_sato
):
    with time_machine.travel("2026-11-02 09:00 +0900", tick=False):
        old = _quick_case(patient_hana, department="neurology", mode="in_person")
        screening.case_start_screening(case_id=old.pk, actor=coordinator_sato)
        screening.case_request_documents(
            case_id=old.pk,
            actor=coordinator_sato,
            items=["TEST_DATA"],
            message="",
            due_date=date(2026, 11, 10),
        )
    with time_machine.travel("2026-11-20 09:00 +0900", tick=False):
        new = _quick_case(patient_hana)
    sato = _as(coordinator_sato)

    def refs(query=""):
        with time_machine.travel("2026-11-25 10:00 +0900", tick=False):
            page = sato.get(reverse("staff-queue") + query).content.decode()
        return [r for r in (old.reference, new.reference) if r in page], page

    _shown, page = refs()
    assert page.index(old.reference) < page.index(new.reference)  # longest waiting first
    _shown, page = refs("?sort=newest")
    assert page.index(new.reference) < page.index(old.reference)
    assert refs("?overdue=on")[0] == [old.reference]
    assert refs("?min_days=10")[0] == [old.reference]
    assert refs("?mode=online")[0] == [new.reference]
    neurology = Department.objects.get(code="neurology").pk
    assert refs(f"?department={neurology}")[0] == [old.reference]
    assert refs("?state=screening")[0] == []
    assert AuditEvent.objects.filter(action="read", user=coordinator_sato).exists()


def test_the_queue_reloads_itself_without_keeping_an_idle_session_alive(
    demo_catalog, coordinator_sato
):
    sato = _as(coordinator_sato)
    with time_machine.travel("2026-11-25 10:00 +0900", tick=False) as traveller:
        assert sato.get(reverse("staff-queue")).status_code == 200
        for _minute in range(16):
            traveller.shift(60)
            response = sato.get(reverse("staff-queue") + "?auto=1")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_staff_home_links_to_the_queue(coordinator_sato):
    page = _as(coordinator_sato).get(reverse("staff-home")).content.decode()
    assert reverse("staff-queue") in page


# The history.


def test_the_history_is_in_time_order_and_the_applicant_sees_only_their_part(
    submitted, coordinator_sato
):
    case = submitted.case
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False) as traveller:
        screening.case_start_screening(case_id=case.pk, actor=coordinator_sato)
        traveller.shift(60)
        screening.phone_log_create(
            case_id=case.pk,
            actor=coordinator_sato,
            called_at=timezone.now(),
            number="03-1234-5678",
            outcome="reached",
            notes="内部メモ: 声が小さい",
        )
        traveller.shift(60)
        screening.case_request_documents(
            case_id=case.pk,
            actor=coordinator_sato,
            items=["TEST_DATA"],
            message="CT画像をお送りください。",
            due_date=jst_today() + timedelta(days=7),
        )
        traveller.shift(60)
        submitted.upload("test_data", test_data_kind="ct_mri")
        staff_page = (
            _as(coordinator_sato)
            .get(reverse("staff-case-history", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
            .content.decode()
        )
        own_page = submitted.client.get(
            reverse("staff-case-history", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
    order = [
        staff_page.index(text)
        for text in ("Application sent", "内部メモ", "CT画像をお送りください。", "CT / MRI images")
    ]
    assert order == sorted(order)
    assert staff_page.count("Document received") == 6  # five with the application, then the CT
    assert "CT画像をお送りください。" in own_page
    assert "内部メモ" not in own_page and "03-1234-5678" not in own_page
    assert "coordinator_sato" not in own_page
    assert (
        AuditEvent.objects.filter(case_id=case.pk, action="read", detail__page="history").count()
        == 2
    )


def test_the_applicant_page_links_to_the_history(submitted):
    page = submitted.client.get(reverse("case-detail", args=[submitted.case.pk])).content.decode()
    assert reverse("staff-case-history", args=[submitted.case.pk]) in page
    assert (
        submitted.client.get(reverse("staff-case-history", args=[submitted.case.pk])).status_code
        == 200
    )


# E-mails.


def test_staff_emails_link_to_the_staff_case_page(
    screening_case,
    coordinator_sato,
    dr_tanaka,
    smtp_inbox,
    run_tasks,
    django_capture_on_commit_callbacks,
):
    cardiology = Department.objects.get(code="cardiology")
    with django_capture_on_commit_callbacks(execute=True):
        _post(
            _as(coordinator_sato),
            "staff-case-refer",
            screening_case,
            {"department": cardiology.pk, "disease": screening_case.disease_id},
        )
    run_tasks()
    to_tanaka = [m for m in smtp_inbox.messages if "dr_tanaka@example.jp" in m["To"]]
    assert to_tanaka
    body = to_tanaka[0].get_body(preferencelist=("plain",)).get_content()
    assert reverse("staff-case", args=[screening_case.pk]) in body
