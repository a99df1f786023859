"""Through the upload page: polyglots and active PDFs are refused, names follow the content,
and an imaging CD's ZIP is kept without its viewer (issue 15, item 5)."""

import hashlib
import io
import zipfile

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from opiniondesk.documents.models import Document
from opiniondesk.documents.tests import samples

pytestmark = pytest.mark.django_db

JS_PDF = samples.pdf_with(root={"/OpenAction": samples.action("JavaScript", JS="app.alert(1)")})


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("photo.jpg", samples.image("JPEG") + samples.archive({"a.pdf": samples.pdf()}), "also"),
        ("letter.pdf", JS_PDF, "Save as PDF"),
        ("letter.pdf", samples.pdf_with(embed=samples.EXE), "attached files"),
        (
            "letter.pdf",
            samples.pdf_with(encrypt=pikepdf.Encryption(owner="o", user="u")),
            "password",
        ),
        (
            "letter.pdf",
            b"%PDF-1.7\n<html><script>alert(1)</script></html>\n%%EOF\n",
            "cannot be read",
        ),
    ],
)
def test_it_refuses_with_a_message_and_stores_nothing(
    wizard_for, proxy_ken, settings, name, data, message
):
    settings.LANGUAGE_CODE = "en"
    wizard = wizard_for(proxy_ken)

    response = wizard.upload("referral_letter", SimpleUploadedFile(name, data))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Document.objects.exists()


def test_a_png_sent_as_jpg_is_stored_and_served_as_png(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)

    wizard.upload("referral_letter", SimpleUploadedFile("scan.jpg", samples.image("PNG")))

    document = Document.objects.get()
    assert document.original_name == "scan.png"
    response = wizard.client.get(reverse("document-file", args=[document.pk]) + "?download=1")
    assert response["Content-Type"] == "image/png"
    assert 'filename="scan.png"' in response["Content-Disposition"]


def test_an_imaging_cd_is_kept_without_its_viewer_and_the_uploader_is_told(
    wizard_for, proxy_ken, settings
):
    settings.LANGUAGE_CODE = "en"
    wizard = wizard_for(proxy_ken)

    response = wizard.client.post(
        reverse("case-documents", args=[wizard.case.pk]),
        {
            "kind": "test_data",
            "test_data_kind": "ct_mri",
            "file": SimpleUploadedFile("CD.zip", samples.imaging_cd()),
        },
        follow=True,
    )

    document = Document.objects.get()
    with document.file.open("rb") as stored:
        data = stored.read()
    assert document.sha256 == hashlib.sha256(data).hexdigest() and document.size == len(data)
    assert sorted(zipfile.ZipFile(io.BytesIO(data)).namelist()) == [
        "DICOM/ST000001/IM000001",
        "DICOM/ST000001/IM000002",
        "DICOMDIR",
        "REPORT/report.pdf",
        "REPORT/所見.txt",
    ]
    dropped = [
        "AUTORUN.INF",
        "Viewer/viewer.exe",
        "Viewer/dcmcodec.dll",
        "Viewer/viewer.ini",
        "Viewer.app/Contents/MacOS/viewer",
    ]
    assert document.dropped_members == dropped
    page = response.content.decode()
    assert "left out" in page and all(name in page for name in dropped)
