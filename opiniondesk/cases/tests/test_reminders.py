"""Reminders of a request for documents: at 09:00 JST the day before the due date and on it, to the
applicant and the coordinators, and only while the documents are still awaited.
"""

from datetime import date, datetime, timedelta

import pytest
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from opiniondesk.cases.models import Case, DocumentRequest
from opiniondesk.cases.screening import case_request_documents, case_start_screening
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.vocabulary import DocumentCode
from opiniondesk.core.time import JST
from opiniondesk.desk.services import case_withdraw
from opiniondesk.public.wording import DOCUMENT_TITLES

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 6, 1, 10, 0, tzinfo=JST)  # after the reminder hour
DUE = date(2026, 6, 10)  # a Wednesday
DAY_BEFORE_AT_NINE = datetime(2026, 6, 9, 9, 0, tzinfo=JST)  # 2026-06-09 00:00 UTC
DUE_DAY_AT_NINE = datetime(2026, 6, 10, 9, 0, tzinfo=JST)
REMINDER_TASK = "opiniondesk.cases.tasks.remind_documents"


@pytest.fixture
def clock(time_machine):
    """The whole story, from the application on, happens on Monday 1 June 2026 and after."""
    time_machine.move_to(MONDAY, tick=True)
    return time_machine


@pytest.fixture
def wizard(clock, wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    assert wizard.submit().status_code == 302
    return wizard


@pytest.fixture
def screening(wizard, coordinator_sato):
    return case_start_screening(case_id=wizard.case.pk, actor=coordinator_sato)


@pytest.fixture
def ask(screening, coordinator_sato, django_capture_on_commit_callbacks):
    """The coordinator asks for test data (committed: the reminders are scheduled on commit)."""

    def ask(due_date=DUE):
        with django_capture_on_commit_callbacks(execute=True):
            return case_request_documents(
                case_id=screening.pk,
                actor=coordinator_sato,
                items=[DocumentCode.TEST_DATA],
                message="最新の心エコーの報告書をお送りください。",
                due_date=due_date,
            )

    return ask


@pytest.fixture
def deliver(run_tasks, django_capture_on_commit_callbacks):
    """Run the due tasks, then the e-mails they queued (a task's mail leaves after its commit)."""

    def deliver():
        with django_capture_on_commit_callbacks(execute=True):
            run_tasks()
        run_tasks()

    return deliver


def _reminders():
    return list(DBTaskResult.objects.filter(task_path=REMINDER_TASK).order_by("run_after"))


def _body(message):
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.parametrize("server_time_zone", ["Asia/Tokyo", "America/Los_Angeles", "UTC"])
def test_a_request_with_a_due_date_schedules_two_reminders_at_nine_in_tokyo(
    settings, server_time_zone, ask
):
    # Given: a server configured for another time zone.
    settings.TIME_ZONE = server_time_zone

    # When: the coordinator asks for documents by 10 June.
    document_request = ask()

    # Then: reminders at 09:00 JST on 9 and 10 June, whatever the server's zone.
    reminders = _reminders()
    assert [r.run_after for r in reminders] == [DAY_BEFORE_AT_NINE, DUE_DAY_AT_NINE]
    assert reminders[0].run_after.astimezone(JST).hour == 9
    assert [r.args_kwargs["args"] for r in reminders] == [[document_request.pk]] * 2
    assert {r.status for r in reminders} == {"READY"}


def test_a_request_without_a_due_date_has_no_reminder(ask):
    ask(due_date=None)

    assert _reminders() == []


@pytest.mark.parametrize(
    ("due_date", "expected"),
    [
        (date(2026, 6, 2), [datetime(2026, 6, 2, 9, 0, tzinfo=JST)]),  # today's 09:00 has passed
        (date(2026, 6, 1), []),  # due today, after the reminder hour
    ],
)
def test_reminders_already_in_the_past_are_not_scheduled(ask, due_date, expected):
    ask(due_date=due_date)

    assert [r.run_after for r in _reminders()] == expected


def test_an_open_request_is_reminded_to_both_sides_on_both_days(
    ask, clock, deliver, smtp_inbox, screening
):
    # Given: the request, and its first e-mail already delivered.
    ask()
    deliver()
    smtp_inbox.messages.clear()

    # When: the morning before the due date comes, just before nine: nothing yet.
    clock.move_to(DAY_BEFORE_AT_NINE - timedelta(minutes=1))
    deliver()
    assert smtp_inbox.messages == []

    # Then: at nine both the applicant and the coordinator are reminded.
    clock.move_to(DAY_BEFORE_AT_NINE + timedelta(seconds=30))
    deliver()
    applicant = next(m for m in smtp_inbox.messages if m["To"] == "proxy_ken@example.jp")
    coordinator = next(m for m in smtp_inbox.messages if m["To"] == "coordinator_sato@example.jp")
    assert len(smtp_inbox.messages) == 2
    assert screening.reference in applicant["Subject"]
    assert "2026-06-10" in _body(applicant)
    with translation.override("ja"):
        assert str(DOCUMENT_TITLES[DocumentCode.TEST_DATA]) in _body(applicant)
    assert "2026-06-10" in _body(coordinator) and "山田" not in _body(coordinator)

    # And again on the due date.
    clock.move_to(DUE_DAY_AT_NINE + timedelta(seconds=30))
    deliver()
    assert len(smtp_inbox.messages) == 4
    assert {r.status for r in _reminders()} == {"SUCCESSFUL"}


def test_no_reminder_once_the_documents_have_arrived(
    ask, clock, deliver, smtp_inbox, wizard, proxy_ken
):
    # Given: the request, answered by Ken two days later (signed in again by then).
    document_request = ask()
    deliver()
    smtp_inbox.messages.clear()
    clock.move_to(datetime(2026, 6, 3, 20, 0, tzinfo=JST))
    wizard.client.logout()
    wizard.client.force_login(proxy_ken)
    assert wizard.upload("test_data", test_data_kind="physiology").status_code == 302
    assert Case.objects.get(pk=wizard.case.pk).status == Status.SCREENING
    assert DocumentRequest.objects.get(pk=document_request.pk).fulfilled_at is not None
    deliver()  # the coordinators' "documents complete" e-mail
    smtp_inbox.messages.clear()

    # When: the reminder times come.
    for moment in (DAY_BEFORE_AT_NINE, DUE_DAY_AT_NINE):
        clock.move_to(moment + timedelta(seconds=30))
        deliver()

    # Then: the reminders ran and sent nothing.
    assert {r.status for r in _reminders()} == {"SUCCESSFUL"}
    assert smtp_inbox.messages == []


def test_no_reminder_once_the_case_is_withdrawn(
    ask, clock, deliver, smtp_inbox, screening, proxy_ken
):
    ask()
    deliver()
    smtp_inbox.messages.clear()
    case_withdraw(case_id=screening.pk, actor=proxy_ken, reason="地元の病院で相談します。")

    clock.move_to(DAY_BEFORE_AT_NINE + timedelta(seconds=30))
    deliver()

    assert Case.objects.get(pk=screening.pk).status == Status.WITHDRAWN
    assert [r.status for r in _reminders()] == ["SUCCESSFUL", "READY"]
    assert smtp_inbox.messages == []


def test_a_request_replaced_by_a_newer_one_is_not_reminded(
    ask, clock, deliver, smtp_inbox, screening, coordinator_sato, django_capture_on_commit_callbacks
):
    # Given: a request due on 10 June; the coordinator resumes screening without it (the table
    # lets a coordinator move a case from awaiting_documents back to screening) and later asks
    # for something else by 20 June.
    ask()
    case_start_screening(case_id=screening.pk, actor=coordinator_sato)
    with django_capture_on_commit_callbacks(execute=True):
        case_request_documents(
            case_id=screening.pk,
            actor=coordinator_sato,
            items=[DocumentCode.REFERRAL_LETTER],
            message="",
            due_date=date(2026, 6, 20),
        )
    deliver()
    smtp_inbox.messages.clear()

    # When: the first request's reminder time comes, while the case waits for the second one.
    clock.move_to(DAY_BEFORE_AT_NINE + timedelta(seconds=30))
    deliver()

    # Then: nobody is told about the request the hospital no longer waits for.
    assert Case.objects.get(pk=screening.pk).status == Status.AWAITING_DOCUMENTS
    assert smtp_inbox.messages == []

    # But the newer request is reminded on its own days.
    clock.move_to(datetime(2026, 6, 19, 9, 0, 30, tzinfo=JST))
    deliver()
    assert len(smtp_inbox.messages) == 2
    assert all("2026-06-20" in _body(m) for m in smtp_inbox.messages)
