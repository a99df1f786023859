"""The in-memory SQLite test database (opiniondesk/testing/sqlite_locks.py): a second writer
waits for the first, as on the app's database file, instead of failing at once."""

import threading
import time

import pytest
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from opiniondesk.testing.sqlite_locks import is_locked

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db(transaction=True)]


def write_from_another_thread(key: str, *, waits: bool, outcome: dict) -> threading.Thread:
    def write() -> None:
        try:
            if not waits:
                connection.ensure_connection()
                connection.execute_wrappers.clear()
            Session.objects.create(session_key=key, session_data="", expire_date=timezone.now())
            outcome["written"] = True
        except OperationalError as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def test_a_second_writer_waits_for_the_first_to_commit():
    assert connection.is_in_memory_db()
    outcome: dict = {}
    with transaction.atomic():
        Session.objects.create(session_key="a" * 32, session_data="", expire_date=timezone.now())
        other = write_from_another_thread("b" * 32, waits=True, outcome=outcome)
        time.sleep(0.3)
        assert other.is_alive() and outcome == {}  # waiting, not failed
    other.join(10)
    assert outcome == {"written": True}
    assert Session.objects.count() == 2


def test_without_it_the_second_writer_fails_at_once():
    outcome: dict = {}
    with transaction.atomic():
        Session.objects.create(session_key="a" * 32, session_data="", expire_date=timezone.now())
        other = write_from_another_thread("b" * 32, waits=False, outcome=outcome)
        other.join(10)
    assert is_locked(outcome["error"])
    assert Session.objects.count() == 1
