"""Screening in real browsers, one per person, as the hospital and the family work it.

Ken has sent his mother Hana's complete application (cardiology, heart failure). Coordinator
Sato signs in with her password and an authenticator code, takes the case into screening and asks
for newer test data. Ken signs in on his own computer, reads the request and sends the file; the
case returns to screening by itself. Sato refers it to cardiology; Dr Tanaka signs in with his
own code, opens the materials and accepts for a 60-minute consult. Each person has their own
browser context (own cookies, own session), as on their own computers.

Labels come from the English msgids through gettext, as in test_browser_application.py.
Screenshots of each person's main pages, on a desktop and on a phone, go to tmp_path.
"""

import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse

from opiniondesk.accounts.mfa import current_code, demo_totp_secret
from opiniondesk.cases.models import Case, DocumentRequest
from opiniondesk.cases.tests.test_browser_application import DESKTOP, Screens, fill, ja, upload
from opiniondesk.cases.wording import STAFF_STATUS_LABELS, STATUS_LABELS
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.selectors import patient_due_date
from opiniondesk.catalog.vocabulary import DocumentCode
from opiniondesk.core.time import jst_today
from opiniondesk.documents.tests import samples
from opiniondesk.public.wording import DOCUMENT_TITLES

pytestmark = pytest.mark.browser

PASSWORD = "pw-1234567890"  # the personas' password (conftest.py)
MESSAGE = "3か月以内の血液検査の結果もお送りください。"


def staff_label(status: Status) -> str:
    return ja(str(STAFF_STATUS_LABELS[status]))


def applicant_label(status: Status) -> str:
    return ja(str(STATUS_LABELS[status]))


def totp(username: str) -> str:
    """The code the persona's authenticator app shows now, never one about to expire."""
    if time.time() % 30 > 26:
        time.sleep(30 - time.time() % 30 + 0.2)
    return current_code(demo_totp_secret(username), time.time())


def sign_in(page, url: str, login: str) -> None:
    page.goto(f"{url}{reverse('account_login')}")
    fill(page, "Username or email", login)
    fill(page, "Password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name=ja("Sign In")).click()


def sign_in_with_totp(page, url: str, username: str) -> None:
    sign_in(page, url, username)
    # The password alone is not enough for staff: allauth asks for the second factor.
    assert page.url == f"{url}{reverse('mfa_authenticate')}"
    assert page.get_by_role("heading", level=1).inner_text() == ja("Two-Factor Authentication")
    fill(page, "Code", totp(username))
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name=ja("Sign In")).click()
    assert page.url == f"{url}{reverse('staff-home')}"


def status(page) -> str:
    return page.get_by_role("status").inner_text()


def badge(page) -> str:
    return page.locator(".status-line .badge").inner_text()


def transitions(case: Case) -> list[tuple[str, str, str | None]]:
    return [
        (t.from_status, t.to_status, t.actor.username if t.actor else None)
        for t in case.transitions.select_related("actor")
    ]


def mail_to(inbox, address: str) -> list:
    """The messages sent to `address`, alone or among other recipients."""
    return [m for m in inbox.messages if address in [a.strip() for a in m["To"].split(",")]]


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def site(transactional_db, live_server, demo_catalog, policy, smtp_inbox):
    return {"url": live_server.url, "inbox": smtp_inbox}


@pytest.fixture
def case(proxy_ken, wizard_for, site, run_tasks):
    """Ken's complete application for his mother, sent through the forms (Django test client)."""
    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    assert wizard.submit().status_code == 302
    case = Case.objects.get(pk=wizard.case.pk)
    assert case.status == Status.SUBMITTED
    assert case.documents.count() == 5
    run_tasks()  # the "application received" e-mails, out of the way
    site["inbox"].messages.clear()
    return case


@pytest.fixture
def contexts(browser, tmp_path):
    """One browser context per person; the last screen of each is kept for a failing test."""
    opened = {}

    def open_for(name: str):
        context = browser.new_context(locale="ja-JP", viewport=DESKTOP)
        page = context.new_page()
        page.set_default_timeout(10_000)
        opened[name] = (context, page)
        return page

    yield open_for
    for name, (context, page) in opened.items():
        page.screenshot(path=tmp_path / f"last-{name}.png", full_page=True)
        context.close()


@pytest.fixture
def blood_test(tmp_path):
    path = tmp_path / "blood-test-2026.png"
    path.write_bytes(samples.image("PNG"))
    return path


def test_coordinator_asks_ken_uploads_coordinator_refers_specialist_accepts(
    site, coordinator_sato, proxy_ken, dr_tanaka, case, contexts, blood_test, run_tasks, tmp_path
):
    url, inbox = site["url"], site["inbox"]
    (tmp_path / "sato").mkdir()
    (tmp_path / "ken").mkdir()
    (tmp_path / "tanaka").mkdir()

    # 1. Sato signs in with her password and authenticator code, and asks for test data.
    sato = contexts("sato")
    sato_screens = Screens(sato, tmp_path / "sato")
    sign_in_with_totp(sato, url, "coordinator_sato")
    sato_screens.take("staff-home")
    sato.get_by_role("link", name=ja("Open the work queue")).click()
    row = sato.get_by_role("row").filter(has=sato.get_by_role("link", name=case.reference))
    assert staff_label(Status.SUBMITTED) in row.inner_text()
    assert "山田 花" in row.inner_text()
    sato_screens.take("queue")
    row.get_by_role("link", name=case.reference).click()
    assert badge(sato) == staff_label(Status.SUBMITTED)
    with sato.expect_navigation():
        sato.get_by_role("button", name=ja("Start screening")).click()
    assert ja("Screening started.") in status(sato)
    assert badge(sato) == staff_label(Status.SCREENING)
    case.refresh_from_db()
    assert case.status == Status.SCREENING

    # Everything has arrived, so the page suggests referring; Sato wants newer test data first.
    sato.get_by_text(ja("Request documents"), exact=True).click()
    request_form = sato.locator("form").filter(
        has=sato.get_by_role("button", name=ja("Send the request"))
    )
    items = request_form.get_by_role("group", name=ja("Documents to ask for"))
    assert items.get_by_role("checkbox", checked=True).count() == 0  # nothing missing
    items.get_by_label(ja(str(DOCUMENT_TITLES[DocumentCode.TEST_DATA])), exact=True).check()
    fill(request_form, "Message to the applicant", MESSAGE)
    due = patient_due_date(jst_today() + timedelta(days=10), today=jst_today())
    request_form.get_by_label(ja("Please send by (JST)")).fill(due.isoformat())
    sato_screens.take("case-request")
    with sato.expect_navigation():
        request_form.get_by_role("button", name=ja("Send the request")).click()
    assert ja("The request was sent to the applicant.") in status(sato)
    assert badge(sato) == staff_label(Status.AWAITING_DOCUMENTS)
    assert due.isoformat() in sato.locator(".open-request").inner_text()
    sato_screens.take("case-awaiting")

    case.refresh_from_db()
    assert case.status == Status.AWAITING_DOCUMENTS
    document_request = DocumentRequest.objects.get(case=case)
    assert document_request.requested_by == coordinator_sato
    assert document_request.items == [DocumentCode.TEST_DATA.value]
    assert (document_request.message, document_request.due_date) == (MESSAGE, due)
    assert document_request.fulfilled_at is None

    assert inbox.messages == []  # the e-mail waits in the task queue
    run_tasks()
    (to_ken,) = mail_to(inbox, proxy_ken.email)
    assert case.reference in to_ken["Subject"]
    assert MESSAGE in body(to_ken)
    assert f"{reverse('case-documents', args=[case.pk])}" in body(to_ken)
    inbox.messages.clear()

    # 2. Ken signs in (a password; patients have no second factor) and sends the test data.
    ken = contexts("ken")
    ken_screens = Screens(ken, tmp_path / "ken")
    sign_in(ken, url, proxy_ken.email)
    assert ken.url == f"{url}{reverse('dashboard')}"
    card = ken.get_by_role("article", name=re.compile(case.reference))
    assert card.locator(".badge").inner_text() == applicant_label(Status.AWAITING_DOCUMENTS)
    asked = card.get_by_role("note", name=ja("We asked you to send these documents"))
    assert ja(str(DOCUMENT_TITLES[DocumentCode.TEST_DATA])) in asked.inner_text()
    assert MESSAGE in asked.inner_text()
    ken_screens.take("dashboard-asked")
    asked.get_by_role("link", name=ja("Add documents")).click()
    assert ken.url == f"{url}{reverse('case-documents', args=[case.pk])}"
    ken_screens.take("documents-asked")
    upload(ken, "test_data", blood_test, test_data_kind="blood")
    ken_screens.take("documents-sent")
    ken.get_by_role("link", name=ja("Back to the application")).click()
    assert badge(ken) == applicant_label(Status.SCREENING)
    assert ken.get_by_role("note").count() == 0  # the request is answered
    ken_screens.take("application-checked")

    case.refresh_from_db()
    assert case.status == Status.SCREENING
    document_request.refresh_from_db()
    assert document_request.fulfilled_at is not None
    newest = case.documents.latest("uploaded_at")
    assert (newest.kind, newest.original_name, newest.uploaded_by) == (
        "test_data",
        blood_test.name,
        proxy_ken,
    )
    run_tasks()
    (to_sato,) = mail_to(inbox, coordinator_sato.email)
    assert case.reference in to_sato["Subject"]
    inbox.messages.clear()

    # 3. Sato reloads: the case is back in screening, and referring is suggested.
    sato.reload()
    assert badge(sato) == staff_label(Status.SCREENING)
    assert sato.locator(".open-request").count() == 0
    assert blood_test.name in sato.locator("#documents").inner_text()
    refer_form = sato.locator("form").filter(has=sato.get_by_role("button", name=ja("Refer")))
    assert refer_form.is_visible()  # the suggested action is open
    department = refer_form.get_by_label(ja("Department"), exact=True)
    assert department.locator("option:checked").inner_text() == "循環器内科"
    sato_screens.take("case-back-in-screening")
    with sato.expect_navigation():
        refer_form.get_by_role("button", name=ja("Refer")).click()
    assert ja("The case was referred; the department's specialists have been told.") in status(sato)
    assert badge(sato) == staff_label(Status.REFERRED)
    sato_screens.take("case-referred")

    case.refresh_from_db()
    assert (case.status, case.department.code) == (Status.REFERRED, "cardiology")
    run_tasks()
    (to_tanaka,) = mail_to(inbox, dr_tanaka.email)
    assert case.reference in to_tanaka["Subject"]
    assert reverse("staff-case", args=[case.pk]) in body(to_tanaka)
    assert "山田" not in body(to_tanaka)  # no personal data in e-mail
    inbox.messages.clear()

    # 4. Dr Tanaka signs in with his own code, reads the materials and accepts.
    tanaka = contexts("tanaka")
    tanaka_screens = Screens(tanaka, tmp_path / "tanaka")
    sign_in_with_totp(tanaka, url, "dr_tanaka")
    tanaka_screens.take("staff-home")
    tanaka.get_by_role("link", name=ja("Open the work queue")).click()
    assert tanaka.get_by_role("link", name=case.reference).count() == 1
    tanaka_screens.take("queue")
    tanaka.get_by_role("link", name=case.reference).click()
    assert badge(tanaka) == staff_label(Status.REFERRED)
    with tanaka.expect_popup() as opened:
        tanaka.get_by_role("link", name=blood_test.name).click()
    document = opened.value
    document.wait_for_load_state()
    assert document.url.startswith(f"{url}/")
    document.close()
    decision = tanaka.get_by_role("region", name=ja("Your decision"))
    decision.get_by_label(ja("60 minutes (two consecutive slots)")).check()
    tanaka_screens.take("case-decision")
    with tanaka.expect_navigation():
        decision.get_by_role("button", name=ja("Accept the case")).click()
    assert ja("You accepted the case; the coordinators will offer dates.") in status(tanaka)
    assert badge(tanaka) == staff_label(Status.ACCEPTED)
    tanaka_screens.take("case-accepted")

    # The whole story, in the database and in the mail.
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
    assert case.planned_minutes == 60
    assert transitions(case) == [
        ("draft", "submitted", "proxy_ken"),
        ("submitted", "screening", "coordinator_sato"),
        ("screening", "awaiting_documents", "coordinator_sato"),
        ("awaiting_documents", "screening", None),  # the system, on Ken's upload
        ("screening", "referred", "coordinator_sato"),
        ("referred", "accepted", "dr_tanaka"),
    ]
    run_tasks()
    assert {m["To"] for m in inbox.messages} == {proxy_ken.email, coordinator_sato.email}
    assert all(case.reference in m["Subject"] for m in inbox.messages)
