"""The patient's steps before the consult (SPEC §6, §11.1–2): the ID, the signed request and
consent, linking the patient's own account, and the checklist. Real views and services; "now" is
Wednesday 25 November 2026, 10:00 in Japan."""

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import JST
from opiniondesk.demo.texts import CONSENT_VERSION as VERSION
from opiniondesk.demo.texts import load_consent_form
from opiniondesk.documents.models import Document, DocumentKind
from opiniondesk.documents.tests import samples
from opiniondesk.readiness.models import ConsentForm, ConsentSignature, PatientInvitation
from opiniondesk.readiness.services import (
    device_check_record,
    identity_review,
    invitation_accept,
    invitation_create,
)
from opiniondesk.scheduling.models import OfferedSlot
from opiniondesk.scheduling.services import offer_create
from opiniondesk.scheduling.tests import factories

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=True):
        yield


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def jpeg(name: str = "licence.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, samples.image("JPEG"), content_type="image/jpeg")


def ids_of(case: Case) -> list[Document]:
    return list(Document.objects.filter(case=case, kind=DocumentKind.PATIENT_ID).order_by("pk"))


def item_state(html: str, item: str) -> str:
    match = re.search(rf'data-item="{item}" data-state="(\w+)"', html)
    assert match, f"no checklist item {item}"
    return match.group(1)


@pytest.fixture
def hana(patient_hana):
    return signed_in(patient_hana)


@pytest.fixture
def ken_case(proxy_ken, coordinator_sato, dr_tanaka):
    """Ken's application for his mother Hana (online cardiology), accepted."""
    return factories.accepted_case(
        proxy_ken, coordinator=coordinator_sato, specialist=dr_tanaka, relation="child"
    )


# The ID.


def test_it_takes_an_id_and_shows_what_our_staff_said(
    accepted, hana, patient_hana, coordinator_sato
):
    url = reverse("case-identity", args=[accepted.pk])
    page = hana.get(url).content.decode()
    assert 'id="id-upload"' in page and 'data-state="missing"' in page

    response = hana.post(url, {"id_type": "health_insurance_card", "file": jpeg("card.jpg")})

    assert response.status_code == 302
    [card] = ids_of(accepted)
    assert (card.id_type, card.uploaded_by) == ("health_insurance_card", patient_hana)
    page = hana.get(url).content.decode()
    assert f'data-document="{card.pk}" data-state="waiting"' in page
    assert "Health insurance card" in page

    identity_review(
        document_id=card.pk, actor=coordinator_sato, verified=False, reason="写真がぼやけています"
    )
    page = hana.get(url).content.decode()
    assert f'data-document="{card.pk}" data-state="rejected"' in page
    assert "写真がぼやけています" in page

    hana.post(url, {"id_type": "drivers_licence", "file": jpeg()})
    licence = ids_of(accepted)[-1]
    identity_review(document_id=licence.pk, actor=coordinator_sato, verified=True)
    page = hana.get(url).content.decode()
    assert f'data-document="{licence.pk}" data-state="verified"' in page
    assert 'id="id-state" data-state="verified"' in page and 'id="id-upload"' not in page
    assert (
        item_state(
            hana.get(reverse("case-detail", args=[accepted.pk])).content.decode(), "identity"
        )
        == "done"
    )


def test_one_id_without_a_photo_is_not_enough(accepted, hana, coordinator_sato):
    url = reverse("case-identity", args=[accepted.pk])
    hana.post(url, {"id_type": "pension_book", "file": jpeg("pension.jpg")})
    identity_review(document_id=ids_of(accepted)[0].pk, actor=coordinator_sato, verified=True)

    page = hana.get(url).content.decode()

    assert 'id="id-state" data-state="insufficient"' in page and 'id="id-upload"' in page
    detail = hana.get(reverse("case-detail", args=[accepted.pk])).content.decode()
    assert item_state(detail, "identity") == "todo"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"id_type": "passport", "file": SimpleUploadedFile("id.exe", samples.EXE)},
            "We cannot accept this kind of file.",
        ),
        (
            {"id_type": "passport", "file": SimpleUploadedFile("scan.dcm", samples.dicom())},
            "Please send a photo (JPEG, PNG, HEIC) or a PDF of the ID.",
        ),
        ({"id_type": "passport", "file": SimpleUploadedFile("empty.jpg", b"")}, "empty"),
        ({"file": jpeg()}, "Please choose which ID this is."),
        ({"id_type": "library_card", "file": jpeg()}, "Select a valid choice."),
        ({"id_type": "passport"}, "Please choose the file to send."),
    ],
)
def test_a_wrong_upload_is_explained_and_changes_nothing(accepted, hana, data, message):
    response = hana.post(reverse("case-identity", args=[accepted.pk]), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'class="error-message"' in response.content.decode()
    assert ids_of(accepted) == []


def test_an_id_can_be_sent_only_once_the_case_is_accepted(
    patient_hana, coordinator_sato, dr_tanaka
):
    case = factories.accepted_case(patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka)
    Case.objects.filter(pk=case.pk).update(status=Status.REFERRED)
    hana = signed_in(patient_hana)

    response = hana.post(
        reverse("case-identity", args=[case.pk]), {"id_type": "passport", "file": jpeg()}
    )

    assert "once the department has accepted" in response.content.decode()
    assert ids_of(case) == []


# The request and consent for an online consult.


def test_the_patient_signs_with_their_name_and_the_version_is_kept(accepted, hana, patient_hana):
    load_consent_form()
    url = reverse("case-consent", args=[accepted.pk])
    page = hana.get(url).content.decode()
    assert f'data-version="{VERSION}"' in page and 'id="sign"' in page
    assert "cannot examine me" in page  # the English text, for an English page

    wrong = hana.post(url, {"signer_name": "山田 太郎", "form_version": VERSION})
    assert "exactly as in the application" in wrong.content.decode()
    assert not ConsentSignature.objects.exists()

    response = hana.post(url, {"signer_name": "山田\u3000花", "form_version": VERSION})

    assert response.status_code == 302
    signature = ConsentSignature.objects.get(case=accepted)
    assert (signature.form.version, signature.signed_by) == (VERSION, patient_hana)
    assert (signature.signer_name, signature.language) == ("山田\u3000花", "en")
    page = hana.get(url).content.decode()
    assert 'id="signature"' in page and "山田\u3000花" in page and 'id="sign"' not in page
    assert hana.post(url, {"signer_name": "山田 花", "form_version": VERSION}).status_code == 200
    assert ConsentSignature.objects.count() == 1


def test_a_changed_consent_text_must_be_read_again(accepted, hana):
    load_consent_form()
    ConsentForm.objects.create(
        version="2026.2", effective_from=NOW.date() - timedelta(days=1), text_ja="新しい文面"
    )
    url = reverse("case-consent", args=[accepted.pk])

    response = hana.post(url, {"signer_name": "山田 花", "form_version": VERSION})

    assert "The consent text has changed" in response.content.decode()
    assert 'value="2026.2"' in response.content.decode()
    assert not ConsentSignature.objects.exists()


def test_only_the_patients_own_account_may_sign(ken_case, proxy_ken):
    load_consent_form()
    ken = signed_in(proxy_ken)
    url = reverse("case-consent", args=[ken_case.pk])

    page = ken.get(url).content.decode()

    assert 'id="who-signs"' in page and 'id="sign"' not in page
    assert reverse("case-invite-patient", args=[ken_case.pk]) in page
    assert ken.post(url, {"signer_name": "山田 花", "form_version": VERSION}).status_code == 403
    assert not ConsentSignature.objects.exists()


# Linking the patient's own account.


def test_the_family_member_invites_the_patient_who_links_her_account(
    ken_case,
    proxy_ken,
    patient_hana,
    smtp_inbox,
    run_tasks,
    django_capture_on_commit_callbacks,
):
    ken = signed_in(proxy_ken)
    invite = reverse("case-invite-patient", args=[ken_case.pk])
    page = ken.get(invite).content.decode()
    assert f'value="{ken_case.patient_email}"' in page and 'id="invite"' in page
    assert (
        item_state(
            ken.get(reverse("case-detail", args=[ken_case.pk])).content.decode(), "patient_account"
        )
        == "todo"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = ken.post(invite, {"email": "hana.yamada@example.jp"})
    assert response.status_code == 302
    run_tasks()

    [mail] = smtp_inbox.messages
    assert mail["To"] == "hana.yamada@example.jp"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"/invitations/[^/\s]+/", body).group(0)
    assert 'data-state="open"' in ken.get(invite).content.decode()

    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    first_look = anonymous.get(path).content.decode()
    assert f"?next={path}" in first_look.replace("%2F", "/")
    assert 'id="login-link"' in first_look and 'id="signup-link"' in first_look
    assert ken_case.reference not in first_look and "山田" not in first_look

    as_ken = ken.get(path).content.decode()  # the applicant's own account is refused
    assert 'id="applicant-account"' in as_ken and 'id="accept-invitation"' not in as_ken
    ken.post(path)
    assert Case.objects.get(pk=ken_case.pk).patient_account is None

    hana = signed_in(patient_hana)
    confirm = hana.get(path).content.decode()
    assert ken_case.reference in confirm and "山田 健" in confirm
    assert "心不全" not in confirm and "heart" not in confirm.lower()
    response = hana.post(path)

    assert response.status_code == 302
    assert response["Location"] == reverse("case-detail", args=[ken_case.pk])
    assert Case.objects.get(pk=ken_case.pk).patient_account == patient_hana
    assert hana.get(response["Location"]).status_code == 200
    assert 'id="linked"' in ken.get(invite).content.decode()
    used = hana.get(path)
    assert used.status_code == 410 and "already been used" in used.content.decode()


def test_an_unknown_invitation_says_so(patient_hana):
    hana = signed_in(patient_hana)
    for client in (hana, Client(HTTP_ACCEPT_LANGUAGE="en")):
        response = client.get(reverse("patient-invitation", args=["not-a-token"]))
        assert response.status_code == 410 and "not valid" in response.content.decode()


def test_an_expired_invitation_link_cannot_be_accepted(
    ken_case,
    proxy_ken,
    patient_hana,
    smtp_inbox,
    run_tasks,
    django_capture_on_commit_callbacks,
):
    ken = signed_in(proxy_ken)
    with django_capture_on_commit_callbacks(execute=True):
        ken.post(reverse("case-invite-patient", args=[ken_case.pk]), {"email": "h@example.jp"})
    run_tasks()
    body = smtp_inbox.messages[0].get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"/invitations/[^/\s]+/", body).group(0)

    with time_machine.travel(NOW + timedelta(days=15), tick=False):
        hana = signed_in(patient_hana)
        page = hana.get(path)
        assert page.status_code == 410 and "has expired" in page.content.decode()
        hana.post(path)
        ken = signed_in(proxy_ken)  # two weeks on: a new session
        invite = ken.get(reverse("case-invite-patient", args=[ken_case.pk])).content.decode()
        assert 'data-state="expired"' in invite and 'id="invite"' in invite

    assert Case.objects.get(pk=ken_case.pk).patient_account is None


def test_only_the_applicant_may_invite(ken_case, proxy_ken, patient_hana):
    token = invitation_create(case_id=ken_case.pk, actor=proxy_ken, email="h@example.jp")
    invitation_accept(token=token, actor=patient_hana)
    hana = signed_in(patient_hana)
    url = reverse("case-invite-patient", args=[ken_case.pk])

    assert hana.post(url, {"email": "other@example.jp"}).status_code == 403
    assert 'id="linked"' in hana.get(url).content.decode()
    assert not PatientInvitation.objects.filter(email="other@example.jp").exists()


def test_a_bad_email_is_explained(ken_case, proxy_ken):
    ken = signed_in(proxy_ken)
    response = ken.post(reverse("case-invite-patient", args=[ken_case.pk]), {"email": "hana@"})
    assert response.status_code == 200
    assert "does not look complete" in response.content.decode()
    assert not PatientInvitation.objects.exists()


# The checklist and the dashboard.


def test_the_case_page_lists_what_is_left_and_the_case_becomes_ready(
    accepted, hana, coordinator_sato, patient_hana
):
    load_consent_form()
    detail = reverse("case-detail", args=[accepted.pk])
    html = hana.get(detail).content.decode()
    states = {
        item: item_state(html, item)
        for item in ("patient_account", "identity", "consent", "device_check")
    }
    assert states == {
        "patient_account": "done",
        "identity": "todo",
        "consent": "todo",
        "device_check": "todo",
    }
    # No card provider is configured: the fee is paid at the hospital, no card step is listed.
    assert 'data-item="payment_method"' not in html
    for name in ("case-identity", "case-consent", "device-check"):
        assert reverse(name, args=[accepted.pk]) in html

    slots = factories.free_slots(accepted, limit=2)
    offer_create(
        case_id=accepted.pk,
        actor=coordinator_sato,
        slots=[(s.specialist_id, s.starts_at) for s in slots],
        hold_until=factories.hold_until_for(slots),
    )
    slot = OfferedSlot.objects.filter(offer__case=accepted).first()
    hana.post(reverse("case-book", args=[accepted.pk]), {"slot": slot.pk})
    hana.post(reverse("case-identity", args=[accepted.pk]), {"id_type": "passport", "file": jpeg()})
    identity_review(document_id=ids_of(accepted)[0].pk, actor=coordinator_sato, verified=True)
    hana.post(
        reverse("case-consent", args=[accepted.pk]),
        {"signer_name": "山田 花", "form_version": VERSION},
    )
    assert Case.objects.get(pk=accepted.pk).status == Status.BOOKED
    device_check_record(
        case_id=accepted.pk,
        actor=patient_hana,
        camera_ok=True,
        microphone_ok=True,
        connection_ok=True,
        round_trip_ms=40,
    )

    assert Case.objects.get(pk=accepted.pk).status == Status.READY
    html = hana.get(detail).content.decode()
    for item in ("patient_account", "identity", "consent", "device_check"):
        assert item_state(html, item) == "done"


def test_the_dashboard_shows_the_next_thing_to_do(accepted, hana, coordinator_sato):
    dashboard = reverse("dashboard")
    slots = factories.free_slots(accepted, limit=2)
    offer_create(
        case_id=accepted.pk,
        actor=coordinator_sato,
        slots=[(s.specialist_id, s.starts_at) for s in slots],
        hold_until=factories.hold_until_for(slots),
    )
    html = hana.get(dashboard).content.decode()
    assert f'href="{reverse("case-detail", args=[accepted.pk])}#dates"' in html
    assert "Next: choose a date by 17:00 on Monday 30 November 2026" in html

    slot = OfferedSlot.objects.filter(offer__case=accepted).first()
    hana.post(reverse("case-book", args=[accepted.pk]), {"slot": slot.pk})

    html = hana.get(dashboard).content.decode()
    assert "Next: Send a photo of the patient&#x27;s ID" in html
    assert f'href="{reverse("case-identity", args=[accepted.pk])}"' in html


def test_the_demo_consent_form_loads_once_and_covers_the_guideline(db):
    first = load_consent_form()
    again = load_consent_form()

    assert first.pk == again.pk and ConsentForm.objects.count() == 1
    assert first.effective_from <= NOW.date()
    for words in ("触診", "対面", "通信", "録画", "個人情報", "日本国内", "個室", "同席"):
        assert words in first.text_ja
    for words in ("examine", "in person", "connect", "record", "privacy", "Japan", "present"):
        assert words in first.text_en
