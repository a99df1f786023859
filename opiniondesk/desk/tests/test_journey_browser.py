"""The whole journey on the demo data, in one Chromium, through the real pages (issue #13).

Hana applies online for herself; coordinator Sato screens and refers; Dr Tanaka accepts for 30
minutes and reviews the materials; Sato offers a date and Hana books it; Hana sends her ID (Sato
accepts it), signs the consent and checks her camera, microphone and connection; on the day Dr
Tanaka calls her in and they see each other (Chromium's fake camera and microphone); he ends the
call; Ito records the payment at the hospital's desk; Hana downloads her receipt; Dr Tanaka
writes, previews and signs the opinion and e-mails the one-time link; the attending physician
opens it once and downloads the PDF, and a second open is refused. The case is then closed.

The demo data is loaded (`load_demo`, DEMO_MODE) with the clock on a Wednesday morning; every
person signs in through the sign-in form with the demo password (staff with their TOTP code).
uvicorn serves the ASGI application (WebSockets) in this process, so the moved clock is the
server's too. Each person has their own browser context; the last screen of each is kept in
tmp_path for a failing test.
"""

import io
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from opiniondesk.billing.models import ChargeState
from opiniondesk.cases.models import Case
from opiniondesk.cases.tests.test_browser_application import (
    ACCEPTABLE,
    DESKTOP,
    accept_privacy_policy,
    answer,
    fill,
    fill_consult,
    fill_sheet,
    ja,
    save_and_continue,
    upload,
)
from opiniondesk.cases.tests.test_browser_screening import totp
from opiniondesk.cases.workflow import Status
from opiniondesk.consults.models import Consult, ConsultState
from opiniondesk.consults.tests.test_room_browser import call_started, state_is
from opiniondesk.core.time import JST
from opiniondesk.demo.people import PERSONAS
from opiniondesk.documents.tests import samples
from opiniondesk.opinions.models import OpinionDelivery
from opiniondesk.readiness.models import DeviceCheck
from opiniondesk.scheduling.selectors import live_booking
from opiniondesk.testing.pdf import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = datetime(2027, 2, 3, 10, 0, tzinfo=JST)  # a Wednesday
PHYSICIAN_EMAIL = "suzuki@hongo-heart.example.jp"
QUESTION = "手術やカテーテル治療は必要でしょうか。"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def demo(clock, settings, smtp_inbox):
    settings.DEMO_MODE = True
    call_command("load_demo", "--no-history", stdout=io.StringIO())


@pytest.fixture
def files(tmp_path):
    made = {
        "referral.pdf": samples.pdf(),
        "blood-test.png": samples.image("PNG"),
        "licence.jpg": samples.image("JPEG"),
    }
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in made}


@pytest.fixture
def people(media_browser, tmp_path):
    """One browser context per person, as on their own computers."""
    opened = {}

    def open_for(name: str):
        context = media_browser.new_context(locale="ja-JP", viewport=DESKTOP)
        page = context.new_page()
        page.set_default_timeout(20_000)
        opened[name] = page
        return page

    yield open_for
    for name, page in opened.items():
        page.screenshot(path=tmp_path / f"last-{name}.png", full_page=True)
        page.context.close()


def sign_in(page, url: str, username: str) -> None:
    """The sign-in form with the demo password; staff then give their authenticator's code."""
    page.goto(f"{url}{reverse('account_login')}")
    fill(page, "Username or email", username)
    fill(page, "Password", PERSONAS[username].password)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name=ja("Sign In")).click()
    if page.url == f"{url}{reverse('mfa_authenticate')}":
        fill(page, "Code", totp(username))
        with page.expect_navigation():
            page.get_by_role("main").get_by_role("button", name=ja("Sign In")).click()
        assert page.url == f"{url}{reverse('staff-home')}"
    else:
        assert PERSONAS[username].role == "patient"
        assert page.url == f"{url}{reverse('dashboard')}"


def submit(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def open_page(page, address: str) -> None:
    """Go to the page, loaded afresh even when the browser is on it already (a same-document
    navigation to a #fragment would not ask the server again)."""
    if page.url.split("#")[0] == address.split("#")[0]:
        page.reload()
    else:
        page.goto(address)


def status(page) -> str:
    return page.get_by_role("status").first.inner_text()


def refreshed(case: Case) -> Case:
    case.refresh_from_db()
    return case


def apply_online(page, files) -> Case:
    """Hana's own short application: cardiology, heart failure, online; two documents."""
    apply_steps(page, files)
    case_id = int(re.search(r"/cases/(\d+)/", page.url).group(1))
    return Case.objects.get(pk=case_id)


def apply_steps(page, files) -> None:
    """The application's pages, from the dashboard to "sent" (also against make run-scaled)."""
    page.get_by_role("button", name=ja("Start a new application")).click()
    page.get_by_label(ja("Who is applying?")).select_option("self")
    save_and_continue(page)
    accept_privacy_policy(page)  # before anything about her illness (SPEC §6)
    fill(page, "family name", "山田")
    fill(page, "given name", "花")
    fill(page, "family name (kana)", "ヤマダ")
    fill(page, "given name (kana)", "ハナ")
    fill(page, "Year", "1950")
    page.get_by_label(ja("Month"), exact=True).select_option("4")
    page.get_by_label(ja("Day"), exact=True).select_option("12")
    answer(page, "sex", "female")
    fill(page, "postal code", "000-0000")
    fill(page, "address", "東京都架空区見本町1-2-3")
    fill(page, "phone reachable on weekdays", "03-1234-5678")
    answer(page, "Does the patient live in Japan?", "Yes")  # alive: she applies herself
    answer(page, "Does the patient have Japanese public health insurance?", "Yes")
    save_and_continue(page)
    fill_consult(page)
    fill_sheet(page)
    fill(page, "attending physician's name", "鈴木 一郎")
    fill(page, "institution", "見本町ハートクリニック")
    fill(page, "attending physician's department", "循環器内科")
    fill(page, "institution phone", "03-9876-5432")
    fill(page, "attending physician's e-mail", PHYSICIAN_EMAIL)
    for question, choice in ACCEPTABLE.items():
        answer(page, question, choice)
    save_and_continue(page)
    upload(page, "referral_letter", files["referral.pdf"])
    upload(page, "test_data", files["blood-test.png"], test_data_kind="blood")
    page.get_by_role("link", name=ja("Next: check and send")).click()
    submit(page, page.get_by_role("button", name=ja("Send the application")))
    assert ja("Thank you. Your application has been sent.") in status(page)


# Steps of the journey through the pages, shared with the journey against make run-scaled
# (core/tests/test_run_scaled.py): each checks what the page says, not the database.


def screen_and_refer(sato, staff_case: str) -> None:
    sato.goto(staff_case)
    submit(sato, sato.get_by_role("button", name=ja("Start screening")))
    assert ja("Screening started.") in status(sato)
    refer = sato.locator("form").filter(has=sato.get_by_role("button", name=ja("Refer")))
    submit(sato, refer.get_by_role("button", name=ja("Refer")))


def accept_for_30_minutes(tanaka, staff_case: str) -> None:
    tanaka.goto(staff_case)
    decision = tanaka.get_by_role("region", name=ja("Your decision"))
    decision.get_by_label(ja("30 minutes (one slot)")).check()
    submit(tanaka, decision.get_by_role("button", name=ja("Accept the case")))


def offer_first_date(sato, staff_case: str) -> None:
    open_page(sato, staff_case)
    sato.locator("#sched-choices input[name=slots]").first.check()
    submit(sato, sato.locator("#sched-offer form[method=post] button[type=submit]"))


def book_first_date(hana, url: str, case_id: int) -> None:
    hana.goto(f"{url}{reverse('case-detail', args=[case_id])}")
    submit(hana, hana.locator("#dates .slot button").first)


def get_ready(hana, sato, url: str, case_id: int, staff_case: str, licence) -> None:
    """The device check runs (fake camera and microphone) while Hana, in a second tab, sends
    her ID, Sato accepts it, and Hana signs the consent; until the check's summary is saved."""
    hana.goto(f"{url}{reverse('device-check', args=[case_id])}")
    hana.locator("#start-check").click()
    tab = hana.context.new_page()
    tab.goto(f"{url}{reverse('case-identity', args=[case_id])}")
    tab.locator("input[name=id_type][value=drivers_licence]").check()
    tab.locator("input[name=file]").set_input_files(licence)
    submit(tab, tab.get_by_role("button", name=ja("Send this ID")))
    open_page(sato, staff_case)
    submit(sato, sato.locator(".idcheck-verify button[type=submit]"))
    tab.goto(f"{url}{reverse('case-consent', args=[case_id])}")
    fill(tab, "The patient's full name", "山田 花")
    submit(tab, tab.get_by_role("button", name=ja("Sign with my name")))
    assert tab.locator("#signature").is_visible()
    tab.close()
    hana.wait_for_selector("#summary[data-passed=true][data-saved=true]", timeout=60_000)


def write_and_sign_opinion(tanaka, url: str, case_id: int) -> None:
    tanaka.goto(f"{url}{reverse('staff-opinion', args=[case_id])}")
    tanaka.locator("[name=on_current]").fill("慢性心不全の診断と現在の内服治療は妥当です。")
    tanaka.locator("[name=on_future]").fill("当面は内服治療の継続を勧めます。")
    tanaka.locator("[name=answer_0]").fill("現時点では手術やカテーテル治療は不要と考えます。")
    submit(tanaka, tanaka.get_by_role("button", name=ja("Save and preview")))
    assert tanaka.url.endswith(reverse("staff-opinion-preview", args=[case_id]))
    assert "当面は内服治療の継続を勧めます。" in tanaka.get_by_role("main").inner_text()
    tanaka.locator("#sign input[name=confirm]").check()
    submit(tanaka, tanaka.get_by_role("button", name=ja("Sign the opinion")))
    assert ja("Version %(n)s of the opinion is signed.") % {"n": 1} in status(tanaka)


def send_opinion_link(tanaka) -> None:
    submit(tanaka, tanaka.get_by_role("button", name=ja("E-mail a one-time link")))
    assert ja("The link was sent to the attending physician by e-mail.") in status(tanaka)


def physician_opens_once(physician, link: str) -> None:
    """Not signed in, the physician opens the link once and downloads the PDF; a second open
    is refused, and says why."""
    physician.goto(link)
    submit(physician, physician.get_by_role("button", name=ja("Open the opinion")))
    with physician.expect_download() as opinion:
        physician.get_by_role("link", name=ja("Download the PDF")).click()
    pdf = opinion.value.path().read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert "当面は内服治療の継続を勧めます。" in pdf_text(pdf).replace(" ", "")
    response = physician.goto(link)
    assert response.status == 410
    assert ja("The link has already been opened.") in physician.get_by_role("main").inner_text()
    assert physician.get_by_role("button", name=ja("Open the opinion")).count() == 0


def test_the_whole_journey_on_the_demo_data(
    demo, clock, asgi_url, people, files, smtp_inbox, run_tasks, settings
):
    url = settings.SITE_URL = asgi_url  # the address the e-mails' links point to

    # Hana applies online.
    hana = people("hana")
    sign_in(hana, url, "patient_hana")
    case = apply_online(hana, files)
    assert case.status == Status.SUBMITTED and case.applicant.username == "patient_hana"
    staff_case = f"{url}{reverse('staff-case', args=[case.pk])}"

    # Sato screens and refers.
    sato = people("sato")
    sign_in(sato, url, "coordinator_sato")
    screen_and_refer(sato, staff_case)
    assert refreshed(case).status == Status.REFERRED

    # Dr Tanaka accepts for 30 minutes and reviews the materials for 12 (the clock moved on).
    tanaka = people("tanaka")
    sign_in(tanaka, url, "dr_tanaka")
    accept_for_30_minutes(tanaka, staff_case)
    assert refreshed(case).status == Status.ACCEPTED and case.planned_minutes == 30
    submit(tanaka, tanaka.get_by_role("button", name=ja("Start reviewing the materials")))
    clock.shift(timedelta(minutes=12))
    submit(tanaka, tanaka.get_by_role("button", name=ja("Stop reviewing")))

    # Sato offers the first free date; Hana books it.
    offer_first_date(sato, staff_case)
    assert refreshed(case).status == Status.OFFERED
    book_first_date(hana, url, case.pk)
    assert refreshed(case).status == Status.BOOKED
    booking = live_booking(case.pk)

    # Readiness. The device check runs (fake camera and microphone) while Hana, in a second tab,
    # sends her ID, Sato accepts it, and Hana signs the consent.
    get_ready(hana, sato, url, case.pk, staff_case, files["licence.jpg"])
    assert DeviceCheck.objects.get(case=case).passed
    assert refreshed(case).status == Status.READY

    # The day of the consult, two minutes before: the waiting room is open. Sessions have timed
    # out since (idle), so Hana and Dr Tanaka sign in again.
    clock.move_to(booking.starts_at - timedelta(minutes=2))
    sign_in(hana, url, "patient_hana")
    hana.goto(f"{url}{reverse('consult-room', args=[case.pk])}")
    state_is(hana, "waiting")
    sign_in(tanaka, url, "dr_tanaka")
    tanaka.goto(f"{url}{reverse('staff-consult-room', args=[case.pk])}")
    call_started(hana, tanaka)
    consult = Consult.objects.get(booking=booking)
    assert consult.state == ConsultState.IN_CALL
    assert refreshed(case).status == Status.IN_CONSULT
    tanaka.once("dialog", lambda dialog: dialog.accept())
    tanaka.locator("#end-call").click()
    state_is(hana, "ended")
    state_is(tanaka, "ended")
    assert refreshed(case).status == Status.COMPLETED
    charge = case.charge
    # No card provider in the default configuration: the fee (the 12 review minutes) is paid at
    # the hospital.
    assert charge.state == ChargeState.AT_DESK and charge.billable_minutes == 12

    # Ito records the payment at the desk.
    ito = people("ito")
    sign_in(ito, url, "billing_ito")
    ito.goto(f"{url}{reverse('billing-home')}")
    ito.get_by_role("link", name=case.reference).click()
    collect = ito.locator(f"form[action='{reverse('billing-charge-collect', args=[charge.pk])}']")
    collect.locator("input[name=method][value=cash]").check()
    collect.locator("input[name=confirm]").check()
    submit(ito, collect.locator("button[type=submit]"))
    charge.refresh_from_db()
    assert charge.state == ChargeState.COLLECTED
    assert refreshed(case).status == Status.CHARGED

    # Hana downloads her receipt from her case page.
    hana.goto(f"{url}{reverse('case-detail', args=[case.pk])}")
    with hana.expect_download() as receipt:
        hana.locator("#fee .receipt a[download]").first.click()
    pdf = receipt.value.path().read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert "領収書" in pdf_text(pdf)

    # Dr Tanaka writes, previews and signs the opinion, and e-mails the one-time link.
    write_and_sign_opinion(tanaka, url, case.pk)
    smtp_inbox.messages.clear()
    send_opinion_link(tanaka)
    run_tasks()
    (mail,) = [m for m in smtp_inbox.messages if m["To"] == PHYSICIAN_EMAIL]
    body = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/opinion/\S+/", body).group(0)
    assert link.startswith(f"{url}/opinion/")
    assert "山田" not in body  # no personal data in the e-mail

    # The physician, not signed in, opens it once and downloads the PDF.
    physician = people("physician")
    physician_opens_once(physician, link)

    # The fee is settled and the opinion delivered: the case is closed.
    assert OpinionDelivery.objects.get(case=case).delivered_at is not None
    assert refreshed(case).status == Status.CLOSED
