"""Activity recorded from outside a request (the consult's WebSocket): it keeps a live session
going and never revives one that has ended."""

import time

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from opiniondesk.accounts.activity import LAST_ACTIVITY_KEY, keep_alive
from opiniondesk.accounts.models import Role, User

HOUR = 3600


@pytest.fixture
def hana(db):
    return User.objects.create_user("hana", "hana@example.jp", "x", role=Role.PATIENT)


@pytest.fixture
def signed_in(hana):
    """Hana's session after her first page: her activity recorded at 10:00."""
    with time_machine.travel("2026-11-25 10:00 +0900", tick=False):
        client = Client()
        client.force_login(hana)
        assert client.get(reverse("dashboard")).status_code == 200
        return client


def test_it_keeps_a_live_session_going(signed_in, hana):
    with time_machine.travel("2026-11-25 10:59 +0900", tick=False):
        assert keep_alive(session_key=signed_in.session.session_key, user=hana, now=time.time())
        assert signed_in.session[LAST_ACTIVITY_KEY] == time.time()
    with time_machine.travel("2026-11-25 11:30 +0900", tick=False):  # 91 minutes after the page
        assert signed_in.get(reverse("dashboard")).status_code == 200


def test_it_keeps_what_requests_wrote_since(signed_in, hana):
    # Inside the travel: the session of 25 November has expired in today's real time.
    with time_machine.travel("2026-11-25 10:20 +0900", tick=False):
        session = signed_in.session
        session["written.later"] = "kept"
        session.save()
    with time_machine.travel("2026-11-25 10:30 +0900", tick=False):
        assert keep_alive(session_key=session.session_key, user=hana, now=time.time())
        assert signed_in.session["written.later"] == "kept"


def test_it_never_revives_an_ended_session(signed_in, hana):
    with time_machine.travel("2026-11-25 11:01 +0900", tick=False):  # 61 idle minutes
        assert not keep_alive(session_key=signed_in.session.session_key, user=hana, now=time.time())
        response = signed_in.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_it_does_nothing_for_a_session_signed_out_or_someone_else(signed_in, hana):
    key = signed_in.session.session_key
    other = User.objects.create_user("jun", "jun@example.jp", "x", role=Role.PATIENT)
    with time_machine.travel("2026-11-25 10:30 +0900", tick=False):
        assert not keep_alive(session_key=key, user=other, now=time.time())
        assert not keep_alive(session_key=None, user=hana, now=time.time())
        signed_in.logout()
        assert not keep_alive(session_key=key, user=hana, now=time.time())
    assert not Client().session.exists(key)  # not created again by the attempt
