"""A paper or phone application without a referral letter (SPEC §3, issue #16 item 8): the
coordinator opens the case from the caller's details, attaches several scans with their kinds,
types the form in, records the signed form, sends it, and invites the person's account later;
the person's first sign-in shows the case. The channel is recorded and shown. Refused input
changes nothing."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.models import Case, Channel
from opiniondesk.cases.selectors import cases_visible_to
from opiniondesk.cases.tests.conftest import pdf_file
from opiniondesk.cases.workflow import Status
from opiniondesk.desk.tests.test_paper import PaperForm
from opiniondesk.documents.content import ContentRejected
from opiniondesk.documents.models import Document, DocumentKind
from opiniondesk.documents.services import Scan, UploadRefused
from opiniondesk.referrals import paper
from opiniondesk.referrals.errors import PaperError
from opiniondesk.referrals.models import PaperApplication
from opiniondesk.testing.builders import case_in

pytestmark = pytest.mark.django_db

CALLER = {
    "patient_family_name": "架空",
    "patient_given_name": "花子",
    "patient_family_name_kana": "カクウ",
    "patient_given_name_kana": "ハナコ",
    "patient_phone": "090-0000-1234",
}


def _as(user):
    client = Client()
    client.force_login(user)
    return client


def _scan(kind, name="scan.pdf", **extra):
    return Scan(kind=kind, uploaded=pdf_file(name), **extra)


@pytest.fixture
def phone_case(coordinator_sato, demo_catalog, policy) -> Case:
    return paper.paper_open(actor=coordinator_sato, channel=Channel.PHONE, patient=CALLER)


def test_it_opens_a_case_from_the_callers_details_without_a_letter(phone_case, coordinator_sato):
    assert (phone_case.status, phone_case.channel) == (Status.DRAFT, Channel.PHONE)
    assert phone_case.patient_name == "架空 花子" and phone_case.patient_phone == "090-0000-1234"
    account = phone_case.applicant
    assert account.role == Role.PATIENT and not account.email
    assert not account.has_usable_password()
    record = PaperApplication.objects.get(case=phone_case)
    assert (record.opened_account, record.opened_by) == (account, coordinator_sato)
    assert record.opened_at and record.received_on is None
    assert not phone_case.referral_imports.exists()
    assert AuditEvent.objects.filter(
        case_id=phone_case.pk, user=coordinator_sato, detail__channel="phone"
    ).exists()
    # The hospital holds it: the coordinators see the draft, the account is nobody's to use.
    assert cases_visible_to(coordinator_sato).filter(pk=phone_case.pk).exists()


@pytest.mark.parametrize("who", ["dr_tanaka", "billing_ito", "patient_hana", "admin_kato"])
def test_only_a_coordinator_opens_one(who, personas, demo_catalog, policy):
    with pytest.raises(PaperError) as info:
        paper.paper_open(actor=personas[who], channel=Channel.POST, patient=CALLER)
    assert info.value.code == "NOT_COORDINATOR"
    assert not Case.objects.filter(patient_family_name="架空").exists()
    assert _as(personas[who]).get(reverse("staff-paper-open")).status_code == 403


def test_an_online_channel_or_another_field_is_refused(coordinator_sato, demo_catalog, policy):
    with pytest.raises(PaperError):
        paper.paper_open(actor=coordinator_sato, channel=Channel.ONLINE, patient=CALLER)
    with pytest.raises(ValueError):
        paper.paper_open(
            actor=coordinator_sato, channel=Channel.POST, patient=CALLER | {"status": "screening"}
        )
    assert not Case.objects.exists()
    assert not User.objects.filter(username__startswith="paper-").exists()


def test_the_open_page_refuses_a_wrong_phone_or_kana_and_keeps_nothing(coordinator_sato, policy):
    client = _as(coordinator_sato)
    for wrong in ({"patient_phone": "12345"}, {"patient_family_name_kana": "kakuu"}, {}):
        data = {"channel": "phone", **CALLER, **wrong}
        if not wrong:
            data["channel"] = "online"  # not a channel a coordinator opens
        assert client.post(reverse("staff-paper-open"), data).status_code == 400
    assert not Case.objects.exists()


def test_several_scans_are_attached_with_their_kinds(phone_case, coordinator_sato):
    added = paper.paper_attach(
        case_id=phone_case.pk,
        scans=[
            _scan(DocumentKind.SCANNED_FORM, note="申込書"),
            _scan(DocumentKind.REFERRAL_LETTER),
            _scan(DocumentKind.TEST_DATA, test_data_kind="blood"),
        ],
        actor=coordinator_sato,
    )
    kinds = sorted(Document.objects.filter(case=phone_case).values_list("kind", flat=True))
    assert kinds == sorted(["scanned_form", "referral_letter", "test_data"])
    assert all(d.source == "staff" and d.uploaded_by == coordinator_sato for d in added)
    assert AuditEvent.objects.filter(case_id=phone_case.pk, detail__kind="test_data").exists()


def test_one_bad_scan_stores_none(phone_case, coordinator_sato):
    not_a_pdf = SimpleUploadedFile("x.pdf", b"MZ\x90\x00 a program", content_type="application/pdf")
    with pytest.raises(ContentRejected):
        paper.paper_attach(
            case_id=phone_case.pk,
            scans=[_scan(DocumentKind.REFERRAL_LETTER), Scan(DocumentKind.OTHER, not_a_pdf)],
            actor=coordinator_sato,
        )
    with pytest.raises(UploadRefused):
        paper.paper_attach(
            case_id=phone_case.pk,
            scans=[_scan(DocumentKind.REFERRAL_LETTER), _scan(DocumentKind.TEST_DATA)],
            actor=coordinator_sato,
        )
    with pytest.raises(UploadRefused):  # an ID is the patient's, checked with its type
        paper.paper_attach(
            case_id=phone_case.pk, scans=[_scan(DocumentKind.PATIENT_ID)], actor=coordinator_sato
        )
    assert not Document.objects.filter(case=phone_case).exists()


def test_scans_are_not_attached_to_an_online_case(coordinator_sato, patient_hana, dr_tanaka):
    online = case_in(Status.SCREENING, applicant=patient_hana)
    before = Document.objects.filter(case=online).count()
    for actor, code in ((coordinator_sato, "NOT_PAPER"), (dr_tanaka, "NOT_COORDINATOR")):
        with pytest.raises(PaperError) as info:
            paper.paper_attach(case_id=online.pk, scans=[_scan(DocumentKind.OTHER)], actor=actor)
        assert info.value.code == code
    response = _as(coordinator_sato).post(reverse("staff-paper-attach", args=[online.pk]))
    assert response.status_code == 404
    assert Document.objects.filter(case=online).count() == before


def test_the_channel_is_shown_on_the_staff_pages(
    phone_case, coordinator_sato, patient_hana, settings
):
    client = _as(coordinator_sato)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        phone, online_label = str(Channel.PHONE.label), str(Channel.ONLINE.label)
    online = case_in(Status.SCREENING, applicant=patient_hana)
    phone_page = client.get(reverse("staff-case", args=[phone_case.pk])).content.decode()
    online_page = client.get(reverse("staff-case", args=[online.pk])).content.decode()
    paper_page = client.get(reverse("staff-paper", args=[phone_case.pk])).content.decode()
    assert 'id="case-channel"' in phone_page and phone in phone_page
    assert phone not in online_page and online_label in online_page
    assert 'id="paper-channel"' in paper_page and phone in paper_page


def _confirm_link(smtp_inbox):
    body = smtp_inbox.bodies()[-1]
    return re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/", body).group(0)


def test_the_coordinator_walks_a_phone_application_to_the_persons_first_sign_in(
    coordinator_sato,
    demo_catalog,
    policy,
    smtp_inbox,
    run_tasks,
    django_capture_on_commit_callbacks,
):
    desk = _as(coordinator_sato)
    assert reverse("staff-paper-open") in desk.get(reverse("staff-home")).content.decode()
    opened = desk.post(reverse("staff-paper-open"), {"channel": "phone", **CALLER})
    assert opened.status_code == 302
    case = Case.objects.get(patient_family_name="架空")
    assert opened.url == reverse("staff-paper", args=[case.pk]) and case.channel == Channel.PHONE

    # The forms came back by post: the scans, then the form typed in part by part.
    attached = desk.post(
        reverse("staff-paper-attach", args=[case.pk]),
        {
            "scan-TOTAL_FORMS": "3",
            "scan-INITIAL_FORMS": "0",
            "scan-MIN_NUM_FORMS": "0",
            "scan-MAX_NUM_FORMS": "10",
            "scan-0-kind": "referral_letter",
            "scan-0-file": pdf_file("letter.pdf"),
            "scan-1-kind": "test_data",
            "scan-1-test_data_kind": "ct_mri",
            "scan-1-note": "CT 2026-11",
            "scan-1-file": pdf_file("ct.pdf"),
            "scan-2-kind": "",
        },
    )
    assert attached.status_code == 302, attached.content.decode()[:2000]
    assert Document.objects.filter(case=case).count() == 2
    form = PaperForm(desk, case)
    for response in (
        form.applicant("self"),
        form.patient(patient_email=""),
        form.consult(mode="in_person"),
        form.sheet(),
        form.physician(),
    ):
        assert response.status_code == 302, response.content.decode()[:3000]
    assert form.received(scan=pdf_file("signed-form.pdf")).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert form.submit().status_code == 302
    case.refresh_from_db()
    assert case.status in (Status.SUBMITTED, Status.SCREENING) and case.channel == Channel.PHONE
    run_tasks()
    smtp_inbox.messages.clear()

    # Weeks later the person wants to follow it online: the invitation.
    with django_capture_on_commit_callbacks(execute=True):
        invited = desk.post(
            reverse("staff-paper-handover", args=[case.pk]), {"email": "hanako@example.jp"}
        )
    assert invited.status_code == 302
    run_tasks()
    assert [m["To"] for m in smtp_inbox.messages] == ["hanako@example.jp"]
    link = re.search(r"/invitations/[^/\s]+/", smtp_inbox.bodies()[-1]).group(0)

    person = Client()
    assert person.get(link).status_code == 200  # asks them to sign in or create an account
    with django_capture_on_commit_callbacks(execute=True):
        signed_up = person.post(
            reverse("account_signup") + f"?next={link}",
            {
                "email": "hanako@example.jp",
                "password1": "kakuu-2026-blue",
                "password2": "kakuu-2026-blue",
            },
        )
    assert signed_up.status_code == 302
    run_tasks()
    person.post(_confirm_link(smtp_inbox).removeprefix(settings.SITE_URL))
    assert EmailAddress.objects.get(email="hanako@example.jp").verified
    person.logout()
    login = person.post(
        reverse("account_login"),
        {"login": "hanako@example.jp", "password": "kakuu-2026-blue", "next": link},
    )
    assert login.status_code == 302 and "_auth_user_id" in person.session
    accepted = person.post(link)
    assert accepted.status_code == 302 and accepted.url == reverse("case-detail", args=[case.pk])

    hanako = User.objects.get(email="hanako@example.jp")
    case.refresh_from_db()
    assert case.applicant == hanako and case.channel == Channel.PHONE
    assert case.reference in person.get(reverse("dashboard")).content.decode()
    assert person.get(reverse("case-detail", args=[case.pk])).status_code == 200
    # Handed over: no longer the hospital's to type into or attach to.
    assert desk.get(reverse("staff-paper", args=[case.pk])).status_code == 404
    with pytest.raises(PaperError):
        paper.paper_attach(case_id=case.pk, scans=[_scan("other")], actor=coordinator_sato)
