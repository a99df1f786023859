"""Uploading and viewing documents through the pages: every bad input, every outsider."""

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.workflow import Status
from opiniondesk.documents.models import Document, PhysicianUploadLink
from opiniondesk.documents.tests import samples

pytestmark = pytest.mark.django_db


def _file(name, data, content_type="application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("letter.pdf", b"MZ\x90\x00" + b"\x00" * 200, "kind of file"),
        ("empty.pdf", b"", "empty"),
        (
            "bomb.zip",
            samples.archive({"zeros.pdf": b"%PDF-1.7\n" + b"\0" * (20 * 1024 * 1024)}),
            "ZIP",
        ),
        ("evil.zip", samples.archive({"../evil.pdf": samples.pdf()}), "unsafe"),
        ("setup.zip", samples.archive({"setup.exe": b"MZ" + b"\0" * 100}), "cannot accept"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_is_stored(
    wizard_for, proxy_ken, name, data, message, settings
):
    settings.LANGUAGE_CODE = "en"
    wizard = wizard_for(proxy_ken)
    response = wizard.client.post(
        reverse("case-documents", args=[wizard.case.pk]),
        {"kind": "referral_letter", "file": _file(name, data)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Document.objects.exists()


def test_an_oversized_file_is_refused(wizard_for, proxy_ken, settings):
    settings.DOCUMENT_MAX_BYTES = 1000
    wizard = wizard_for(proxy_ken)
    response = wizard.upload("referral_letter", _file("big.pdf", samples.pdf() + b" " * 2000))
    assert response.status_code == 200
    assert not Document.objects.exists()


def test_the_upload_answers_json_for_the_progress_bar(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    url = reverse("case-documents", args=[wizard.case.pk])
    bad = wizard.client.post(
        url,
        {"kind": "referral_letter", "file": _file("x.pdf", b"")},
        HTTP_ACCEPT="application/json",
    )
    assert bad.status_code == 400 and bad.json()["ok"] is False and "file" in bad.json()["errors"]
    good = wizard.client.post(
        url,
        {"kind": "referral_letter", "file": _file("x.pdf", samples.pdf())},
        HTTP_ACCEPT="application/json",
    )
    assert good.json() == {"ok": True, "redirect": url}


def test_a_document_is_stored_privately_with_its_hash(wizard_for, proxy_ken, settings):
    wizard = wizard_for(proxy_ken)
    wizard.upload(
        "test_data",
        _file("血液検査.png", samples.image("PNG"), "image/png"),
        test_data_kind="blood",
    )
    document = Document.objects.get()
    assert document.file_kind == "png" and document.content_type == "image/png"
    assert document.original_name == "血液検査.png"
    assert "血液" not in document.file.name and document.file.name.startswith("cases/")
    with document.file.open("rb") as stored:
        assert document.sha256 == hashlib.sha256(stored.read()).hexdigest()
    assert settings.STORAGES["default"]["OPTIONS"]["base_url"] is None  # no public URL
    create = AuditEvent.objects.get(action="create", object_type="documents.Document")
    assert create.detail["sha256"] == document.sha256


def test_test_data_needs_its_kind(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    response = wizard.upload("test_data")
    assert response.status_code == 200 and not Document.objects.exists()


def test_only_those_allowed_see_a_document_and_every_view_is_audited(
    wizard_for,
    proxy_ken,
    client,
    outsider_eve,
    dr_tanaka,
    dr_mori,
    coordinator_sato,
):
    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    wizard.submit()
    document = Document.objects.filter(kind="referral_letter").get()
    url = reverse("document-file", args=[document.pk])
    own = wizard.client.get(url)
    assert own.status_code == 200
    assert own["Content-Disposition"].startswith("inline")
    assert "sandbox" in own["Content-Security-Policy"]
    assert "no-store" in own["Cache-Control"] and "private" in own["Cache-Control"]
    assert b"".join(own.streaming_content).startswith(b"%PDF")
    download = wizard.client.get(url + "?download=1")
    assert download["Content-Disposition"].startswith("attachment")
    for outsider in (outsider_eve, dr_mori, dr_tanaka):  # dr_tanaka: not referred yet
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    client.force_login(coordinator_sato)
    assert client.get(url).status_code == 200
    actions = list(
        AuditEvent.objects.filter(
            object_type="documents.Document", object_id=str(document.pk)
        ).values_list("action", flat=True)
    )
    assert actions.count("read") == 2 and actions.count("download") == 1
    assert AuditEvent.objects.filter(action="denied").count() == 3


def test_after_submission_files_can_be_added_and_corrected_but_never_removed(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    wizard.submit()
    first = Document.objects.get(kind="referral_letter")
    wizard.upload("referral_letter", supersedes=first.pk, note="訂正版")
    newer = Document.objects.get(supersedes=first)
    assert Document.objects.filter(pk=first.pk).exists()
    assert newer.note == "訂正版"
    again = wizard.upload("referral_letter", supersedes=first.pk)
    assert again.status_code == 200  # the first is already corrected
    assert Document.objects.filter(kind="referral_letter").count() == 2
    assert wizard.client.delete(reverse("document-file", args=[first.pk])).status_code == 405


def test_the_attending_physician_uploads_once_through_a_link(wizard_for, proxy_ken, client):
    wizard = wizard_for(proxy_ken)
    created = wizard.client.post(
        reverse("upload-link-create", args=[wizard.case.pk]), {"days": "7"}
    )
    link = created.context["link"]
    path = link.split("testserver", 1)[1]
    client.logout()
    page = client.get(path)
    assert page.status_code == 200
    response = client.post(
        path,
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "0",
            "form-0-kind": "referral_letter",
            "form-0-file": _file("紹介状.pdf", samples.pdf()),
            "form-1-kind": "test_data",
            "form-1-test_data_kind": "ct_mri",
            "form-1-file": _file(
                "ct.zip", samples.archive({"ct/1.pdf": samples.pdf()}), "application/zip"
            ),
        },
    )
    assert response.status_code == 200
    documents = Document.objects.filter(case=wizard.case, source="physician_link")
    assert sorted(d.kind for d in documents) == ["referral_letter", "test_data"]
    assert all(d.uploaded_by is None for d in documents)
    used = client.get(path)
    assert used.status_code == 410
    assert (
        "already been used" in used.content.decode()
        or "使用済" in used.content.decode()
        or used.context["why"] == "used"
    )
    assert AuditEvent.objects.filter(object_type="documents.PhysicianUploadLink").count() >= 3


def test_the_physician_may_send_one_file_and_leave_the_other_rows_empty(
    wizard_for, proxy_ken, client
):
    """As a browser posts the page: every row's selects at their defaults. Its empty file inputs
    (parts with filename="") are dropped by the form parser, so they are left out here."""
    wizard = wizard_for(proxy_ken)
    created = wizard.client.post(
        reverse("upload-link-create", args=[wizard.case.pk]), {"days": "7"}
    )
    path = created.context["link"].split("testserver", 1)[1]
    client.logout()
    rows = {"form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "0"}
    for n in range(3):
        rows |= {f"form-{n}-kind": "referral_letter", f"form-{n}-test_data_kind": ""}
    response = client.post(
        path,
        rows | {"form-0-file": _file("紹介状.pdf", samples.pdf())},
    )
    assert response.status_code == 200
    assert "documents/physician_upload_done.html" in [t.name for t in response.templates]
    assert Document.objects.filter(case=wizard.case, source="physician_link").count() == 1
    assert client.get(path).status_code == 410


def test_an_expired_or_unknown_link_says_so(wizard_for, proxy_ken, client):
    wizard = wizard_for(proxy_ken)
    created = wizard.client.post(
        reverse("upload-link-create", args=[wizard.case.pk]), {"days": "1"}
    )
    path = created.context["link"].split("testserver", 1)[1]
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        expired = client.get(path)
    assert expired.status_code == 410 and expired.context["why"] == "expired"
    unknown = client.get(reverse("physician-upload", args=["not-a-real-token"]))
    assert unknown.status_code == 404 and unknown.context["why"] == "unknown"
    assert PhysicianUploadLink.objects.get().used_at is None


def test_uploads_stop_when_the_case_is_over(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    wizard.submit()
    wizard.client.post(reverse("case-withdraw", args=[wizard.case.pk]), {"confirm": "1"})
    wizard.case.refresh_from_db()
    assert wizard.case.status == Status.WITHDRAWN
    count = Document.objects.count()
    response = wizard.upload("other")
    assert response.status_code == 200
    assert Document.objects.count() == count


def test_a_forged_huge_document_id_is_a_404(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    assert wizard.client.get(f"/documents/{2**64}/").status_code == 404
    assert wizard.client.get(f"/cases/{2**64}/documents/").status_code == 404


def test_the_documents_page_shows_what_the_hospital_asked_for(
    wizard_for, proxy_ken, coordinator_sato
):
    from opiniondesk.cases.screening import case_request_documents, case_start_screening

    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    wizard.submit()
    case_start_screening(case_id=wizard.case.pk, actor=coordinator_sato)
    case_request_documents(
        case_id=wizard.case.pk,
        actor=coordinator_sato,
        items=["TEST_DATA"],
        message="CT画像もお願いします",
        due_date=None,
    )
    page = wizard.client.get(reverse("case-documents", args=[wizard.case.pk]))
    assert page.context["open_request"].message == "CT画像もお願いします"
    assert "CT画像もお願いします" in page.content.decode()
    with translation.override("ja"):
        all_arrived = gettext("All the documents we need from you have arrived. Thank you.")
    assert all_arrived not in page.content.decode()


def test_the_coordinator_sees_that_asked_documents_are_still_missing(
    wizard_for, proxy_ken, coordinator_sato, client
):
    from opiniondesk.cases.screening import case_request_documents, case_start_screening

    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    wizard.submit()
    case_start_screening(case_id=wizard.case.pk, actor=coordinator_sato)
    case_request_documents(
        case_id=wizard.case.pk,
        actor=coordinator_sato,
        items=["TEST_DATA"],
        message="",
        due_date=None,
    )
    client.force_login(coordinator_sato)
    page = client.get(reverse("staff-case", args=[wizard.case.pk])).content.decode()
    with translation.override("ja"):
        waiting = gettext("Every rule holds, but the documents asked for have not all arrived yet.")
        all_in = gettext("Eligible: every rule holds and every document has arrived.")
    assert waiting in page and all_in not in page
