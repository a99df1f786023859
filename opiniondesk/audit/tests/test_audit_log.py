from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from opiniondesk.audit.chain import GENESIS, ChainedEvent, event_hash, first_break
from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.audit.services import audit_record

pytestmark = pytest.mark.django_db


def _write_three(user):
    request = RequestFactory().get("/cases/7/", REMOTE_ADDR="2001:0db8:0000::0001")
    request.user = user
    audit_record(action=AuditAction.READ, request=request, case_id=7, detail={"page": "case"})
    audit_record(action=AuditAction.UPDATE, user=user, case_id=7, obj=user)
    audit_record(action=AuditAction.DOWNLOAD, user=user, case_id=8, detail={"file": "紹介状.pdf"})


def _verify():
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


def test_it_records_who_what_when_where(coordinator_sato):
    _write_three(coordinator_sato)
    first = AuditEvent.objects.get(sequence=1)
    assert first.username == "coordinator_sato"
    assert first.action == "read"
    assert first.case_id == 7
    assert first.source_address == "2001:db8::1"
    assert first.prev_hash == GENESIS
    assert AuditEvent.objects.get(sequence=2).object_type == "accounts.User"
    assert "3 events verified" in _verify()


def test_it_refuses_edits_and_deletes_through_the_orm(coordinator_sato):
    _write_three(coordinator_sato)
    event = AuditEvent.objects.get(sequence=2)
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(sequence=2).update(action="read")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


def test_it_refuses_edits_in_the_database_itself(coordinator_sato):
    _write_three(coordinator_sato)
    before = list(AuditEvent.objects.order_by("sequence").values())
    # The trigger's own message (migration 0002), so that no other database error passes.
    with (
        pytest.raises(DatabaseError, match="the audit log is append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditevent SET action = 'read' WHERE sequence = 2")
    assert list(AuditEvent.objects.order_by("sequence").values()) == before


def _tamper(sql, params):
    """What an attacker with database access does: drop the guard, then edit."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
        cursor.execute(sql, params)


def test_the_chain_reports_an_edited_event(coordinator_sato):
    _write_three(coordinator_sato)
    _tamper("UPDATE audit_auditevent SET username = %s WHERE sequence = 2", ["someone_else"])
    with pytest.raises(CommandError, match="broken at event 2: its content was changed"):
        _verify()


def test_the_chain_reports_a_deleted_event(coordinator_sato):
    _write_three(coordinator_sato)
    _tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [2])
    with pytest.raises(CommandError, match="broken at event 2: event 2 is missing"):
        _verify()


def test_the_chain_reports_a_deleted_tail(coordinator_sato):
    _write_three(coordinator_sato)
    _tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [3])
    with pytest.raises(CommandError, match="broken at event 3: events after 2 were deleted"):
        _verify()


def test_an_empty_log_is_intact():
    assert "0 events verified" in _verify()


@pytest.mark.parametrize(
    "mutate,sequence,problem",
    [
        (lambda evs: evs[:1] + evs[2:], 2, "missing"),
        (
            lambda evs: [evs[0], ChainedEvent(2, "f" * 64, evs[1].hash, evs[1].fields), evs[2]],
            2,
            "link",
        ),
        (
            lambda evs: [evs[0], ChainedEvent(2, evs[1].prev_hash, evs[1].hash, {"x": 1}), evs[2]],
            2,
            "changed",
        ),
        (lambda evs: evs[:2], 3, "deleted"),
    ],
)
def test_first_break_finds_the_first_fault(mutate, sequence, problem):
    events, prev = [], GENESIS
    for n in (1, 2, 3):
        fields = {"sequence": n, "action": "read"}
        h = event_hash(prev, fields)
        events.append(ChainedEvent(n, prev, h, fields))
        prev = h
    assert first_break(events, head_sequence=3, head_hash=prev) is None
    broken = first_break(mutate(events), head_sequence=3, head_hash=prev)
    assert broken.sequence == sequence
    assert problem in broken.problem


def test_the_admin_shows_the_log_read_only(client, coordinator_sato, admin_kato):
    _write_three(coordinator_sato)
    client.force_login(admin_kato)
    listing = client.get("/admin/audit/auditevent/?action=download")
    assert listing.status_code == 200
    assert "紹介状" not in listing.content.decode()  # the detail is not in the list
    event = AuditEvent.objects.get(sequence=3)
    page = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert AuditEvent.objects.count() == 3
