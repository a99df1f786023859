"""A document is stored and served with the extension of the type its content is."""

import pytest

from opiniondesk.documents.naming import named_for


@pytest.mark.parametrize(
    ("name", "kind", "stored"),
    [
        ("scan.png", "png", "scan.png"),
        ("scan.jpg", "png", "scan.png"),  # a PNG sent as .jpg
        ("IMG_0001.JPG", "jpeg", "IMG_0001.JPG"),  # kept as written
        ("photo.jpeg", "jpeg", "photo.jpeg"),
        ("letter.exe", "pdf", "letter.pdf"),
        ("紹介状.PDF", "pdf", "紹介状.PDF"),
        ("紹介状", "pdf", "紹介状.pdf"),
        ("検査 2026.04.01", "pdf", "検査 2026.04.01.pdf"),  # a date is not an extension
        ("DICOMDIR", "dicom", "DICOMDIR.dcm"),
        ("IMG_0001.HEIC", "heic", "IMG_0001.HEIC"),
        ("cd.zip", "zip", "cd.zip"),
        ("report.html", "pdf", "report.pdf"),
        (".jpg", "png", "document.png"),
        ("", "pdf", "document.pdf"),
        ("a" * 300 + ".pdf", "pdf", "a" * 251 + ".pdf"),
    ],
)
def test_it_names_the_file_after_its_content(name, kind, stored):
    assert named_for(name, kind) == stored
