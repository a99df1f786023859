"""PDFs that would run something or carry files are refused; plain ones and links are not."""

import io

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from opiniondesk.documents.content import ContentRejected, RejectCode, ZipLimits, inspect_upload
from opiniondesk.documents.pdfcheck import PdfProblem, pdf_problem
from opiniondesk.documents.tests import samples

pdf_with, action = samples.pdf_with, samples.action
JS = action("JavaScript", JS=String("app.alert('x')"))
ACTIVE, ENCRYPTED, UNREADABLE = PdfProblem.ACTIVE, PdfProblem.ENCRYPTED, PdfProblem.UNREADABLE
HTML_AS_PDF = b"%PDF-1.7\n<html><body><script>alert(1)</script></body></html>\n%%EOF\n"

CASES = [
    ("a plain PDF", samples.pdf(), None),
    ("a PDF written by pikepdf", pdf_with(), None),
    ("an /OpenAction showing page 1", pdf_with(root={"/OpenAction": Array([0, Name.Fit])}), None),
    ("an /OpenAction going to a page", pdf_with(root={"/OpenAction": action("GoTo")}), None),
    ("a web link", pdf_with(annotation={"/Subtype": Name.Link, "/A": action("URI")}), None),
    ("a permissions-only password", pdf_with(encrypt=pikepdf.Encryption(owner="o", user="")), None),
    ("JavaScript run on opening", pdf_with(root={"/OpenAction": JS}), ACTIVE),
    ("a program launched on opening", pdf_with(root={"/OpenAction": action("Launch")}), ACTIVE),
    (
        "JavaScript chained after a harmless action",
        pdf_with(root={"/OpenAction": action("GoTo", Next=JS)}),
        ACTIVE,
    ),
    ("document JavaScript", pdf_with(root={"/Names": Dictionary(JavaScript=Dictionary())}), ACTIVE),
    ("an embedded file", pdf_with(embed=samples.EXE), ACTIVE),
    ("catalog /AA", pdf_with(root={"/AA": Dictionary(WC=JS)}), ACTIVE),
    ("page /AA", pdf_with(page={"/AA": Dictionary(O=JS)}), ACTIVE),
    (
        "a link launching a program",
        pdf_with(annotation={"/Subtype": Name.Link, "/A": action("Launch", F=String("x.exe"))}),
        ACTIVE,
    ),
    ("a JavaScript link", pdf_with(annotation={"/Subtype": Name.Link, "/A": JS}), ACTIVE),
    (
        "a file attachment annotation",
        pdf_with(annotation={"/Subtype": Name.FileAttachment}),
        ACTIVE,
    ),
    ("an XFA form", pdf_with(root={"/AcroForm": Dictionary(Fields=Array(), XFA=Array())}), ACTIVE),
    ("a password to open", pdf_with(encrypt=pikepdf.Encryption(owner="o", user="u")), ENCRYPTED),
    ("HTML wrapped in %PDF and %%EOF", HTML_AS_PDF, UNREADABLE),
]


@pytest.mark.parametrize(
    ("data", "problem"), [pytest.param(data, want, id=name) for name, data, want in CASES]
)
def test_it_finds_what_a_pdf_would_do(data, problem):
    found = pdf_problem(io.BytesIO(data))

    assert (found and found[0]) == problem


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (pdf_with(root={"/OpenAction": JS}), RejectCode.PDF_ACTIVE_CONTENT),
        (pdf_with(encrypt=pikepdf.Encryption(owner="o", user="u")), RejectCode.PDF_ENCRYPTED),
        (HTML_AS_PDF, RejectCode.PDF_UNREADABLE),
        (samples.archive({"report.pdf": pdf_with(embed=b"x")}), RejectCode.PDF_ACTIVE_CONTENT),
    ],
)
def test_the_upload_check_refuses_it_even_inside_a_zip(data, code):
    with pytest.raises(ContentRejected) as caught:
        inspect_upload(io.BytesIO(data), max_bytes=10**8, zip_limits=ZipLimits())

    assert caught.value.code == code
