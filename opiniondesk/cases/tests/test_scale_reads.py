"""The reads that must stay flat with years of cases (issue #17 item 4): the counts kept by
triggers agree with a scan for every role, however the cases got there; the queue and the API
page by cursor through every case once, in order, both ways; the "ID to check" flag follows
the upload and the check."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from opiniondesk.cases.keyset import Cursor, cursor_decode, cursor_encode, keyset_page
from opiniondesk.cases.lifecycle import case_lock, case_transition
from opiniondesk.cases.models import Case, CaseStateCount
from opiniondesk.cases.selectors import (
    QueueFilters,
    case_counts_by_status,
    case_queue,
    case_queue_count,
    cases_visible_to,
)
from opiniondesk.cases.state_counts import SHARDS, ensure_triggers, rebuild, recount
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.models import Department
from opiniondesk.core.time import jst_today
from opiniondesk.documents.models import Document, DocumentKind
from opiniondesk.readiness.services import identity_review
from opiniondesk.records.services import case_purge
from opiniondesk.testing.builders import add_document, case_in, completed_case
from opiniondesk.testing.personas import persona

pytestmark = pytest.mark.django_db

STAFF = ["coordinator_sato", "dr_tanaka", "dr_mori", "billing_ito", "admin_kato"]


def scanned(username: str) -> dict[str, int]:
    """What case_counts_by_status said before the counts were kept: a scan."""
    counts: dict[str, int] = {}
    for case in cases_visible_to(persona(username)):
        counts[case.status] = counts.get(case.status, 0) + 1
    return counts


def kept_rows() -> dict[tuple, int]:
    return {
        (c.status, c.department_id, c.channel, c.mode, c.referred, c.shard): c.n
        for c in CaseStateCount.objects.filter(n__gt=0)
    }


@pytest.fixture
def mixed_cases():
    """Cases in every state the builders reach, two departments, online and on paper, both
    modes, one withdrawn before any referral and one after."""
    built = [case_in(status) for status in Status if status in _BUILT]
    built += [
        case_in(Status.DRAFT, channel="post"),
        case_in(Status.DRAFT),  # online: the applicant's alone
        case_in(Status.REFERRED, department="neurology", disease="parkinsons_disease"),
        case_in(Status.ACCEPTED, mode="in_person"),
        case_in(Status.SUBMITTED, channel="phone"),
        completed_case(),
    ]
    referred = case_in(Status.REFERRED)
    with_lock = case_lock(referred.pk)
    case_transition(case=with_lock, to=Status.WITHDRAWN, actor=persona("coordinator_sato"))
    return built


_BUILT = {
    Status.DRAFT,
    Status.SUBMITTED,
    Status.SCREENING,
    Status.AWAITING_DOCUMENTS,
    Status.REJECTED,
    Status.REFERRED,
    Status.DECLINED,
    Status.ACCEPTED,
    Status.WITHDRAWN,
}


@pytest.mark.parametrize("username", STAFF)
def test_the_kept_counts_agree_with_a_scan_for_every_role(mixed_cases, username):
    assert case_counts_by_status(user=persona(username)) == scanned(username)


def test_every_kind_of_write_keeps_the_counts(mixed_cases):
    before = kept_rows()
    recount(connection)
    assert kept_rows() == before  # the triggers had counted what a recount counts

    case = mixed_cases[0]
    neurology = Department.objects.get(code="neurology")
    Case.objects.filter(pk=case.pk).update(department=neurology, mode="in_person")
    Case.objects.filter(pk=mixed_cases[1].pk).update(updated_at=timezone.now())  # no key change
    Case.objects.filter(pk=mixed_cases[2].pk).update(referred_at=timezone.now())
    ended = case_in(Status.WITHDRAWN, documents=False)  # purged past its retention: a delete
    case_purge(case_id=ended.pk, years=5, today=jst_today() + timedelta(days=6 * 366), by="test")
    assert not Case.objects.filter(pk=ended.pk).exists()
    changed = kept_rows()
    recount(connection)
    assert kept_rows() == changed
    assert not CaseStateCount.objects.filter(n__lt=0).exists()
    for username in STAFF:
        assert case_counts_by_status(user=persona(username)) == scanned(username)


def test_triggers_come_back_after_they_were_lost_and_the_counts_with_them(mixed_cases):
    before = kept_rows()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER case_count_insert ON cases_case")
        else:
            cursor.execute("DROP TRIGGER case_count_insert")
    case_in(Status.SUBMITTED)  # not counted: the trigger is gone
    assert kept_rows() != scanned_rows()
    assert ensure_triggers(connection) is True
    assert kept_rows() == scanned_rows() and kept_rows() != before
    assert ensure_triggers(connection) is False


def test_a_rebuild_replaces_the_triggers_and_counts_again(mixed_cases):
    # As the migration that spread the counts over shards did, on a database full of cases.
    before = kept_rows()
    CaseStateCount.objects.all().delete()
    rebuild(connection)
    assert kept_rows() == before == scanned_rows()
    case_in(Status.SUBMITTED)
    assert kept_rows() == scanned_rows()


def scanned_rows() -> dict[tuple, int]:
    rows: dict[tuple, int] = {}
    for case in Case.objects.all():
        key = (
            case.status,
            case.department_id or 0,
            case.channel,
            case.mode,
            bool(case.referred_at),
            case.pk % SHARDS,
        )
        rows[key] = rows.get(key, 0) + 1
    return rows


def test_referred_at_is_the_first_referral_only():
    case = case_in(Status.REFERRED)
    first = Case.objects.get(pk=case.pk).referred_at
    assert first is not None
    sato, tanaka = persona("coordinator_sato"), persona("dr_tanaka")
    case_transition(case=case_lock(case.pk), to=Status.DECLINED, actor=tanaka)
    assert Case.objects.get(pk=case.pk).referred_at == first
    assert case_in(Status.SCREENING).referred_at is None
    assert sato  # the coordinator refers (builders); the doctor declines


def test_the_id_to_check_flag_follows_the_upload_and_the_check():
    case = case_in(Status.ACCEPTED)
    document = add_document(case, DocumentKind.PATIENT_ID, id_type="drivers_licence")
    other = add_document(case, DocumentKind.TEST_DATA, test_data_kind="blood")
    assert Document.objects.get(pk=document.pk).identity_check_pending
    assert not Document.objects.get(pk=other.pk).identity_check_pending
    sato = persona("coordinator_sato")
    waiting = QueueFilters(states=None, ids_to_check=True)
    assert [c.pk for c in case_queue(user=sato, filters=waiting)] == [case.pk]
    identity_review(document_id=document.pk, actor=sato, verified=True)
    assert not Document.objects.get(pk=document.pk).identity_check_pending
    assert list(case_queue(user=sato, filters=waiting)) == []


def test_cursors_refuse_what_they_did_not_make():
    good = Cursor(timezone.now(), 12, False, 3)
    assert cursor_decode(cursor_encode(good)) == good
    for token in ["", "x", "!!!", "a" * 300, cursor_encode(good)[:-3]]:
        assert cursor_decode(token) is None
    naive = Cursor(timezone.now().replace(tzinfo=None), 1, False, 2)
    assert cursor_decode(cursor_encode(naive)) is None
    for bad in [Cursor(timezone.now(), 0, False, 2), Cursor(timezone.now(), 1, True, 1)]:
        assert cursor_decode(cursor_encode(bad)) is None


@pytest.fixture
def many_cases():
    """23 sent cases, several waiting since the same instant (ties broken by id)."""
    cases = [case_in(Status.SUBMITTED, documents=False) for _ in range(23)]
    start = timezone.now() - timedelta(days=30)
    for i, case in enumerate(cases):
        Case.objects.filter(pk=case.pk).update(status_changed_at=start + timedelta(hours=i // 3))
    return cases


@pytest.mark.parametrize("descending", [False, True])
def test_a_keyset_walk_meets_every_case_once_in_order_both_ways(many_cases, descending):
    rows = Case.objects.filter(pk__in=[c.pk for c in many_cases])
    expected = list(
        rows.order_by(*(("-waiting_since", "-pk") if descending else ("waiting_since", "pk")))
    )
    pages, cursor = [], None
    while True:
        page = keyset_page(rows, key="waiting_since", descending=descending, cursor=cursor, size=5)
        pages.append(page)
        if page.next is None:
            break
        cursor = cursor_decode(cursor_encode(page.next))
    assert [c.pk for page in pages for c in page] == [c.pk for c in expected]
    assert [page.number for page in pages] == [1, 2, 3, 4, 5]
    back, cursor = [pages[-1]], pages[-1].previous
    while cursor is not None:
        page = keyset_page(rows, key="waiting_since", descending=descending, cursor=cursor, size=5)
        back.insert(0, page)
        cursor = page.previous
    assert [[c.pk for c in p] for p in back] == [[c.pk for c in p] for p in pages]
    assert [page.number for page in back] == [1, 2, 3, 4, 5]


def test_the_queue_pages_by_cursor_and_counts_from_the_kept_counts(
    client, many_cases, django_assert_max_num_queries
):
    sato = persona("coordinator_sato")
    client.force_login(sato)
    url = reverse("staff-queue")
    seen: list[int] = []
    response = client.get(url, {"state": "submitted"})
    page = 1
    while True:
        assert response.status_code == 200
        html = response.content.decode()
        assert "23件" in html or "23 cases" in html
        seen += [c.pk for c in response.context["page"].items]
        assert f"{page} / 1" not in html
        if not response.context["next_cursor"]:
            break
        response = client.get(
            url, {"state": "submitted", "cursor": response.context["next_cursor"]}
        )
        page += 1
    assert seen == [c.pk for c in many_cases]  # oldest first, each once
    assert page == 1  # 23 fit on one page of 50
    # A malformed cursor shows the first page, not an error.
    assert client.get(url, {"cursor": "not-a-cursor"}).status_code == 200


def test_the_queue_walks_many_pages(client, many_cases, monkeypatch):
    from opiniondesk.desk import queue

    monkeypatch.setattr(queue, "QUEUE_PAGE_SIZE", 10)
    client.force_login(persona("coordinator_sato"))
    url = reverse("staff-queue")
    response = client.get(url, {"state": "submitted", "sort": "newest"})
    seen = []
    numbers = []
    while True:
        seen += [c.pk for c in response.context["page"].items]
        numbers.append(response.context["page"].number)
        assert response.context["pages"] == 3
        if not response.context["next_cursor"]:
            break
        next_cursor = response.context["next_cursor"]
        response = client.get(url, {"state": "submitted", "sort": "newest", "cursor": next_cursor})
    assert seen == [c.pk for c in reversed(many_cases)] and numbers == [1, 2, 3]
    previous = client.get(
        url, {"state": "submitted", "sort": "newest", "cursor": response.context["previous_cursor"]}
    )
    assert [c.pk for c in previous.context["page"].items] == seen[10:20]


def test_a_filtered_count_the_kept_counts_cannot_answer_is_capped(many_cases, monkeypatch):
    from opiniondesk.cases import selectors

    sato = persona("coordinator_sato")
    plain = QueueFilters(states=frozenset({Status.SUBMITTED}))
    assert case_queue_count(user=sato, filters=plain) == (23, False)
    waited = QueueFilters(states=frozenset({Status.SUBMITTED}), min_days_waiting=7)
    assert case_queue_count(user=sato, filters=waited) == (23, False)
    monkeypatch.setattr(selectors, "QUEUE_COUNT_CAP", 20)
    assert case_queue_count(user=sato, filters=waited) == (20, True)
