"""A paper application (紙の申込書): the coordinator opens the case from the official eReferral
example, types in the form with the application's own forms, records the signed form and the
consent to the privacy policy, and sends it (the eligibility rules decide as online); then
hands it to the person's own account. Refused paths change nothing."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases import services as cases
from opiniondesk.cases.eligibility import Reason
from opiniondesk.cases.models import Case, CaseTransition
from opiniondesk.cases.selectors import cases_visible_to
from opiniondesk.cases.tests.conftest import Wizard, pdf_file
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import jst_today
from opiniondesk.documents.models import Document, DocumentKind
from opiniondesk.public.wording import REASONS
from opiniondesk.readiness.errors import InvitationProblem, ReadinessError
from opiniondesk.readiness.models import PatientInvitation
from opiniondesk.readiness.services import handover_invite, invitation_accept
from opiniondesk.referrals import paper
from opiniondesk.referrals.errors import PaperError
from opiniondesk.referrals.models import PaperApplication, ReferralImport
from opiniondesk.referrals.services import case_start_from_referral, pending_create
from opiniondesk.referrals.tests.test_ereferral import EXAMPLE
from opiniondesk.testing.builders import case_in

pytestmark = pytest.mark.django_db


def _as(user):
    client = Client()
    client.force_login(user)
    return client


class PaperForm(Wizard):
    """The wizard's answers, posted to the coordinator's paper pages instead."""

    def post(self, step, data, action="next"):
        self.case.refresh_from_db()
        url = reverse("staff-paper-step", args=[self.case.pk, step])
        return self.client.post(url, {"revision": self.case.revision, "action": action, **data})

    def patient(self, **extra):
        # What the form says of the patient of the official example (牧野 爛漫, 1930-06-28).
        return super().patient(
            birth=(1930, 6, 28),
            **{
                "patient_family_name": "牧野",
                "patient_given_name": "爛漫",
                "patient_family_name_kana": "マキノ",
                "patient_given_name_kana": "ランマン",
                "patient_postal_code": "781-8125",
                "patient_address": "高知県高知市五台山4200-6",
                "patient_phone": "03-123-1234",
                "patient_email": "makino@example.jp",
            }
            | extra,
        )

    def received(self, **extra):
        self.case.refresh_from_db()
        return self.client.post(
            reverse("staff-paper-received", args=[self.case.pk]),
            {
                "revision": self.case.revision,
                "received_on": jst_today().isoformat(),
                "consent": "on",
                **extra,
            },
        )

    def submit(self):
        return self.client.post(reverse("staff-paper-submit", args=[self.case.pk]))


@pytest.fixture
def paper_case(coordinator_sato, demo_catalog, policy) -> Case:
    """A draft opened from the official JP eReferral example, as the coordinator does."""
    pending, _referral = pending_create(
        raw=EXAMPLE.read_bytes(), name="referral.json", actor=coordinator_sato
    )
    return case_start_from_referral(pending_id=pending.pk, actor=coordinator_sato)


@pytest.fixture
def form(coordinator_sato, paper_case) -> PaperForm:
    return PaperForm(_as(coordinator_sato), paper_case)


def _fill(form, **physician):
    for response in (
        form.applicant("self"),
        form.patient(),
        form.consult(mode="in_person"),
        form.sheet(),
        form.physician(**physician),
    ):
        assert response.status_code == 302, response.content.decode()[:3000]


def test_the_coordinator_types_in_records_and_sends_a_paper_application(
    form, paper_case, coordinator_sato, django_capture_on_commit_callbacks
):
    page = form.client.get(reverse("staff-paper", args=[paper_case.pk]))
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert AuditEvent.objects.filter(
        action="read",
        user=coordinator_sato,
        case_id=paper_case.pk,
        detail__page="paper application",
    ).exists()
    staff_page = form.client.get(reverse("staff-case", args=[paper_case.pk])).content.decode()
    assert reverse("staff-paper", args=[paper_case.pk]) in staff_page

    _fill(form)
    scan = SimpleUploadedFile("form.pdf", pdf_file().read(), content_type="application/pdf")
    assert form.received(scan=scan).status_code == 302
    record = PaperApplication.objects.get(case=paper_case)
    assert (record.recorded_by, record.received_on) == (coordinator_sato, jst_today())
    assert record.scanned_form.kind == DocumentKind.SCANNED_FORM
    paper_case.refresh_from_db()
    assert paper_case.privacy_policy == record.privacy_policy and paper_case.privacy_accepted_at
    assert AuditEvent.objects.filter(
        case_id=paper_case.pk, detail__paper_application="received"
    ).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = form.submit()
    assert response.status_code == 302
    assert response.url == reverse("staff-case", args=[paper_case.pk])
    paper_case.refresh_from_db()
    # The letter is there, the test data is not: the rules ask for it, as online.
    assert paper_case.status == Status.AWAITING_DOCUMENTS and paper_case.submitted_at
    sent, waiting = CaseTransition.objects.filter(case=paper_case).order_by("pk")
    assert (sent.from_status, sent.to_status) == ("draft", "submitted")
    assert (sent.actor, sent.actor_role) == (coordinator_sato, "coordinator")
    assert sent.reason == paper.PAPER_REASON
    assert sent.detail["paper_application"] == record.pk
    assert waiting.to_status == "awaiting_documents" and waiting.detail["missing_documents"] == [
        "TEST_DATA"
    ]
    assert AuditEvent.objects.filter(
        case_id=paper_case.pk, action="transition", detail__reason=paper.PAPER_REASON
    ).exists()
    record.refresh_from_db()
    assert record.submitted_by == coordinator_sato and record.submitted_at


def test_missing_answers_are_refused_and_nothing_changes(form, paper_case, coordinator_sato):
    form.applicant("self")
    form.consult(mode="in_person")
    assert form.received().status_code == 302
    response = form.submit()
    assert response.status_code == 302 and response.url.endswith(
        reverse("staff-paper", args=[paper_case.pk])
    )
    paper_case.refresh_from_db()
    assert paper_case.status == Status.DRAFT and not paper_case.transitions.exists()
    page = form.client.get(reverse("staff-paper", args=[paper_case.pk])).content.decode()
    assert 'id="paper-missing"' in page
    with pytest.raises(cases.Incomplete) as info:
        paper.paper_submit(case_id=paper_case.pk, actor=coordinator_sato)
    assert "sheet" in info.value.steps and "physician" in info.value.steps


def test_a_step_with_a_required_answer_missing_is_refused_by_the_wizards_form(form, paper_case):
    response = form.post("physician", {"physician_name": "大河内 勘三郎"})
    assert response.status_code == 400
    paper_case.refresh_from_db()
    assert paper_case.attending_physician_agrees is None


def test_without_the_signed_form_recorded_it_is_not_sent(form, paper_case, coordinator_sato):
    _fill(form)
    with pytest.raises(PaperError) as info:
        paper.paper_submit(case_id=paper_case.pk, actor=coordinator_sato)
    assert info.value.code == "NOT_RECEIVED"
    assert Case.objects.get(pk=paper_case.pk).status == Status.DRAFT


def test_the_consent_must_be_ticked_and_the_date_not_in_the_future(form, paper_case):
    assert form.received(consent="").status_code == 400
    future = (jst_today() + timedelta(days=1)).isoformat()
    response = form.received(received_on=future)
    assert response.status_code == 400
    assert PaperApplication.objects.get(case=paper_case).received_on is None
    assert Case.objects.get(pk=paper_case.pk).privacy_policy is None


def test_the_eligibility_rules_refuse_as_online_with_a_japanese_message(
    form, paper_case, coordinator_sato
):
    _fill(form, complaint_or_litigation="yes")
    form.received()
    response = form.client.post(
        reverse("staff-paper-submit", args=[paper_case.pk]), HTTP_ACCEPT_LANGUAGE="ja", follow=True
    )
    page = response.content.decode()
    with translation.override("ja"):
        why = str(REASONS[Reason.COMPLAINT_OR_LITIGATION].why)
    with translation.override("en"):
        assert why != str(REASONS[Reason.COMPLAINT_OR_LITIGATION].why)  # it is in Japanese
    assert 'id="paper-refused"' in page and escape(why) in page
    paper_case.refresh_from_db()
    assert paper_case.status == Status.DRAFT and not paper_case.transitions.exists()
    with pytest.raises(cases.Refused) as info:
        paper.paper_submit(case_id=paper_case.pk, actor=coordinator_sato)
    assert info.value.reasons == (Reason.COMPLAINT_OR_LITIGATION,)
    assert PaperApplication.objects.get(case=paper_case).submitted_at is None


@pytest.mark.parametrize("who", ["dr_tanaka", "billing_ito", "patient_hana", "admin_kato"])
def test_other_roles_may_not_open_the_pages_nor_send(who, personas, paper_case):
    client = _as(personas[who])
    assert client.get(reverse("staff-paper", args=[paper_case.pk])).status_code == 403
    assert client.post(reverse("staff-paper-submit", args=[paper_case.pk])).status_code == 403
    with pytest.raises(PaperError) as info:
        paper.paper_submit(case_id=paper_case.pk, actor=personas[who])
    assert info.value.code == "NOT_COORDINATOR"
    assert Case.objects.get(pk=paper_case.pk).status == Status.DRAFT


def test_an_online_applicants_draft_is_never_the_coordinators(
    coordinator_sato, patient_hana, demo_catalog, policy
):
    draft = case_in(Status.DRAFT, applicant=patient_hana)
    client = _as(coordinator_sato)
    for url in ("staff-paper", "staff-paper-submit"):
        assert client.post(reverse(url, args=[draft.pk])).status_code == 404
    with pytest.raises(PaperError) as info:
        paper.paper_submit(case_id=draft.pk, actor=coordinator_sato)
    assert info.value.code == "NOT_PAPER"
    with pytest.raises(PaperError):
        paper.paper_save_step(
            case_id=draft.pk,
            revision=draft.revision,
            step="sheet",
            values={"questions": "x"},
            actor=coordinator_sato,
        )
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.questions != "x"


def test_a_case_filled_from_a_letter_but_not_opened_from_it_is_not_a_paper_case(
    coordinator_sato, patient_hana, demo_catalog, policy
):
    """An online draft whose blanks were filled from a letter stays its applicant's."""
    draft = case_in(Status.DRAFT, applicant=patient_hana)
    ReferralImport.objects.create(
        case=draft,
        document=Document.objects.filter(case=draft).first(),
        imported_by=coordinator_sato,
        started_case=False,
        bundle_identifier="b",
        document_identifier="d",
    )
    with pytest.raises(PaperError) as info:
        paper.paper_submit(case_id=draft.pk, actor=coordinator_sato)
    assert info.value.code == "NOT_PAPER"


def test_once_sent_it_is_not_sent_again(form, paper_case, coordinator_sato):
    _fill(form)
    form.received()
    form.submit()
    with pytest.raises(PaperError) as info:
        paper.paper_submit(case_id=paper_case.pk, actor=coordinator_sato)
    assert info.value.code == "NOT_DRAFT"
    assert CaseTransition.objects.filter(case=paper_case, to_status="submitted").count() == 1


def _sent(form):
    _fill(form)
    form.received()
    form.submit()
    form.case.refresh_from_db()
    assert form.case.status == Status.AWAITING_DOCUMENTS
    return form.case


def _token(smtp_inbox):
    body = smtp_inbox.bodies()[-1]
    return re.search(r"/invitations/([^/\s]+)/", body).group(1)


def test_the_patient_takes_the_sent_case_into_their_own_account(
    form, coordinator_sato, patient_hana, smtp_inbox, run_tasks, django_capture_on_commit_callbacks
):
    case = _sent(form)
    placeholder = case.applicant
    assert not placeholder.has_usable_password() and not placeholder.email
    run_tasks()  # the coordinators' mail about the new application, queued with it
    smtp_inbox.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = form.client.post(
            reverse("staff-paper-handover", args=[case.pk]), {"email": "makino@example.jp"}
        )
    assert response.status_code == 302
    invitation = PatientInvitation.objects.get(case=case)
    assert invitation.hands_over and invitation.created_by == coordinator_sato
    run_tasks()
    assert [m["To"] for m in smtp_inbox.messages] == ["makino@example.jp"]
    token = _token(smtp_inbox)

    # The patient signs up on their own (allauth), then opens the link.
    makino = User.objects.create(
        username="makino",
        email="makino@example.jp",
        role=Role.PATIENT,
        password=make_password("a-long-passphrase-1"),
    )
    patient = _as(makino)
    assert not cases_visible_to(makino).filter(pk=case.pk).exists()
    link = reverse("patient-invitation", args=[token])
    assert patient.get(link).status_code == 200
    accepted = patient.post(link)
    assert accepted.status_code == 302 and accepted.url == reverse("case-detail", args=[case.pk])

    case.refresh_from_db()
    placeholder.refresh_from_db()
    assert case.applicant == makino and case.patient_account_id_effective == makino.pk
    assert not placeholder.is_active
    assert list(cases_visible_to(makino)) == [case]
    assert not cases_visible_to(placeholder).exists()
    dashboard = patient.get(reverse("dashboard")).content.decode()
    assert case.reference in dashboard
    assert patient.get(reverse("case-detail", args=[case.pk])).status_code == 200
    assert AuditEvent.objects.filter(
        case_id=case.pk, detail__handed_over=True, detail__applicant_to=makino.pk
    ).exists()
    # No longer the hospital's: the coordinator's paper pages and handover are closed.
    assert form.client.get(reverse("staff-paper", args=[case.pk])).status_code == 404
    with pytest.raises(ReadinessError):
        handover_invite(case_id=case.pk, actor=coordinator_sato, email="x@example.jp")
    # The link is used up: nobody else takes the case with it.
    with pytest.raises(InvitationProblem):
        invitation_accept(token=token, actor=patient_hana)
    assert not cases_visible_to(patient_hana).filter(pk=case.pk).exists()


def test_handover_is_refused_for_a_draft_another_role_and_an_online_case(
    form, paper_case, coordinator_sato, patient_hana, dr_tanaka
):
    with pytest.raises(ReadinessError):
        handover_invite(case_id=paper_case.pk, actor=coordinator_sato, email="a@example.jp")
    case = _sent(form)
    with pytest.raises(ReadinessError):
        handover_invite(case_id=case.pk, actor=dr_tanaka, email="a@example.jp")
    online = case_in(Status.SUBMITTED, applicant=patient_hana)
    with pytest.raises(ReadinessError):
        handover_invite(case_id=online.pk, actor=coordinator_sato, email="a@example.jp")
    assert not PatientInvitation.objects.exists()


def test_a_staff_account_cannot_take_the_case(form, coordinator_sato, dr_tanaka, smtp_inbox):
    case = _sent(form)
    token = handover_invite(case_id=case.pk, actor=coordinator_sato, email="a@example.jp")
    with pytest.raises(InvitationProblem):
        invitation_accept(token=token, actor=dr_tanaka)
    case.refresh_from_db()
    assert case.applicant.username.startswith("paper-")
