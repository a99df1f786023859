"""The coordinator's eReferral pages: upload, see what was read, confirm. A new paper-style case
(a draft of a new patient account) or the blanks of an open case; the file kept as the referral
letter, audited; other roles refused; a bad file refused with its reasons and nothing saved."""

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.documents.models import Document, DocumentKind, UploadSource
from opiniondesk.referrals.models import PendingReferral, ReferralImport
from opiniondesk.referrals.tests.test_ereferral import EXAMPLE, composition, encoded, example
from opiniondesk.testing.builders import case_in

pytestmark = pytest.mark.django_db


def _as(user):
    client = Client()
    client.force_login(user)
    return client


def _upload(client, raw, url=None, name="referral.json"):
    return client.post(
        url or reverse("referral-upload"),
        {"file": SimpleUploadedFile(name, raw, content_type="application/json")},
    )


def test_a_coordinator_opens_a_case_from_the_file(coordinator_sato):
    client = _as(coordinator_sato)
    raw = EXAMPLE.read_bytes()
    response = _upload(client, raw)
    pending = PendingReferral.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "referral-preview", args=[pending.pk]
    )
    assert not Case.objects.exists()  # nothing before the coordinator confirms

    page = client.get(response.url)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    for shown in (
        "牧野",
        "マキノ",
        "港診療所",
        "大河内 勘三郎",
        "腹痛精査お願いします。",
        "上腹部痛",
        "20065011",
    ):
        assert shown in page.content.decode()
    assert AuditEvent.objects.filter(
        action="read", user=coordinator_sato, detail__page="ereferral preview"
    ).exists()

    done = client.post(response.url)
    case = Case.objects.get()
    assert (
        done.status_code == 302 and done.url == reverse("staff-case", args=[case.pk]) + "#documents"
    )
    assert case.status == Status.DRAFT
    assert (case.patient_family_name, case.patient_given_name) == ("牧野", "爛漫")
    assert (case.patient_family_name_kana, case.patient_given_name_kana) == ("マキノ", "ランマン")
    assert str(case.patient_birth_date) == "1930-06-28" and case.patient_sex == "female"
    assert (case.patient_postal_code, case.patient_phone) == ("781-8125", "03-123-1234")
    assert (case.physician_name, case.physician_institution) == ("大河内 勘三郎", "港診療所")
    assert (case.physician_department, case.physician_phone) == ("眼科", "03-9876-5432")
    assert case.current_diagnosis == "上腹部痛\n腰痛"
    assert case.treatment_so_far.startswith("２０２２年６月上旬")
    assert case.questions == "腹痛精査お願いします。"
    assert case.applicant_relation == "self"
    account = case.applicant
    assert account.role == "patient" and not account.has_usable_password()
    assert not case.transitions.exists()  # opened as a draft: no state change

    document = Document.objects.get(case=case)
    assert document.kind == DocumentKind.REFERRAL_LETTER and document.source == UploadSource.STAFF
    assert document.sha256 == hashlib.sha256(raw).hexdigest() and document.size == len(raw)
    assert document.file_kind == "fhir_json"
    with document.file.open("rb") as kept:
        assert kept.read() == raw
    record = ReferralImport.objects.get()
    assert (
        record.started_case
        and record.document == document
        and record.imported_by == coordinator_sato
    )
    assert not PendingReferral.objects.exists()
    events = AuditEvent.objects.filter(case_id=case.pk, user=coordinator_sato)
    assert {"create", "update"} <= set(events.values_list("action", flat=True))

    # The coordinator works on the draft they opened: its page, and the file itself.
    assert client.get(reverse("staff-case", args=[case.pk])).status_code == 200
    file = client.get(reverse("document-file", args=[document.pk]))
    assert file.status_code == 200 and file["Content-Type"] == "application/fhir+json"

    # The same letter again: refused, pointing at the case already opened.
    again = _upload(client, raw)
    refused = client.post(again.url)
    assert refused.status_code == 400 and case.reference in refused.content.decode()
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    ("raw", "japanese"),
    [
        (b"{not json", "JSON"),
        (encoded({**example(), "type": "collection"}), "document"),
    ],
    ids=["not json", "not a document"],
)
def test_a_bad_file_is_refused_with_its_reasons_in_japanese(coordinator_sato, raw, japanese):
    client = _as(coordinator_sato)
    with translation.override("ja"):
        response = client.post(
            reverse("referral-upload"),
            {"file": SimpleUploadedFile("x.json", raw)},
            HTTP_ACCEPT_LANGUAGE="ja",
        )
    assert response.status_code == 400
    assert japanese in response.content.decode()
    assert not PendingReferral.objects.exists() and not Case.objects.exists()
    assert not Document.objects.exists()
    assert AuditEvent.objects.filter(action="denied", user=coordinator_sato).exists()


def test_an_unresolved_reference_is_named(coordinator_sato):
    bundle = example()
    composition(bundle)["subject"] = {"reference": "Patient/xyz"}
    response = _upload(_as(coordinator_sato), encoded(bundle))
    assert response.status_code == 400 and "Patient/xyz" in response.content.decode()
    assert not Case.objects.exists()


def test_a_too_large_file_is_refused_unread(coordinator_sato, settings):
    raw = b" " * (5 * 1024 * 1024 + 1)
    response = _upload(_as(coordinator_sato), raw)
    assert response.status_code == 400 and not PendingReferral.objects.exists()


def test_other_roles_are_refused(
    patient_hana, dr_tanaka, billing_ito, admin_kato, coordinator_sato
):
    raw = EXAMPLE.read_bytes()
    pending_url = _upload(_as(coordinator_sato), raw).url
    for user in (patient_hana, dr_tanaka, billing_ito, admin_kato):
        client = _as(user)
        assert client.get(reverse("referral-upload")).status_code == 403
        assert _upload(client, raw).status_code == 403
        assert client.post(pending_url).status_code == 403
    assert not Case.objects.exists()


def test_another_coordinators_upload_is_not_theirs(coordinator_sato):
    from opiniondesk.testing.personas import make_user

    other = make_user("coordinator_suzuki", role="coordinator")
    pending_url = _upload(_as(coordinator_sato), EXAMPLE.read_bytes()).url
    response = _as(other).post(pending_url)
    assert response.status_code == 302 and response.url == reverse("referral-upload")
    assert not Case.objects.exists()


def test_importing_into_an_open_case_fills_only_its_blanks(coordinator_sato, patient_hana):
    case = case_in(Status.SCREENING, applicant=patient_hana, physician_department="", questions="")
    before = Case.objects.get(pk=case.pk)
    client = _as(coordinator_sato)
    assert (
        reverse("referral-upload-case", args=[case.pk])
        in client.get(reverse("staff-case", args=[case.pk])).content.decode()
    )
    response = _upload(
        client, EXAMPLE.read_bytes(), url=reverse("referral-upload-case", args=[case.pk])
    )
    preview = client.get(response.url)
    assert preview.status_code == 200 and "眼科" in preview.content.decode()
    assert client.post(response.url).status_code == 302
    after = Case.objects.get(pk=case.pk)
    assert after.physician_department == "眼科" and after.questions == "腹痛精査お願いします。"
    assert after.patient_family_name == before.patient_family_name  # an answer is kept
    assert after.physician_name == before.physician_name
    assert after.status == Status.SCREENING
    record = ReferralImport.objects.get(case=case)
    assert not record.started_case and set(record.fields) == {"physician_department", "questions"}
    assert Document.objects.filter(
        case=case, kind=DocumentKind.REFERRAL_LETTER, file_kind="fhir_json"
    ).exists()
    assert AuditEvent.objects.filter(
        case_id=case.pk, action="update", detail__step="ereferral"
    ).exists()


def test_a_closed_case_takes_no_import(coordinator_sato, patient_hana):
    case = case_in(Status.REJECTED, applicant=patient_hana)
    response = _upload(
        _as(coordinator_sato),
        EXAMPLE.read_bytes(),
        url=reverse("referral-upload-case", args=[case.pk]),
    )
    assert response.status_code == 302 and response.url == reverse("staff-case", args=[case.pk])
    assert not PendingReferral.objects.exists()


def test_the_staff_home_links_the_import_for_coordinators(coordinator_sato, dr_tanaka):
    url = reverse("referral-upload")
    assert url in _as(coordinator_sato).get(reverse("staff-home")).content.decode()
    assert url not in _as(dr_tanaka).get(reverse("staff-home")).content.decode()


def test_the_kept_letter_is_the_bundle_as_sent(coordinator_sato):
    client = _as(coordinator_sato)
    raw = EXAMPLE.read_bytes()
    client.post(_upload(client, raw).url)
    kept = Document.objects.get()
    with kept.file.open("rb") as f:
        assert json.loads(f.read()) == json.loads(raw)
