"""Two coordinators click at once: exactly one transition wins, on a real PostgreSQL server.

Each thread has its own database connection, as two requests served by two workers would. The
row lock taken by the services (`select_for_update`) makes the second wait for the first and then
see the case as the first left it, so its transition is refused. SQLite serialises every writer
with one database-wide lock and cannot show this; the tests run only on PostgreSQL (CI runs them
with DATABASE_URL=postgres://…).
"""

import io
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditAction, AuditEvent, AuditSeal
from opiniondesk.audit.sealer import seal
from opiniondesk.audit.services import audit_record
from opiniondesk.cases.models import Case, CaseTransition
from opiniondesk.cases.screening import case_refer, case_reject, case_start_screening
from opiniondesk.cases.workflow import InvalidTransition, Status
from opiniondesk.catalog.models import Department
from opiniondesk.core.tests.threads import run_at_once

# Concurrent writers need PostgreSQL's row locks (root conftest: skipped, or failed under CI).
pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20  # seconds; a lock that never comes back fails the test instead of hanging it


@pytest.fixture
def second_coordinator(db):
    return User.objects.create_user(
        "coordinator_suzuki",
        "coordinator_suzuki@example.jp",
        "pw-1234567890",
        role=Role.COORDINATOR,
    )


@pytest.fixture
def submitted(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    assert wizard.submit().status_code == 302
    case = Case.objects.get(pk=wizard.case.pk)
    assert case.status == Status.SUBMITTED
    return case


@pytest.fixture
def screening(submitted, coordinator_sato):
    return case_start_screening(case_id=submitted.pk, actor=coordinator_sato)


def _run_at_once(*calls):
    return run_at_once(*calls, timeout=TIMEOUT)


def _one_winner(outcomes):
    """Exactly one call succeeded and the other was refused as an illegal transition."""
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"], outcomes
    [error] = [value for kind, value in outcomes if kind == "error"]
    assert isinstance(error, InvalidTransition), repr(error)
    [won] = [i for i, (kind, _) in enumerate(outcomes) if kind == "ok"]
    return won, error


def _assert_chain_whole():
    out = io.StringIO()
    call_command("verify_audit_log", "--full", stdout=out)  # CommandError on a broken link
    assert "Audit log intact" in out.getvalue()


def test_reject_and_refer_at_once_one_wins(screening, coordinator_sato, second_coordinator):
    # Given: a case in screening, on two coordinators' screens.
    transitions = CaseTransition.objects.filter(case=screening).count()
    cardiology = Department.objects.get(code="cardiology")

    # When: Sato rejects it while Suzuki refers it.
    outcomes = _run_at_once(
        lambda: case_reject(
            case_id=screening.pk, actor=coordinator_sato, reasons=["WANTS_TRANSFER"], note="…"
        ),
        lambda: case_refer(case_id=screening.pk, actor=second_coordinator, department=cardiology),
    )

    # Then: one of them wins; the other is told the case has moved on, and changed nothing.
    won, error = _one_winner(outcomes)
    case = Case.objects.get(pk=screening.pk)
    winner_state = [Status.REJECTED, Status.REFERRED][won]
    assert case.status == winner_state
    assert (error.current, error.target) == (
        winner_state,
        [Status.REFERRED, Status.REJECTED][won],
    )
    assert CaseTransition.objects.filter(case=case).count() == transitions + 1
    last = CaseTransition.objects.filter(case=case).latest("pk")
    assert (last.from_status, last.to_status) == ("screening", winner_state)
    assert last.actor == [coordinator_sato, second_coordinator][won]
    assert AuditEvent.objects.filter(case_id=case.pk, detail__from="screening").count() == 1
    if winner_state == Status.REFERRED:
        assert case.rejection_reasons == []
    _assert_chain_whole()


def test_two_coordinators_start_screening_at_once_one_wins(
    submitted, coordinator_sato, second_coordinator
):
    transitions = CaseTransition.objects.filter(case=submitted).count()

    outcomes = _run_at_once(
        lambda: case_start_screening(case_id=submitted.pk, actor=coordinator_sato),
        lambda: case_start_screening(case_id=submitted.pk, actor=second_coordinator),
    )

    won, error = _one_winner(outcomes)
    assert (error.current, error.target) == (Status.SCREENING, Status.SCREENING)
    assert Case.objects.get(pk=submitted.pk).status == Status.SCREENING
    rows = CaseTransition.objects.filter(case=submitted)
    assert rows.count() == transitions + 1
    winner = [coordinator_sato, second_coordinator][won]
    assert rows.filter(to_status="screening").get().actor == winner
    assert AuditEvent.objects.filter(case_id=submitted.pk, detail__to="screening").count() == 1
    _assert_chain_whole()


def _waiting_for_a_lock():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_the_second_click_waits_for_the_first_and_sees_its_result(
    screening, coordinator_sato, second_coordinator
):
    """Deterministic: Sato's transaction holds the case while Suzuki's arrives and must wait.

    Without the row lock Suzuki would read the case as still in screening and both would win.
    """
    cardiology = Department.objects.get(code="cardiology")
    sato_holds_the_case, let_sato_commit = threading.Event(), threading.Event()
    outcomes = {}

    def sato():
        try:
            with transaction.atomic():
                case_reject(case_id=screening.pk, actor=coordinator_sato, reasons=["NO_SPECIALIST"])
                sato_holds_the_case.set()
                assert let_sato_commit.wait(TIMEOUT)
            outcomes["sato"] = "ok"
        except Exception as exc:
            outcomes["sato"] = exc
        finally:
            sato_holds_the_case.set()
            connection.close()

    def suzuki():
        try:
            assert sato_holds_the_case.wait(TIMEOUT)
            case_refer(case_id=screening.pk, actor=second_coordinator, department=cardiology)
            outcomes["suzuki"] = "ok"
        except Exception as exc:
            outcomes["suzuki"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=sato), threading.Thread(target=suzuki)]
    for thread in threads:
        thread.start()
    assert sato_holds_the_case.wait(TIMEOUT)
    deadline = time.monotonic() + TIMEOUT
    while not _waiting_for_a_lock():  # Suzuki is blocked on the case's row
        assert time.monotonic() < deadline, "the second transition did not wait for the lock"
        time.sleep(0.02)
    let_sato_commit.set()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive()

    assert outcomes["sato"] == "ok"
    assert isinstance(outcomes["suzuki"], InvalidTransition)
    assert (outcomes["suzuki"].current, outcomes["suzuki"].target) == ("rejected", "referred")
    case = Case.objects.get(pk=screening.pk)
    assert case.status == Status.REJECTED
    assert CaseTransition.objects.filter(case=case, from_status="screening").count() == 1
    _assert_chain_whole()


@pytest.mark.parametrize("sealed_before", [False, True], ids=["first-ever-events", "later-events"])
def test_ten_concurrent_audit_writers_are_all_sealed_into_one_chain(sealed_before):
    # Given: an empty log, or one with an event already sealed.
    if sealed_before:
        audit_record(action=AuditAction.LOGIN, detail={"writer": "before"})
        seal(lag=0)
    before = AuditEvent.objects.count()

    # When: ten requests append an event at the same moment, and the sealer runs.
    outcomes = _run_at_once(
        *[
            (lambda n=n: audit_record(action=AuditAction.READ, detail={"writer": n}))
            for n in range(10)
        ]
    )
    sealed = seal(lag=0)

    # Then: every one was written with its own number, each sealed once, and the log verifies.
    assert [kind for kind, _ in outcomes] == ["ok"] * 10, outcomes
    assert AuditEvent.objects.count() == before + 10
    assert len(set(AuditEvent.objects.values_list("sequence", flat=True))) == before + 10
    assert sealed.events == 10
    assert AuditSeal.objects.count() == before + 10
    writers = sorted(
        AuditEvent.objects.filter(action="read").values_list("detail__writer", flat=True)
    )
    assert writers == list(range(10))
    _assert_chain_whole()
