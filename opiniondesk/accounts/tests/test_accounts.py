"""Sign-up with a verified e-mail, passwords, staff MFA, idle timeout, rate limit, audit."""

import re
import time

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from opiniondesk.accounts.mfa import current_code, demo_totp_secret, enrol_demo_factor, has_totp
from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def argon2(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]


def _staff(username, role, *, totp=True):
    """A staff account with a verified address and a known password (not one of the personas,
    who are seeded with a second factor)."""
    user = User.objects.create_user(
        username, f"{username}@hospital.example.jp", "correct-horse-battery-9", role=role
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    if totp:
        enrol_demo_factor(user)
    return user


def _sign_up(client, email="hana@example.jp", password="my-garden-2026-blue"):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": password, "password2": password}
    )


def test_it_signs_up_a_patient_who_verifies_the_email_from_a_real_smtp_server(
    client, smtp_inbox, run_tasks, django_capture_on_commit_callbacks, argon2
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign_up(client)
    assert response.status_code == 302
    user = User.objects.get(email="hana@example.jp")
    assert user.role == Role.PATIENT
    assert identify_hasher(user.password).algorithm == "argon2"
    assert smtp_inbox.messages == []  # sent by the worker, not the request
    run_tasks()
    assert len(smtp_inbox.messages) == 1
    body = smtp_inbox.bodies()[0]
    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/", body).group(0)
    assert link.startswith(settings.SITE_URL)  # not the request's host (testserver)
    client.post(link.removeprefix(settings.SITE_URL))
    assert EmailAddress.objects.get(email="hana@example.jp").verified


def test_it_refuses_short_and_common_passwords(client):
    for password in ("short1", "password123", "1234567890123"):
        response = _sign_up(client, password=password)
        assert response.status_code == 200
    assert not User.objects.filter(email="hana@example.jp").exists()


def test_an_unverified_patient_cannot_sign_in(client):
    _sign_up(client)
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "hana@example.jp", "password": "my-garden-2026-blue"}
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 302)


def test_staff_without_mfa_are_sent_to_set_it_up_and_can_do_nothing_else(client):
    abe = _staff("coordinator_abe", Role.COORDINATOR, totp=False)
    client.force_login(abe)
    response = client.get(reverse("staff-home"))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")
    assert client.get("/admin/").status_code == 302
    assert client.get("/api/v1/departments").status_code == 200  # the public API stays open
    # Setting up the factor asks for the password again (no redirect loop).
    setup = client.get(reverse("mfa_activate_totp"), follow=True)
    assert setup.status_code == 200
    assert setup.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))


def test_staff_sign_in_with_password_then_totp(client):
    specialist = _staff("dr_abe", Role.SPECIALIST)
    response = client.post(
        reverse("account_login"), {"login": "dr_abe", "password": "correct-horse-battery-9"}
    )
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    code = current_code(demo_totp_secret("dr_abe"), time.time())
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert response.url == reverse("staff-home")
    assert client.session["_auth_user_id"] == str(specialist.pk)
    assert AuditEvent.objects.filter(action="login", username="dr_abe").exists()


def test_a_recovery_code_works_once(client):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    _staff("billing_abe", Role.BILLING_CLERK)
    codes = RecoveryCodes.activate(User.objects.get(username="billing_abe")).get_unused_codes()
    for expected in (302, 200):
        client.logout()
        client.post(
            reverse("account_login"),
            {"login": "billing_abe", "password": "correct-horse-battery-9"},
        )
        response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
        assert response.status_code == expected


def test_idle_staff_sessions_end_after_15_minutes(client, settings):
    assert settings.STAFF_IDLE_TIMEOUT_MINUTES == 15
    abe = _staff("coordinator_abe", Role.COORDINATOR)
    with time_machine.travel("2026-11-25 10:00 +0900", tick=False) as traveller:
        client.force_login(abe)
        assert client.get(reverse("staff-home")).status_code == 200
        traveller.shift(14 * 60)
        assert client.get(reverse("staff-home")).status_code == 200
        traveller.shift(15 * 60 + 1)
        response = client.get(reverse("staff-home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_patients_are_not_timed_out_like_staff(client):
    hana = User.objects.create_user("hana", "hana@example.jp", "x", role=Role.PATIENT)
    with time_machine.travel("2026-11-25 10:00 +0900", tick=False) as traveller:
        client.force_login(hana)
        client.get(reverse("dashboard"))
        traveller.shift(60 * 60)
        assert client.get(reverse("dashboard")).status_code == 200


def test_login_is_rate_limited_and_failures_are_audited(client):
    _staff("coordinator_abe", Role.COORDINATOR)
    statuses = []
    for _ in range(7):
        response = client.post(
            reverse("account_login"), {"login": "coordinator_abe", "password": "wrong"}
        )
        statuses.append(response.status_code)
    # Five failures for one account in five minutes, then even the right password waits.
    response = client.post(
        reverse("account_login"),
        {"login": "coordinator_abe", "password": "correct-horse-battery-9"},
    )
    assert response.status_code != 302 or response.url != reverse("mfa_authenticate")
    assert AuditEvent.objects.filter(action="login_failed").count() >= 5
    assert all(
        e.detail == {"identifier": "coordinator_abe"}
        for e in AuditEvent.objects.filter(action="login_failed")
    )


def test_the_admin_login_goes_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_demo_staff_get_a_working_second_factor(settings):
    from django.core.management import call_command

    settings.DEMO_MODE = True
    call_command("load_demo", verbosity=0, no_history=True)
    for username in ("coordinator_sato", "dr_tanaka", "dr_mori", "billing_ito", "admin_kato"):
        assert has_totp(User.objects.get(username=username)), username
    assert not has_totp(User.objects.get(username="patient_hana"))
