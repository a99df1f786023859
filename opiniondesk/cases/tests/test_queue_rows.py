"""The work queue's rows (cases.queue_rows): each cell says what the template used to work out
per row — labels in the active language, the document request's due date and whether it is
overdue, the consult's time, the ID to check, and how long the case has waited."""

from datetime import datetime, timedelta

import pytest
from django.utils import translation

from opiniondesk.cases.models import Case, Channel
from opiniondesk.cases.queue_rows import queue_rows
from opiniondesk.cases.selectors import QueueFilters, case_queue
from opiniondesk.cases.wording import STAFF_STATUS_LABELS
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.core.time import JST, jst_now
from opiniondesk.documents.models import DocumentKind
from opiniondesk.public.wording import MODE_NAMES
from opiniondesk.readiness.services import identity_review
from opiniondesk.scheduling.models import Booking
from opiniondesk.testing.builders import add_document, case_in, ready_case
from opiniondesk.testing.personas import persona

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=JST)


def row_of(case: Case, *, now: datetime = NOW, today=None) -> dict:
    cases = case_queue(user=persona("coordinator_sato"), filters=QueueFilters(states=None))
    (row,) = queue_rows(
        cases.filter(pk=case.pk), now=now, today=today or now.astimezone(JST).date()
    )
    return row


def test_a_row_names_the_case_patient_department_and_state():
    case = case_in(Status.SCREENING, mode="in_person")
    row = row_of(case)
    assert row["url"] == f"/staff/cases/{case.pk}/"
    assert row["reference"] == case.reference
    assert row["patient_name"] == case.patient_name
    assert row["department"] == case.department.local_name
    assert row["disease"] == case.disease.local_name
    assert row["status"] == "screening"
    assert row["status_label"] == str(STAFF_STATUS_LABELS[Status.SCREENING])
    assert row["mode"] == str(MODE_NAMES[Mode.IN_PERSON])
    # Applied online by the patient: no tag for either.
    assert (row["family_applies"], row["channel"], row["channel_label"]) == (False, "", "")
    # Nothing due, no consult, no ID uploaded.
    assert (row["due"], row["overdue"], row["consult_at"]) == ("", False, "")
    assert row["id_waiting"] is False


def test_family_applications_and_paper_ones_are_tagged():
    case = case_in(Status.SUBMITTED, relation="child", channel="post")
    row = row_of(case)
    assert row["family_applies"] is True
    assert (row["channel"], row["channel_label"]) == ("post", str(Channel.POST.label))


def test_an_uploaded_id_is_tagged_until_it_is_checked():
    case = case_in(Status.SCREENING)
    document = add_document(case, DocumentKind.PATIENT_ID, id_type="drivers_licence")
    assert row_of(case)["id_waiting"] is True
    identity_review(document_id=document.pk, actor=persona("coordinator_sato"), verified=True)
    assert row_of(case)["id_waiting"] is False


@pytest.mark.parametrize(
    ("days_after_due", "overdue"),
    [(-1, False), (0, False), (1, True), (30, True)],
)
def test_a_document_request_is_overdue_from_the_day_after_its_due_date(days_after_due, overdue):
    case = case_in(Status.AWAITING_DOCUMENTS)
    due = case.document_requests.get().due_date
    row = row_of(case, today=due + timedelta(days=days_after_due))
    assert row["due"] == due.isoformat()
    assert row["overdue"] is overdue


def test_a_due_date_shows_only_while_the_case_awaits_documents():
    case = case_in(Status.AWAITING_DOCUMENTS)
    due = case.document_requests.get().due_date
    Case.objects.filter(pk=case.pk).update(status=Status.SCREENING)
    row = row_of(case, today=due + timedelta(days=5))
    assert (row["due"], row["overdue"]) == ("", False)


def test_the_consult_time_is_the_live_booking_in_japan_time():
    case = ready_case()
    booking = Booking.objects.get(case=case, cancelled_at__isnull=True)
    row = row_of(case, now=jst_now())
    assert row["consult_at"] == booking.starts_at.astimezone(JST).strftime("%Y-%m-%d %H:%M")
    Booking.objects.filter(pk=booking.pk).update(cancelled_at=NOW)
    assert row_of(case, now=jst_now())["consult_at"] == ""


@pytest.mark.parametrize(
    ("waited", "text", "long"),
    [
        (timedelta(seconds=20), "0 minutes", False),
        (timedelta(minutes=59), "59 minutes", False),
        (timedelta(hours=1), "1 hour", False),
        (timedelta(hours=23, minutes=59), "23 hours", False),
        (timedelta(days=1), "1 day", False),
        (timedelta(days=6, hours=23, minutes=59), "6 days", False),
        (timedelta(days=7), "7 days", True),
        (timedelta(days=400), "400 days", True),
        (timedelta(minutes=-5), "0 minutes", False),  # a clock a little ahead: never negative
    ],
)
def test_the_waiting_time_in_its_coarsest_unit(waited, text, long):
    case = case_in(Status.SUBMITTED)
    Case.objects.filter(pk=case.pk).update(status_changed_at=NOW - waited)
    with translation.override("en"):
        row = row_of(case)
    assert (row["waited"], row["waited_long"]) == (text, long)
    assert row["waiting_since"] == (NOW - waited).strftime("%Y-%m-%d %H:%M")


def test_labels_come_in_the_active_language():
    case = case_in(Status.SCREENING, channel="phone")
    with translation.override("ja"):
        row = row_of(case)
        assert row["status_label"] == str(STAFF_STATUS_LABELS[Status.SCREENING])
        assert row["channel_label"] == str(Channel.PHONE.label)
    with translation.override("en"):
        english = row_of(case)
    assert row["status_label"] != english["status_label"] == "Screening"
    assert row["channel_label"] != english["channel_label"] == "by phone"
