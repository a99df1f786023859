"""Mails a patient trusts (issue #16 item 5): in the hospital's name, Japanese first, the person
addressed by the name they gave, never by a user name, every link on SITE_URL.

The site is served on a SITE_URL unlike the test client's host (testserver), so a link built
from the request instead of SITE_URL fails here. Mails leave through the task queue: the
worker runs (`run_tasks`) and they are read from Django's outbox.
"""

import email
import re
from datetime import timedelta
from email import policy
from pathlib import Path

import allauth
import pytest
import time_machine
from allauth.account import app_settings as allauth_settings
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.conf import settings
from django.core import mail
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation

from opiniondesk.accounts.models import User
from opiniondesk.cases import notifications as case_mails
from opiniondesk.cases.models import Case, DocumentRequest
from opiniondesk.core.mail import email_message
from opiniondesk.readiness.models import IdentityReview
from opiniondesk.testing.builders import case_in, completed_case, ready_case

pytestmark = pytest.mark.django_db

SITE = "http://so.example.test:8301"
PASSWORD = "my-garden-2026-blue"
LINK = re.compile(r"https?://[^\s<>()\"']+")
# Whatever the request or the sites framework would have put in a mail instead of SITE_URL.
NOT_OURS = ("testserver", "127.0.0.1", "localhost", "example.com", ":8000")

# The mails allauth sends with our settings, by the flow that sends them (all in this file);
# the others are switched off by the settings `test_allauth_sends_no_other_mail` checks.
ALLAUTH_SENT = {
    "account/email/email_confirmation_signup",
    "account/email/email_confirmation",
    "account/email/password_reset_key",
    "account/email/account_already_exists",
    "account/email/unknown_account",
}


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def outbox(run_tasks, django_capture_on_commit_callbacks):
    """Do a request as the browser would (its after-commit work runs), let the mail worker run,
    and return the mails sent since."""

    def deliver(call):
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            response = call()
        run_tasks()
        return response, mail.outbox[before:]

    return deliver


def parsed(message):
    """The message as the recipient's mail program reads it (headers decoded)."""
    return email.message_from_bytes(message.message().as_bytes(), policy=policy.default)


def body_of(message) -> str:
    return parsed(message).get_body(preferencelist=("plain",)).get_content()


def assert_trustworthy(message, *, name: str = "", not_named: tuple[str, ...] = ()) -> str:
    """From the hospital by name, the subject without a site prefix, every link on SITE_URL,
    the person addressed by `name` (if given) and by none of `not_named`. Returns the body."""
    received = parsed(message)
    [sender] = received["From"].addresses
    assert sender.display_name == settings.HOSPITAL["name"]
    assert sender.addr_spec == settings.DEFAULT_FROM_EMAIL
    subject = str(received["Subject"])
    assert subject.startswith(f"[{settings.HOSPITAL['name']}] ")
    body = body_of(message)
    for text in (subject, body):
        for wrong in (*NOT_OURS, "[so.example.test"):
            assert wrong not in text, f"{wrong!r} in {text!r}"
    links = LINK.findall(body)
    for link in links:
        assert link.startswith(f"{SITE}/"), f"{link} is not on {SITE}"
    if name:
        assert name in body
    for username in not_named:
        assert username not in body, f"user name {username!r} in {body!r}"
    return body


def link_in(message, path_start: str) -> str:
    # The same link in the Japanese and in the English part.
    [link] = {u for u in LINK.findall(body_of(message)) if u.startswith(f"{SITE}{path_start}")}
    return link.removeprefix(SITE)


def sign_up(client, address="sakura.mail@example.jp"):
    return client.post(
        reverse("account_signup"), {"email": address, "password1": PASSWORD, "password2": PASSWORD}
    )


def verified_patient(address: str) -> User:
    user = User.objects.create_user(address.split("@")[0], address, PASSWORD)
    EmailAddress.objects.create(user=user, email=address, verified=True, primary=True)
    return user


# The whole sign-up, through the pages.


def test_a_new_patient_signs_up_and_confirms_by_the_mailed_link_on_site_url(client, outbox):
    response, [message] = outbox(lambda: sign_up(client))
    assert response.status_code == 302
    user = User.objects.get(email="sakura.mail@example.jp")
    body = assert_trustworthy(message, not_named=(user.username,))
    assert message.to == ["sakura.mail@example.jp"]
    # Japanese first, then English, in the hospital's names.
    assert body.index("ご登録ありがとうございます") < body.index("Thank you for signing up")
    assert settings.HOSPITAL["name"] in body and settings.HOSPITAL["name_en"] in body
    assert settings.HOSPITAL["phone"] in body
    assert "です!" not in body and "Hello from" not in body
    subject = str(parsed(message)["Subject"])
    assert "メールアドレス" in subject and "e-mail address" in subject

    link = link_in(message, "/accounts/confirm-email/")
    page = client.get(link)
    assert page.status_code == 200 and "sakura.mail@example.jp" in page.text
    confirmed = client.post(link)
    assert confirmed.status_code == 302 and confirmed.url == reverse("dashboard")
    assert EmailAddress.objects.get(email="sakura.mail@example.jp").verified
    assert client.session["_auth_user_id"] == str(user.pk)

    # The same link again: said plainly, with the way on.
    again = client.get(link)
    assert again.status_code == 200
    assert "このメールアドレスは確認済みです" in again.text
    assert reverse("dashboard") in again.text
    client.logout()
    with translation.override("en"):
        again = client.get(link, headers={"cookie": f"{settings.LANGUAGE_COOKIE_NAME}=en"})
    assert "This e-mail address is already confirmed" in again.text
    assert reverse("account_login") in again.text
    # Pressing the button of a page left open after confirming: the same page, not a 404.
    pressed = client.post(link)
    assert pressed.status_code == 200 and "確認済み" in pressed.text


def test_an_expired_or_broken_confirmation_link_says_so_and_offers_to_sign_in(
    client, outbox, time_machine
):
    _, [message] = outbox(lambda: sign_up(client))
    client.logout()
    link = link_in(message, "/accounts/confirm-email/")
    days = allauth_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS
    time_machine.move_to(timezone.now() + timedelta(days=days, hours=1))
    expired = client.get(link)
    assert "確認用リンクの有効期限が切れています" in expired.text
    assert reverse("account_login") in expired.text
    assert not EmailAddress.objects.get(email="sakura.mail@example.jp").verified

    broken = client.get(link[:-6] + "xxxxx/")
    assert broken.status_code == 200
    assert "この確認用リンクは使えません" in broken.text
    assert reverse("account_login") in broken.text
    assert settings.HOSPITAL["phone"] in broken.text

    # Signing in sends a fresh link, as the page says.
    _, [fresh] = outbox(
        lambda: client.post(
            reverse("account_login"), {"login": "sakura.mail@example.jp", "password": PASSWORD}
        )
    )
    assert_trustworthy(fresh)
    assert client.post(link_in(fresh, "/accounts/confirm-email/")).status_code == 302
    assert EmailAddress.objects.get(email="sakura.mail@example.jp").verified


def test_a_patient_resets_the_password_by_the_mailed_link_and_is_named(client, outbox):
    hana = User.objects.create_user("u-7f3a9c", "hana.yamada@example.jp", "old-password-2026")
    EmailAddress.objects.create(user=hana, email=hana.email, verified=True, primary=True)
    case_in("submitted", applicant=hana)  # her name lives on her application only
    response, [message] = outbox(
        lambda: client.post(reverse("account_reset_password"), {"email": hana.email})
    )
    assert response.status_code == 302
    body = assert_trustworthy(message, name="山田 花 様", not_named=("u-7f3a9c",))
    assert "Dear 山田 花," in body

    link = link_in(message, "/accounts/password/reset/key/")
    form = client.get(link, follow=True)
    assert form.status_code == 200
    new = "a-new-garden-2027"
    done = client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert done.status_code == 302
    hana.refresh_from_db()
    assert hana.check_password(new)
    # The link works once.
    assert "password1" not in client.get(link, follow=True).text


def test_a_reset_for_an_unknown_address_and_a_second_sign_up_mail_links_on_site_url(client, outbox):
    ken = verified_patient("ken.yamada@example.jp")
    ken.last_name, ken.first_name = "山田", "健"
    ken.save()
    _, [unknown] = outbox(
        lambda: client.post(reverse("account_reset_password"), {"email": "nobody@example.jp"})
    )
    body = assert_trustworthy(unknown)
    assert f"{SITE}{reverse('account_signup')}" in body

    _, [exists] = outbox(lambda: sign_up(client, "ken.yamada@example.jp"))
    body = assert_trustworthy(exists, name="山田 健 様", not_named=(ken.username,))
    assert f"{SITE}{reverse('account_login')}" in body
    assert f"{SITE}{reverse('account_reset_password')}" in body


def test_allauth_sends_no_other_mail_and_ours_replace_each_it_sends():
    """Every mail allauth can send is one of ours (above), or switched off by our settings."""
    root = Path(allauth.__file__).parent / "templates"
    prefixes = {
        str(path.relative_to(root)).removesuffix("_subject.txt")
        for app in ("account", "mfa")  # allauth's apps we use (not socialaccount, headless)
        for path in root.glob(f"{app}/email/*_subject.txt")
    }
    off = prefixes - ALLAUTH_SENT
    assert prefixes >= ALLAUTH_SENT
    # Sent only with these on: security notifications (password changed or reset, e-mail
    # changed, the second factor's changes), codes instead of links.
    assert not allauth_settings.EMAIL_NOTIFICATIONS
    assert not allauth_settings.LOGIN_BY_CODE_ENABLED
    assert not allauth_settings.PASSWORD_RESET_BY_CODE_ENABLED
    assert not allauth_settings.EMAIL_VERIFICATION_BY_CODE_ENABLED
    assert {p.split("/")[-1] for p in off} == {
        "email_changed", "email_confirm", "email_deleted", "login_code", "password_changed",
        "password_reset", "password_reset_code", "password_set", "recovery_codes_generated",
        "totp_activated", "totp_deactivated", "webauthn_added", "webauthn_removed",
    }  # fmt: skip
    project = Path(settings.BASE_DIR) / "templates"
    for prefix in ALLAUTH_SENT:
        for part in ("_subject.txt", "_message.txt"):
            assert get_template(prefix + part).origin.name == str(project / (prefix + part))


# The project's own mails.

LINKLESS = {"scheduling/email/booking_cancelled"}


def own_mail_templates() -> list[str]:
    """Every `<app>/email/<name>` with a subject, in every app (a new mail is walked too)."""
    base = Path(settings.BASE_DIR) / "opiniondesk"
    return sorted(
        str(path.relative_to(path.parents[3]))
        .removeprefix("templates/")
        .removesuffix("_subject.txt")
        for path in base.glob("*/templates/*/email/*_subject.txt")
    )


def test_every_mail_of_ours_is_from_the_hospital_and_links_on_site_url(seeded):
    """Each template rendered with the objects of a real booked, charged case."""
    case = ready_case()
    booking = case.bookings.get()
    charged = completed_case()
    context = {
        "case": case,
        "booking": booking,
        "previous": booking,
        "offer": booking.offered_slot.offer,
        "slots": list(booking.offered_slot.offer.slots.all()),
        "review": IdentityReview.objects.filter(document__case=case).first(),
        "document_request": DocumentRequest.objects.first()
        or case_in("awaiting_documents", documents=False).document_requests.first(),
        "charge": charged.charge,
        "applicant_name": case.applicant_name,
        "reference": case.reference,
        "department": case.department.name,
        "days": 7,
        "by_staff": False,
        "url": reverse("case-detail", args=[case.pk]),
    }
    templates = own_mail_templates()
    assert len(templates) >= 20 and "cases/email/applicant_case_submitted" in templates
    linkless = set()
    for template in templates:
        for language in ("ja", "en"):
            with translation.override(language):
                message = email_message(template, context, ["someone@example.jp"], name="山田 花")
            body = assert_trustworthy(message, name="山田 花")
            if not LINK.findall(body):
                linkless.add(template)
    # The walk must see links: only these mails have none (a cancelled booking is over).
    assert linkless == LINKLESS


def test_mails_about_a_case_name_each_reader_by_the_application_never_by_user_name(
    outbox, committed
):
    """Ken applied for his mother Hana with an account made by e-mail (no name on it); Hana
    linked her own. Each is addressed by the name the application gives them."""
    ken = verified_patient("k9x2@example.jp")
    case = case_in("screening", applicant=ken, relation="child")
    hana = verified_patient("h4q7@example.jp")
    Case.objects.filter(pk=case.pk).update(patient_account=hana)
    _, mails = outbox(lambda: case_mails.case_decided(case.pk))
    [to_ken] = mails
    assert_trustworthy(
        to_ken, name=f"{case.applicant_name} 様", not_named=(ken.username, hana.username)
    )
    case.refresh_from_db()
    _, mails = outbox(
        lambda: case_mails.to_patient_side(
            case, "cases/email/applicant_case_update", {"url": reverse("dashboard")}
        )
    )
    by_reader = {m.to[0]: m for m in mails}
    assert_trustworthy(by_reader[ken.email], name=f"{case.applicant_name} 様")
    assert_trustworthy(by_reader[hana.email], name=f"{case.patient_name} 様")
    assert case.applicant_name != case.patient_name


@pytest.mark.parametrize("state", ["confirmed", "expired", "invalid"])
def test_the_page_of_a_link_that_no_longer_works_is_english_when_chosen(client, state):
    from opiniondesk.desk.tests.test_english_pages import JAPANESE

    user = User.objects.create_user("u-5d1e", "taro@example.jp", PASSWORD)
    address = EmailAddress.objects.create(user=user, email=user.email, primary=True)
    key = EmailConfirmationHMAC(address).key
    if state == "confirmed":
        EmailAddress.objects.filter(pk=address.pk).update(verified=True)
    elif state == "invalid":
        key = key[:-4] + "AAAA"
    else:
        # Made as allauth makes it, a day longer ago than a link lives.
        days = allauth_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS
        with time_machine.travel(timezone.now() - timedelta(days=days + 1)):
            key = EmailConfirmationHMAC(address).key

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("account_confirm_email", args=[key]))
    assert page.status_code == 200
    text = re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", page.text, flags=re.DOTALL)
    for configured in ("日本語", *settings.HOSPITAL.values()):
        text = text.replace(configured, " ")
    assert not JAPANESE.findall(text)
    heading = {
        "confirmed": "This e-mail address is already confirmed",
        "expired": "This confirmation link has expired",
        "invalid": "This confirmation link does not work",
    }[state]
    assert heading in page.text and reverse("account_login") in page.text
    assert "u-5d1e" not in page.text
