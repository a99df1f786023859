"""When sessions end (SPEC §11.10): staff after 15 idle minutes; patients after 60 idle minutes
or 12 hours after signing in."""

import pytest
import time_machine
from django.urls import reverse

from opiniondesk.accounts.models import Role, User
from opiniondesk.accounts.sessions import Ended, Limits, limits_for, session_end

HOUR = 3600
STAFF = Limits(idle_seconds=15 * 60)
PATIENT = Limits(idle_seconds=60 * 60, max_seconds=12 * HOUR)


@pytest.mark.parametrize(
    ("limits", "last_activity", "signed_in_at", "ended"),
    [
        (STAFF, None, None, None),  # the first request after signing in
        (STAFF, -15 * 60, -HOUR, None),
        (STAFF, -15 * 60 - 1, -HOUR, Ended.IDLE),
        (STAFF, -60, -100 * HOUR, None),  # busy staff have no maximum
        (PATIENT, -60 * 60, -HOUR, None),
        (PATIENT, -60 * 60 - 1, -2 * HOUR, Ended.IDLE),
        (PATIENT, -60, -12 * HOUR, None),
        (PATIENT, -60, -12 * HOUR - 1, Ended.MAX_AGE),  # however busy
        (PATIENT, -2 * HOUR, -13 * HOUR, Ended.MAX_AGE),  # the maximum is said first
        (PATIENT, None, -13 * HOUR, Ended.MAX_AGE),
        (Limits(idle_seconds=60 * 60), -60, -100 * HOUR, None),  # PATIENT_SESSION_MAX_HOURS=0
    ],
)
def test_it_ends_sessions(limits, last_activity, signed_in_at, ended):
    now = 1_800_000_000.0
    assert (
        session_end(
            now=now,
            last_activity=None if last_activity is None else now + last_activity,
            signed_in_at=None if signed_in_at is None else now + signed_in_at,
            limits=limits,
        )
        == ended
    )


@pytest.mark.parametrize(
    ("staff", "max_hours", "limits"),
    [
        (True, 12, STAFF),
        (False, 12, PATIENT),
        (False, 0, Limits(idle_seconds=60 * 60)),
    ],
)
def test_it_picks_the_limits_by_role(staff, max_hours, limits):
    picked = limits_for(
        staff=staff, staff_idle_minutes=15, patient_idle_minutes=60, patient_max_hours=max_hours
    )
    assert picked == limits


@pytest.fixture
def hana(db):
    return User.objects.create_user("hana", "hana@example.jp", "x", role=Role.PATIENT)


def test_the_defaults_are_60_idle_minutes_and_12_hours_for_patients(settings):
    assert (settings.PATIENT_SESSION_IDLE_MINUTES, settings.PATIENT_SESSION_MAX_HOURS) == (60, 12)


def test_idle_patients_are_signed_out(client, hana):
    with time_machine.travel("2026-11-25 10:00 +0900", tick=False) as traveller:
        client.force_login(hana)
        assert client.get(reverse("dashboard")).status_code == 200
        traveller.shift(60 * 60 + 1)
        response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_busy_patients_are_signed_out_after_the_maximum(client, hana, settings):
    settings.PATIENT_SESSION_MAX_HOURS = 2
    with time_machine.travel("2026-11-25 10:00 +0900", tick=False) as traveller:
        client.force_login(hana)
        for _ in range(4):  # a request every 30 minutes: never idle
            assert client.get(reverse("dashboard")).status_code == 200
            traveller.shift(30 * 60)
        traveller.shift(1)
        response = client.get(reverse("dashboard"), follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.redirect_chain[0][0].startswith(reverse("account_login"))
    assert "You were signed out 2 hours after signing in." in response.content.decode()
