"""The lead-time page (issue #16 item 11): the coordinator sees every department, a department
head (a specialist flagged `is_department_head`) only theirs, anyone else nothing; the figures
come from the recorded transitions and the opinion's delivery; the cases waiting longest link to
the case page and their reading is audited; the page asks the database as often for many cases
as for one; bad filters get a Japanese message."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.cases.models import CaseTransition
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import JST
from opiniondesk.demo.billing import DELIVERY_DETAILS
from opiniondesk.opinions import services as opinions
from opiniondesk.testing.builders import case_in, completed_case, opinion_signed
from opiniondesk.testing.personas import persona

pytestmark = pytest.mark.django_db

NOW = "2026-11-25 10:00 +0900"
URL = reverse("staff-lead-times")


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=JST)


def recorded(case, **times: datetime):
    """The case's transitions to each state (by name) as if recorded at these times."""
    for status, moment in times.items():
        assert CaseTransition.objects.filter(case=case, to_status=status).update(at=moment)
    return case


def screened(days: float, department="cardiology", **kwargs):
    """A case sent on 2 November and screened `days` later, now accepted."""
    disease = "parkinsons_disease" if department == "neurology" else "heart_failure"
    case = case_in(Status.ACCEPTED, department=department, disease=disease, **kwargs)
    start = at(11, 2)
    return recorded(
        case,
        submitted=start,
        screening=start + timedelta(days=days),
        referred=start + timedelta(days=days),
        accepted=start + timedelta(days=days + 1),
    )


def page(user, query=""):
    client = Client()
    client.force_login(user)
    return client.get(f"{URL}{query}")


def head(username="dr_tanaka"):
    user = persona(username)
    user.is_department_head = True
    user.save(update_fields=["is_department_head"])
    return user


def cell(html: str, department: str, month: str, step: int) -> str:
    """The text of one figure: the table of `department`, the row of `month`, the `step`th."""
    table = html.split(f'data-department="{department}"')[1].split("</table>")[0]
    row = table.split(f'data-month="{month}"')[1].split("</tr>")[0]
    return row.split("<td")[step].split("</td>")[0]


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_coordinator_sees_each_departments_median_and_90th_percentile(seeded):
    for days in (2, 4):
        screened(days)
    screened(10, department="neurology", specialist=persona("dr_mori"))
    html = page(persona("coordinator_sato")).content.decode()
    first = cell(html, "cardiology", "2026-11", 1)  # application → screening
    assert "3.0 / 3.8" in first and "(2" in first, first
    assert "10.0 / 10.0" in cell(html, "neurology", "2026-11", 1)
    assert "4.0 / 8.8" in cell(html, "all", "all", 1)  # 2, 4, 10: rank 1.8 → 4 + 0.8 × 6
    assert "1.0 / 1.0" in cell(html, "cardiology", "all", 2)  # screening → acceptance
    assert "—" in cell(html, "cardiology", "2026-10", 1)  # no step ended in October
    assert 'data-month="2025-12"' in html and 'data-month="2025-11"' not in html  # 12 months
    assert 'name="start" value="2025-12"' in html and 'name="end" value="2026-11"' in html


def test_a_department_head_sees_only_their_department(seeded):
    screened(2)
    screened(10, department="neurology", specialist=persona("dr_mori"))
    response = page(head())
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-department="cardiology"' in html
    assert 'data-department="neurology"' not in html and 'data-department="all"' not in html
    assert 'href="/staff/lead-times/"' in html  # in the staff menu
    # Another department asked for by hand: refused in Japanese, no figures.
    other = page(head(), "?department=" + str(persona("dr_mori").departments.get().pk))
    body = other.content.decode()
    assert "担当の診療科から選んでください。" in body and "data-department" not in body


@pytest.mark.parametrize("who", ["dr_kato", "billing_ito", "admin_kato", "patient_hana"])
def test_nobody_else_sees_lead_times(who, seeded):
    response = page(persona(who))
    assert response.status_code == 403
    if who == "dr_kato":  # a specialist who is not the head: no link either
        home = Client()
        home.force_login(persona(who))
        assert 'href="/staff/lead-times/"' not in home.get(reverse("staff-home")).content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?start=2026-13", "月は 2026-04 のように入力してください。"),
        ("?start=2026-10&end=2026-09", "開始月は終了月と同じか、それより前にしてください。"),
        ("?start=2020-01&end=2026-11", "36か月以内で選んでください。"),
    ],
)
def test_bad_filters_get_a_japanese_message(query, message, seeded):
    screened(2)
    html = page(persona("coordinator_sato"), query).content.decode()
    assert message in html and "data-department" not in html


def test_a_month_range_chooses_the_months(seeded):
    screened(2)
    html = page(persona("coordinator_sato"), "?start=2026-10&end=2026-10").content.decode()
    assert 'data-month="2026-10"' in html and 'data-month="2026-11"' not in html
    assert "—" in cell(html, "cardiology", "all", 1)  # the step ended in November


def test_the_cases_waiting_longest_link_to_the_case_and_the_read_is_audited(seeded):
    old = recorded(case_in(Status.SCREENING), submitted=at(10, 1), screening=at(10, 5))
    new = recorded(case_in(Status.SCREENING), submitted=at(11, 1), screening=at(11, 20))
    html = page(persona("coordinator_sato")).content.decode()
    waiting = html.split('id="waiting"')[1]
    assert waiting.index(old.reference) < waiting.index(new.reference)
    assert f'href="/staff/cases/{old.pk}/"' in waiting and old.patient_name in waiting
    assert "<strong>51</strong>" in waiting  # 5 October 10:00 to 25 November 10:00
    event = AuditEvent.objects.filter(action=AuditAction.READ, detail__page="lead times").get()
    assert sorted(event.detail["cases"]) == sorted([old.pk, new.pk])


def test_a_head_sees_no_name_of_a_case_not_yet_referred(seeded):
    screening = recorded(case_in(Status.SCREENING), submitted=at(11, 1), screening=at(11, 2))
    referred = screened(1)  # accepted: the department's own
    html = page(head()).content.decode().split('id="waiting"')[1]
    assert screening.reference in html and f'href="/staff/cases/{screening.pk}/"' not in html
    assert f'href="/staff/cases/{referred.pk}/"' in html


def test_the_consult_and_the_opinion_sent_come_from_the_recorded_history(seeded):
    case = completed_case()
    opinion_signed(case)
    opinions.delivery_details_save(
        case_id=case.pk, actor=persona("coordinator_sato"), **DELIVERY_DETAILS
    )
    opinions.post_record(
        case_id=case.pk, actor=persona("coordinator_sato"), posted_on=at(11, 25).date()
    )
    recorded(case, booked=at(11, 10), in_consult=at(11, 18))  # the delivery: now, 25 November
    html = page(persona("coordinator_sato")).content.decode()
    assert "8.0 / 8.0" in cell(html, "cardiology", "2026-11", 4)  # booking → consult
    assert "7.0 / 7.0" in cell(html, "cardiology", "2026-11", 5)  # consult → opinion sent
    assert f'data-waiting-case="{case.pk}"' not in html  # it waits for nothing more


def _queries(user) -> int:
    client = Client()
    client.force_login(user)
    client.get(URL)  # the session and the language warmed up
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_the_page_asks_as_often_for_many_cases_as_for_one(seeded):
    sato = persona("coordinator_sato")
    screened(2)
    recorded(case_in(Status.SCREENING), submitted=at(11, 1), screening=at(11, 2))
    one = _queries(sato)
    for days in range(5):
        screened(days)
        recorded(case_in(Status.SCREENING), submitted=at(11, 1), screening=at(11, 3))
        screened(days, department="neurology", specialist=persona("dr_mori"))
    assert _queries(sato) == one
