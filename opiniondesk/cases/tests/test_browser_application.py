"""The application in a real browser, driven by labels and roles as a screen reader drives it.

Ken signs up, confirms his e-mail from a real SMTP server, applies for his mother Hana (76) and
sends documents through the upload script; a second application is refused, explained, and
corrected. Labels come from the English msgids through gettext, so the tests do not depend on
the Japanese wording. Screenshots of every page, on a desktop and on a phone, go to tmp_path.
"""

import os
import re
from datetime import date

import pytest
from allauth.account.models import EmailAddress
from django.utils.translation import gettext, override
from django_tasks_db.models import DBTaskResult

from opiniondesk.accounts.models import Role, User
from opiniondesk.cases.age import age_on
from opiniondesk.cases.eligibility import Reason
from opiniondesk.cases.models import Case, CaseTransition
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import jst_today
from opiniondesk.documents.tests import samples
from opiniondesk.public.wording import REASONS

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
KEN_EMAIL = "ken.yamada@example.jp"
KEN_PASSWORD = "my-garden-2026-blue"


def ja(msgid: str) -> str:
    """The Japanese text the page shows for an English msgid."""
    with override("ja"):
        return gettext(msgid)


class Screens:
    """Each page checked on a desktop and on a phone; with SCREENSHOTS=1 also kept as full-page
    screenshots, numbered in order, in the test's tmp_path (to look at the pages: encoding them
    costs a fifth of these tests' time, so they are not taken by default)."""

    def __init__(self, page, folder) -> None:
        self.page, self.folder, self.count = page, folder, 0
        self.keep = os.environ.get("SCREENSHOTS") == "1"

    def take(self, name: str) -> None:
        self.count += 1
        self.page.wait_for_load_state()  # a page just committed may have no <html> yet
        size = self.page.viewport_size
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            self.page.set_viewport_size(viewport)
            if self.keep:
                self.page.screenshot(
                    path=self.folder / f"{self.count:02d}-{name}-{label}.png", full_page=True
                )
            # Nothing is wider than the screen: no sideways scrolling on a phone.
            width = self.page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{name} is {width}px wide on a {label}"
        self.page.set_viewport_size(size)


def answer(scope, question: str, choice: str) -> None:
    """Pick a radio button by its group's legend and its own label."""
    scope.get_by_role("group", name=ja(question)).get_by_label(ja(choice), exact=True).check()


def fill(scope, label: str, value: str) -> None:
    scope.get_by_label(ja(label), exact=True).fill(value)


def follow(link) -> None:
    """Click a link and wait for the page it opens: reading the page before the new one has
    committed finds the old one, or none at all (CI once read a null documentElement)."""
    with link.page.expect_navigation():
        link.click()


def save_and_continue(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=ja("Save and continue")).click()


def birth_date_aged(years: int, today: date) -> date:
    """A birth date (the 1st of next month) that makes the patient `years` old today."""
    year, month = today.year - years - 1, today.month + 1
    if month == 13:
        year, month = year + 1, 1
    born = date(year, month, 1)
    assert age_on(born, today) == years
    return born


@pytest.fixture
def site(transactional_db, live_server, policy, coordinator_sato, smtp_inbox, settings):
    settings.SITE_URL = live_server.url  # the mails link to where the site is served (make run)
    return {"url": live_server.url, "inbox": smtp_inbox, "coordinator": coordinator_sato}


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(locale="ja-JP", viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    # The last screen, to see where a failing test stopped.
    page.screenshot(path=tmp_path / "last.png", full_page=True)
    context.close()


@pytest.fixture
def files(tmp_path):
    """Real files, made in code, as Ken would pick them from his computer."""
    folder = tmp_path / "files"
    folder.mkdir()
    made = {
        "referral.pdf": samples.pdf(),
        "blood-test.png": samples.image("PNG"),
        "consent.pdf": samples.pdf(),
        "koseki.pdf": samples.pdf(),
        "ken-licence.png": samples.image("PNG"),
    }
    for name, data in made.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in made}


# Signing up and in.


def sign_up(page, site, run_tasks, screens) -> None:
    page.goto(site["url"])
    follow(page.get_by_role("link", name=ja("Create an account")).first)
    screens.take("signup")
    fill(page, "Email", KEN_EMAIL)
    fill(page, "Password", KEN_PASSWORD)
    fill(page, "Password (again)", KEN_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name=ja("Sign Up")).click()
    screens.take("verification-sent")
    assert site["inbox"].messages == []  # the request only queued the e-mail
    run_tasks()
    (message,) = site["inbox"].messages
    assert message["To"] == KEN_EMAIL
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", body).group(0)
    assert link.startswith(site["url"])
    page.goto(link)
    screens.take("confirm-email")
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name=ja("Confirm")).click()
    if "/accounts/login/" in page.url:  # should confirming ever stop signing in by itself
        sign_in(page, KEN_EMAIL, KEN_PASSWORD)


def sign_in(page, login: str, password: str) -> None:
    fill(page, "Username or email", login)
    fill(page, "Password", password)
    with page.expect_navigation():
        page.get_by_label(ja("Password"), exact=True).press("Enter")  # the keyboard's way


# The steps of the wizard, as Ken fills them for his mother.


def fill_applicant(page) -> None:
    page.get_by_label(ja("Who is applying?")).select_option("child")
    fill(page, "Your family name", "山田")
    fill(page, "Your given name", "健")
    fill(page, "Your family name (kana)", "やまだ")
    fill(page, "Your given name (kana)", "けん")
    fill(page, "Your phone number", "090-1234-5678")
    answer(page, "Do you live with the patient?", "No")
    save_and_continue(page)


def fill_proxies(page) -> None:
    """Ken attends (his details are not typed again); one more row by the button, left empty."""
    you = page.get_by_role("group", name=ja("You"), exact=True)
    assert "山田 健" in you.inner_text() and "090-1234-5678" in you.inner_text()
    answer(page, "Will you attend the consultation yourself?", "Yes")
    second = page.get_by_role("group", name=ja("Family member %(n)s") % {"n": 2})
    assert second.count() == 0
    with page.expect_navigation():
        page.get_by_role("button", name=ja("Add another family member")).click()
    assert second.count() == 1  # no script: the server sent one more row
    save_and_continue(page)


def fill_patient(page, born: date) -> None:
    fill(page, "family name", "山田")
    fill(page, "given name", "花")
    fill(page, "family name (kana)", "ヤマダ")
    fill(page, "given name (kana)", "ハナ")
    fill(page, "Year", str(born.year))
    page.get_by_label(ja("Month"), exact=True).select_option(str(born.month))
    page.get_by_label(ja("Day"), exact=True).select_option(str(born.day))
    answer(page, "sex", "female")
    fill(page, "postal code", "000-0000")
    fill(page, "address", "東京都架空区見本町1-2-3")
    fill(page, "phone reachable on weekdays", "03-1234-5678")
    fill(page, "e-mail", "hana@example.jp")
    answer(page, "Has the patient passed away?", "No")
    answer(page, "Does the patient live in Japan?", "Yes")
    attendees = page.locator(".attendees").inner_text()  # the consent form names them
    assert "山田 健" in attendees
    answer(page, "Does the patient have Japanese public health insurance?", "Yes")
    answer(
        page,
        "Has the patient agreed in writing to your consultation?",
        "Yes, the patient signed the consent form",
    )
    save_and_continue(page)


def fill_consult(page) -> None:
    answer(page, "How would you like the consultation?", "Online (video call)")
    page.get_by_label(ja("department"), exact=True).select_option(label="循環器内科")
    page.get_by_label(ja("disease"), exact=True).select_option(label="循環器内科 — 心不全")
    answer(page, "Will you join the video call from inside Japan?", "Yes")
    save_and_continue(page)


def fill_sheet(page) -> None:
    fill(page, "current diagnosis", "慢性心不全(2024年から)")
    fill(page, "treatment so far", "利尿薬とβ遮断薬の内服。2025年に一度入院しました。")
    page.get_by_label(ja("opinion on the current diagnosis and treatment")).check()
    page.get_by_label(ja("opinion on future treatment and outlook")).check()
    fill(page, "questions for the specialist", "手術やカテーテル治療は必要でしょうか。")
    save_and_continue(page)


AGREES = "Has your attending physician agreed to a second opinion?"
TESTS_HERE = "Would you like tests or treatment at our hospital during the second opinion?"
TRANSFER = "Do you already wish to transfer to our hospital?"
COMPLAINT = "Is your question about dissatisfaction with your doctor, a medical error or a lawsuit?"
FEES = "Is your question about medical fees or benefits?"
MATERIALS = "Can your attending physician provide the referral letter and test data?"
REFUSED = "We are sorry: this application cannot be accepted"
ACCEPTABLE = {
    AGREES: "Yes",
    TESTS_HERE: "No",
    TRANSFER: "No",
    COMPLAINT: "No",
    FEES: "No",
    MATERIALS: "Yes",
}


def fill_physician(page, declarations: dict[str, str]) -> None:
    fill(page, "attending physician's name", "鈴木 一郎")
    fill(page, "institution", "見本町ハートクリニック")
    fill(page, "attending physician's department", "循環器内科")
    fill(page, "institution phone", "03-9876-5432")
    for question, choice in declarations.items():
        answer(page, question, choice)
    save_and_continue(page)


def accept_privacy_policy(page) -> None:
    page.get_by_label(ja("I have read the policy and the purposes of use, and I agree.")).check()
    save_and_continue(page)


def fill_wizard(page, screens, declarations: dict[str, str]) -> None:
    """Every step from "who is applying" to the physician, with a screenshot of each: the
    privacy policy right after who applies, before anything about the patient."""
    steps = [
        ("applicant", fill_applicant),
        ("privacy", accept_privacy_policy),
        ("proxies", fill_proxies),
        ("patient", lambda p: fill_patient(p, birth_date_aged(76, jst_today()))),
        ("consult", fill_consult),
        ("sheet", fill_sheet),
        ("physician", lambda p: fill_physician(p, declarations)),
    ]
    for name, fill_step in steps:
        screens.take(name)
        fill_step(page)


# Notes, in the tab's session storage (it outlives the reload), that the progress bar appeared.
WATCH_PROGRESS = """() => {
  const progress = document.querySelector(".upload-progress");
  new MutationObserver(() => {
    if (!progress.hidden) sessionStorage.setItem("progress shown", "yes");
  }).observe(progress, {attributes: true});
}"""


def upload(page, kind: str, path, **choices: str) -> None:
    """Send one file through upload.js, and wait for the page to reload with it."""
    page.get_by_label(ja("What is this document?")).select_option(kind)
    if "test_data_kind" in choices:
        page.get_by_label(ja("Kind of test data")).select_option(choices["test_data_kind"])
    if "proxy" in choices:
        page.get_by_label(ja("Whose ID is this?")).select_option(label=choices["proxy"])
    page.get_by_label(ja("File"), exact=True).set_input_files(path)
    page.evaluate(WATCH_PROGRESS)
    sent = page.get_by_role("button", name=ja("Send this document"))
    with (
        page.expect_response(lambda r: r.request.method == "POST") as posted,
        page.expect_navigation(),
    ):
        sent.click()
    # upload.js sent it asking for JSON, showed its progress bar, then reloaded the page.
    assert posted.value.ok
    assert posted.value.headers["content-type"] == "application/json"
    assert page.evaluate("sessionStorage.getItem('progress shown')") == "yes"
    page.evaluate("sessionStorage.removeItem('progress shown')")
    assert ja("The document was added.") in page.get_by_role("status").inner_text()


def test_ken_signs_up_and_applies_for_his_mother(page, site, files, run_tasks, tmp_path):
    screens = Screens(page, tmp_path)
    sign_up(page, site, run_tasks, screens)
    assert page.url == f"{site['url']}/dashboard/"
    screens.take("dashboard-empty")
    page.get_by_role("button", name=ja("Start a new application")).click()

    fill_wizard(page, screens, ACCEPTABLE)

    screens.take("documents-empty")
    upload(page, "referral_letter", files["referral.pdf"])
    upload(page, "test_data", files["blood-test.png"], test_data_kind="blood")
    upload(page, "consent_form", files["consent.pdf"])
    upload(page, "relationship_proof", files["koseki.pdf"])
    upload(page, "proxy_id", files["ken-licence.png"], proxy="山田 健")
    checklist = page.get_by_role("region", name=ja("What we need from you"))
    assert checklist.locator(".document-missing").count() == 0
    screens.take("documents-complete")

    follow(page.get_by_role("link", name=ja("Next: check and send")))
    review = page.get_by_role("main")
    assert "山田 花 (ヤマダ ハナ)" in review.inner_text()
    assert "手術やカテーテル治療は必要でしょうか。" in review.inner_text()
    screens.take("review")
    page.get_by_role("button", name=ja("Send the application")).click()
    assert (
        ja("Thank you. Your application has been sent.") in page.get_by_role("status").inner_text()
    )
    screens.take("detail")

    case = Case.objects.get(applicant__email=KEN_EMAIL)
    assert case.status == Status.SUBMITTED
    assert case.documents.count() == 5
    assert case.proxies.get().relation == "child"

    # The coordinators' e-mail waits in the queue until the worker runs.
    queued = [r.args_kwargs["args"][0]["to"] for r in DBTaskResult.objects.filter(status="READY")]
    assert [site["coordinator"].email] in queued
    assert len(site["inbox"].messages) == 1  # only the verification e-mail so far
    run_tasks()
    (to_sato,) = [m for m in site["inbox"].messages if m["To"] == site["coordinator"].email]
    assert case.reference in to_sato["Subject"]
    assert "山田" not in to_sato.get_body(preferencelist=("plain",)).get_content()  # no names

    follow(page.get_by_role("link", name=ja("My applications")).first)
    card = page.get_by_role("article", name=re.compile(case.reference))
    assert card.locator(".badge").inner_text() == ja("Received")  # plain words, not "submitted"
    assert (
        ja(
            "Our staff will check your application and phone you on a weekday. There is nothing "
            "you need to do now."
        )
        in card.inner_text()
    )
    screens.take("dashboard")


@pytest.fixture
def ken(site):
    """Ken with a confirmed e-mail address, as after test one (his own sign-up, not the
    persona's account)."""
    user = User.objects.create_user("ken_yamada", KEN_EMAIL, KEN_PASSWORD, role=Role.PATIENT)
    EmailAddress.objects.create(user=user, email=KEN_EMAIL, verified=True, primary=True)
    return user


def test_a_refused_application_is_explained_and_can_be_corrected_on_a_phone(
    page, site, ken, tmp_path
):
    page.set_viewport_size(PHONE)
    screens = Screens(page, tmp_path)
    page.goto(f"{site['url']}/accounts/login/")
    screens.take("login")
    sign_in(page, KEN_EMAIL, KEN_PASSWORD)
    page.get_by_role("button", name=ja("Start a new application")).click()
    fill_wizard(page, screens, ACCEPTABLE | {TRANSFER: "Yes", COMPLAINT: "Yes"})
    follow(page.get_by_role("link", name=ja("Next: check and send")))

    refusal = page.get_by_role("region", name=ja(REFUSED))
    codes = [Reason.WANTS_TRANSFER, Reason.COMPLAINT_OR_LITIGATION]
    reasons = refusal.locator(".reason").all()
    assert [r.locator("h3").inner_text() for r in reasons] == [
        ja(str(REASONS[code].title)) for code in codes
    ]
    for reason, code in zip(reasons, codes, strict=True):
        assert ja(str(REASONS[code].why)) in reason.inner_text()
        assert ja(str(REASONS[code].instead)) in reason.inner_text()  # what to do instead
    assert "03-0000-1234" in refusal.inner_text()
    assert page.get_by_role("button", name=ja("Send the application")).count() == 0
    screens.take("review-refused")
    case = Case.objects.get(applicant=ken)
    assert case.status == Status.DRAFT
    assert not CaseTransition.objects.filter(case=case).exists()

    # Ken misread the questions: he changes the two answers from the review page.
    step = ja("Attending physician and questions")
    follow(page.get_by_role("link", name=f"{ja('Change')} — {step}"))
    assert page.get_by_role("heading", level=1).inner_text() == step
    transfer = page.get_by_role("group", name=ja(TRANSFER))
    assert transfer.get_by_label(ja("Yes"), exact=True).is_checked()  # his answer was kept
    answer(page, TRANSFER, "No")
    answer(page, COMPLAINT, "No")
    save_and_continue(page)

    # On a phone the list of steps is folded away; it opens from the keyboard.
    page.get_by_text(ja("All steps")).focus()
    page.keyboard.press("Enter")
    # After the physician comes the documents page, with its own "Next: check and send".
    follow(page.get_by_role("link", name=ja("Check and send"), exact=True))
    assert page.get_by_role("region", name=ja(REFUSED)).count() == 0
    assert page.get_by_role("button", name=ja("Send the application")).is_visible()
    screens.take("review-corrected")
    case.refresh_from_db()
    assert (case.status, case.wants_transfer, case.complaint_or_litigation) == (
        Status.DRAFT,
        False,
        False,
    )
