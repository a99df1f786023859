"""The work queue's rows, ready to print: every label, date and waiting time worked out here.

A queue page shows 50 cases; done in the template, each row took ~40 variable lookups, six
filters and six translations (about two thirds of the page's time at hospital scale, see
bench/README.md). Here each label is translated once per page and each row is a plain dict,
the cheapest thing for the template engine to read.
"""

from collections.abc import Iterable
from datetime import date, datetime
from typing import TypedDict

from django.urls import reverse

from opiniondesk.cases.kinship import Relation
from opiniondesk.cases.models import Case, Channel
from opiniondesk.cases.wording import STAFF_STATUS_LABELS, waited
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.core.time import JST, jst_now
from opiniondesk.public.wording import MODE_NAMES

# A case waiting this long is marked (the row's waiting time in bold red).
LONG_WAIT_DAYS = 7


class QueueRow(TypedDict):
    url: str
    reference: str
    patient_name: str
    family_applies: bool
    channel: str  # "" for online, else the channel's value (data-channel)
    channel_label: str
    department: str
    disease: str
    mode: str
    status: str
    status_label: str
    due: str  # the open document request's due date (awaiting documents only), Y-m-d
    overdue: bool
    consult_at: str  # Y-m-d H:i JST
    id_waiting: bool
    waited: str
    waited_long: bool
    waiting_since: str  # Y-m-d H:i JST


def queue_rows(cases: Iterable[Case], *, now: datetime, today: date) -> list[QueueRow]:
    """The rows of a queue page; `cases` come from selectors.case_queue (with its annotations)."""
    labels: dict[object, str] = {}

    def label(key: object, text: object) -> str:
        if key not in labels:
            labels[key] = str(text)
        return labels[key]

    rows = []
    for case in cases:
        awaiting = case.status == Status.AWAITING_DOCUMENTS
        due: date | None = case.request_due if awaiting else None
        consult_at: datetime | None = case.consult_at
        since: datetime = case.waiting_since
        online = case.channel == Channel.ONLINE
        rows.append(
            QueueRow(
                url=reverse("staff-case", args=[case.pk]),
                reference=case.reference,
                patient_name=case.patient_name,
                family_applies=case.applicant_relation not in ("", Relation.SELF),
                channel="" if online else case.channel,
                channel_label="" if online else label(case.channel, Channel(case.channel).label),
                department=case.department.local_name,
                disease=case.disease.local_name,
                mode=label(case.mode, MODE_NAMES[Mode(case.mode)]) if case.mode else "",
                status=case.status,
                status_label=label(case.status, STAFF_STATUS_LABELS[Status(case.status)]),
                due=due.isoformat() if due else "",
                overdue=due is not None and due < today,
                consult_at=_jst(consult_at),
                id_waiting=bool(case.id_waiting),
                waited=waited(since, now),
                waited_long=(now - since).days >= LONG_WAIT_DAYS,
                waiting_since=_jst(since),
            )
        )
    return rows


def page_rows(cases: Iterable[Case]) -> list[QueueRow]:
    """queue_rows at this moment."""
    now = jst_now()
    return queue_rows(cases, now=now, today=now.date())


def _jst(moment: datetime | None) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M") if moment else ""
