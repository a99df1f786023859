import json
import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory, TestCase

from opiniondesk.audit.chain import GENESIS, link
from opiniondesk.audit.models import AuditAction, AuditCheckpoint, AuditEvent, AuditSeal
from opiniondesk.audit.sealer import checkpoint_dir, seal
from opiniondesk.audit.services import audit_record
from opiniondesk.audit.verify import verify
from opiniondesk.core.tests.threads import run_at_once

pytestmark = pytest.mark.django_db


def _write_three(user):
    request = RequestFactory().get("/cases/7/", REMOTE_ADDR="2001:0db8:0000::0001")
    request.user = user
    return [
        audit_record(action=AuditAction.READ, request=request, case_id=7, detail={"page": "case"}),
        audit_record(action=AuditAction.UPDATE, user=user, case_id=7, obj=user),
        audit_record(
            action=AuditAction.DOWNLOAD, user=user, case_id=8, detail={"file": "紹介状.pdf"}
        ),
    ]


def _verify(*args):
    out = StringIO()
    call_command("verify_audit_log", *args, stdout=out)
    return out.getvalue()


def _seal():
    # The checkpoint file is written once the batch commits (here: the test's transaction).
    with TestCase.captureOnCommitCallbacks(execute=True):
        return seal(lag=0)


def test_it_records_who_what_when_where(coordinator_sato):
    first, second, _ = _write_three(coordinator_sato)
    first = AuditEvent.objects.get(sequence=first.sequence)
    assert first.username == "coordinator_sato"
    assert first.action == "read"
    assert first.case_id == 7
    assert first.source_address == "2001:db8::1"
    assert len(first.mac) == 64
    assert second.sequence > first.sequence  # the database's order of insertion
    assert AuditEvent.objects.get(sequence=second.sequence).object_type == "accounts.User"
    assert "3 events verified" in _verify("--full")


def test_the_sealer_chains_committed_events_and_signs_a_checkpoint(coordinator_sato):
    events = _write_three(coordinator_sato)
    # Too recent for the default lag: the newest ids may belong to transactions still open.
    assert seal(lag=3600).events == 0
    result = _seal()
    assert result.events == 3
    seals = list(AuditSeal.objects.order_by("position"))
    assert [s.event_id for s in seals] == [e.sequence for e in events]
    head = GENESIS
    for s, e in zip(seals, events, strict=True):
        head = link(head, e.mac)
        assert s.chain_hash == head
    checkpoint = AuditCheckpoint.objects.get(number=result.checkpoints[0])
    assert (checkpoint.last_position, checkpoint.head_hash) == (3, head)
    external = json.loads((checkpoint_dir() / f"{checkpoint.number:012d}.json").read_text())
    assert external == {"body": checkpoint.body, "signature": checkpoint.signature}
    assert _seal().events == 0  # nothing twice
    audit_record(action=AuditAction.LOGIN, user=coordinator_sato)
    assert _seal().events == 1
    assert AuditSeal.objects.order_by("-position").first().position == 4
    assert "4 events verified" in _verify("--full")


def test_the_sealer_seals_in_batches_across_the_gaps_rolled_back_writes_leave(coordinator_sato):
    kept = []
    for round_ in range(4):
        kept += _write_three(coordinator_sato)
        try:  # a change that fails after its event was written: PostgreSQL keeps the id used
            with transaction.atomic():
                for __ in range(round_ + 1):
                    audit_record(action=AuditAction.READ, user=coordinator_sato)
                raise RuntimeError
        except RuntimeError:
            pass
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = seal(lag=0, batch=2)
    assert result.events == 12
    assert len(result.checkpoints) >= 6  # at most two events per batch
    sealed = AuditSeal.objects.order_by("position").values_list("event_id", flat=True)
    assert list(sealed) == [e.sequence for e in kept]
    assert "12 events verified" in _verify("--full")


def test_verification_is_incremental_from_the_last_good_checkpoint(coordinator_sato):
    _write_three(coordinator_sato)
    _seal()
    assert "3 events verified" in _verify()
    audit_record(action=AuditAction.LOGIN, user=coordinator_sato)
    _seal()
    out = _verify()
    assert "1 events verified from checkpoint 1" in out


def test_it_refuses_edits_and_deletes_through_the_orm(coordinator_sato):
    event = _write_three(coordinator_sato)[1]
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(sequence=event.sequence).update(action="read")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


def _guarded(sql, params):
    with (
        pytest.raises(DatabaseError, match="the audit log is append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL opiniondesk.audit_flush = 'off'")
        cursor.execute(sql, params)


def test_it_refuses_edits_and_deletes_in_the_database_itself(coordinator_sato, settings):
    settings.AUDIT_ALLOW_FLUSH = False  # as in production (only a test run's flush may empty it)
    event = _write_three(coordinator_sato)[1]
    _seal()
    before = list(AuditEvent.objects.order_by("sequence").values())
    # The trigger's own message (migration 0003), so that no other database error passes.
    _guarded("UPDATE audit_auditevent SET action = 'read' WHERE sequence = %s", [event.sequence])
    _guarded("DELETE FROM audit_auditevent WHERE sequence = %s", [event.sequence])
    _guarded("DELETE FROM audit_auditseal WHERE position = %s", [2])
    _guarded("UPDATE audit_auditcheckpoint SET head_hash = %s", ["0" * 64])
    if connection.vendor == "postgresql":
        _guarded("TRUNCATE audit_auditevent", [])
    assert list(AuditEvent.objects.order_by("sequence").values()) == before


def _tamper(*statements):
    """What an attacker with the database does: drop the guards, then edit."""
    with connection.cursor() as cursor:
        for table in ("audit_auditevent", "audit_auditseal", "audit_auditcheckpoint"):
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        for sql, params in statements:
            cursor.execute(sql, params)


def _broken(*args):
    with pytest.raises(CommandError) as error:
        _verify("--full", *args)
    return str(error.value)


def test_an_edited_event_is_named(coordinator_sato):
    events = _write_three(coordinator_sato)
    _seal()
    audit_record(action=AuditAction.LOGIN, user=coordinator_sato)  # one not yet sealed, too
    _tamper(
        (
            "UPDATE audit_auditevent SET username = %s, source_address = %s WHERE sequence = %s",
            ["someone_else", "192.0.2.1", events[1].sequence],
        )
    )
    assert f"broken at event {events[1].sequence}: its content was changed" in _broken()


def test_an_edited_unsealed_event_is_named(coordinator_sato):
    event = _write_three(coordinator_sato)[2]
    _tamper(("UPDATE audit_auditevent SET case_id = 9 WHERE sequence = %s", [event.sequence]))
    assert f"broken at event {event.sequence}: its content was changed" in _broken()


def test_a_deleted_event_is_named(coordinator_sato):
    events = _write_three(coordinator_sato)
    _seal()
    _tamper(("DELETE FROM audit_auditevent WHERE sequence = %s", [events[1].sequence]))
    assert f"broken at event {events[1].sequence}: it was deleted" in _broken()


def test_a_deleted_event_and_its_seal_are_found(coordinator_sato):
    events = _write_three(coordinator_sato)
    _seal()
    _tamper(
        ("DELETE FROM audit_auditevent WHERE sequence = %s", [events[1].sequence]),
        ("DELETE FROM audit_auditseal WHERE position = %s", [2]),
    )
    message = _broken()
    assert f"broken at event {events[2].sequence}: events at positions 2 to 2" in message


def test_a_reordered_chain_is_found(coordinator_sato):
    events = _write_three(coordinator_sato)
    _seal()
    a, b = events[0].sequence, events[1].sequence
    _tamper(  # the seals of the first two events swapped
        ("UPDATE audit_auditseal SET event_sequence = -1 WHERE event_sequence = %s", [a]),
        ("UPDATE audit_auditseal SET event_sequence = %s WHERE event_sequence = %s", [a, b]),
        ("UPDATE audit_auditseal SET event_sequence = %s WHERE event_sequence = -1", [b]),
    )
    assert f"broken at event {b}: it is not the event sealed at this place" in _broken()


def test_a_truncated_tail_is_found(coordinator_sato):
    events = _write_three(coordinator_sato)
    _seal()
    last = events[2].sequence
    _tamper(
        ("DELETE FROM audit_auditevent WHERE sequence = %s", [last]),
        ("DELETE FROM audit_auditseal WHERE position = %s", [3]),
    )
    message = _broken()
    assert f"broken at event {last}: the tail was truncated" in message
    assert f"ends at position 2 (event {events[1].sequence})" in message


def test_a_truncated_tail_with_its_checkpoint_is_found_outside(coordinator_sato):
    events = _write_three(coordinator_sato)
    _seal()
    first = AuditCheckpoint.objects.get().number
    audit_record(action=AuditAction.LOGIN, user=coordinator_sato)
    _seal()
    _tamper(  # the last event, its seal and its checkpoint: the database alone looks whole
        ("DELETE FROM audit_auditevent WHERE sequence > %s", [events[2].sequence]),
        ("DELETE FROM audit_auditseal WHERE position > %s", [3]),
        ("DELETE FROM audit_auditcheckpoint WHERE number > %s", [first]),
    )
    message = _broken()
    assert f"broken at event {events[2].sequence}: rolled back to checkpoint {first}" in message
    assert "the events sealed after position 3 are missing" in message


def test_a_wiped_log_is_found(coordinator_sato):
    _write_three(coordinator_sato)
    _seal()
    _tamper(
        ("DELETE FROM audit_auditevent", []),
        ("DELETE FROM audit_auditseal", []),
        ("DELETE FROM audit_auditcheckpoint", []),
    )
    assert "broken at the log: the log was emptied" in _broken()


def test_a_recomputed_chain_is_found(coordinator_sato):
    events = _write_three(coordinator_sato)
    _seal()
    # The attacker swaps the first two events in the chain and recomputes every link (SHA-256
    # needs no key; the MACs stay valid), but cannot sign a checkpoint for the new head.
    first, second, third = events
    heads = [link(GENESIS, second.mac)]
    heads.append(link(heads[0], first.mac))
    heads.append(link(heads[1], third.mac))
    _tamper(
        ("DELETE FROM audit_auditseal", []),
        *[
            (
                "INSERT INTO audit_auditseal (position, event_sequence, chain_hash)"
                " VALUES (%s, %s, %s)",
                [n + 1, event.sequence, heads[n]],
            )
            for n, event in enumerate([second, first, third])
        ],
    )
    message = _broken()
    assert f"broken at event {second.sequence}: the chain was recomputed" in message
    assert "differs from signed checkpoint 1" in message


def test_a_forged_checkpoint_is_found(coordinator_sato):
    _write_three(coordinator_sato)
    _seal()
    checkpoint = AuditCheckpoint.objects.get()
    body = checkpoint.body.replace('"last_position":3', '"last_position":2')
    _tamper(("UPDATE audit_auditcheckpoint SET body = %s", [body]))
    assert "does not verify against its signature" in _broken()


def test_a_restored_backup_is_reported_until_acknowledged(coordinator_sato):
    events = _write_three(coordinator_sato)
    _seal()
    backup = AuditCheckpoint.objects.get().number
    # More activity after the backup, sealed and checkpointed outside the database.
    for _ in range(2):
        audit_record(action=AuditAction.LOGIN, user=coordinator_sato)
        _seal()
    # The restore: the database as it was at the backup.
    _tamper(
        ("DELETE FROM audit_auditevent WHERE sequence > %s", [events[2].sequence]),
        ("DELETE FROM audit_auditseal WHERE position > 3", []),
        ("DELETE FROM audit_auditcheckpoint WHERE number > %s", [backup]),
    )
    assert f"rolled back to checkpoint {backup}" in _broken()
    out = _verify("--accept-restore")
    assert f"Restore acknowledged: rolled back to checkpoint {backup}" in out
    assert "Audit log intact: 3 events verified" in out
    assert "Audit log intact" in _verify("--full")
    # The log goes on after the restore; old checkpoint numbers are not reused.
    audit_record(action=AuditAction.LOGIN, user=coordinator_sato)
    result = _seal()
    assert result.checkpoints == [backup + 4]  # 2 and 3 abandoned, 4 the acknowledgement
    assert "4 events verified" in _verify("--full")


def test_a_checkpoint_whose_copy_was_lost_is_exported_again(coordinator_sato):
    _write_three(coordinator_sato)
    _seal()
    number = AuditCheckpoint.objects.get().number
    (checkpoint_dir() / f"{number:012d}.json").unlink()
    assert "not yet copied outside" in _verify("--full")
    _seal()
    assert (checkpoint_dir() / f"{number:012d}.json").exists()


def test_an_empty_log_is_intact():
    assert "0 events verified" in _verify()
    assert verify(full=True).intact


def test_the_admin_shows_the_log_read_only(client, coordinator_sato, admin_kato):
    event = _write_three(coordinator_sato)[2]
    client.force_login(admin_kato)
    listing = client.get("/admin/audit/auditevent/?action=download")
    assert listing.status_code == 200
    assert "紹介状" not in listing.content.decode()  # the detail is not in the list
    page = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert AuditEvent.objects.count() == 3


@pytest.fixture
def _triggers_back():
    """A transactional test's tampering drops the guards for real: put them back afterwards."""
    yield
    with connection.cursor() as cursor:
        for table in ("audit_auditevent", "audit_auditseal", "audit_auditcheckpoint"):
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_tampering_is_found_on_postgresql(coordinator_sato, _triggers_back):
    events = _write_three(coordinator_sato)
    seal(lag=0)  # committed: the checkpoint file is written after the commit, as in production
    assert "3 events verified" in _verify("--full")
    audit_record(action=AuditAction.LOGIN, user=coordinator_sato)
    seal(lag=0)
    _tamper(
        ("UPDATE audit_auditevent SET username = %s WHERE sequence = %s", ["x", events[0].sequence])
    )
    assert f"broken at event {events[0].sequence}: its content was changed" in _broken()
    _tamper(("DELETE FROM audit_auditevent WHERE sequence = %s", [events[1].sequence]))
    assert f"event {events[1].sequence}: it was deleted" in _broken()
    # A TRUNCATE passes row triggers; with the guards dropped it empties everything.
    _tamper(("TRUNCATE audit_auditevent, audit_auditseal, audit_auditcheckpoint", []))
    assert "broken at the log: the log was emptied" in _broken()
    assert "rolled back to checkpoint 0" not in _broken()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_restore_on_postgresql_is_reported_until_acknowledged(coordinator_sato, _triggers_back):
    events = _write_three(coordinator_sato)
    seal(lag=0)
    backup = AuditCheckpoint.objects.get().number
    audit_record(action=AuditAction.LOGIN, user=coordinator_sato)
    seal(lag=0)
    _tamper(
        ("DELETE FROM audit_auditevent WHERE sequence > %s", [events[2].sequence]),
        ("DELETE FROM audit_auditseal WHERE position > 3", []),
        ("DELETE FROM audit_auditcheckpoint WHERE number > %s", [backup]),
    )
    assert f"rolled back to checkpoint {backup}" in _broken()
    assert "Audit log intact: 3 events verified" in _verify("--accept-restore")


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_audit_writers_do_not_wait_on_each_other():
    # Given: one request has written its audit event and is still in its transaction.
    first_wrote, second_done = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            audit_record(action=AuditAction.READ, detail={"writer": "first"})
            first_wrote.set()
            # Then: the second writer finishes while this transaction is still open (with
            # the old chain head's row lock it waited here until this one committed).
            assert second_done.wait(10), "the second writer waited on the first"

    def second():
        assert first_wrote.wait(10)
        with transaction.atomic():
            audit_record(action=AuditAction.READ, detail={"writer": "second"})
        second_done.set()

    outcomes = run_at_once(first, second, timeout=30)
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert seal(lag=0).events == 2
    assert "2 events verified" in _verify("--full")


def test_the_periodic_sealer_seals_and_comes_back(coordinator_sato, settings):
    from opiniondesk.audit.tasks import seal_audit_log

    settings.AUDIT_SEAL_LAG = 0
    _write_three(coordinator_sato)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert seal_audit_log.call() == 3
    assert AuditSeal.objects.count() == 3
    assert "3 events verified" in _verify()
    if seal_audit_log.get_backend().supports_defer:  # the database queue: it enqueued itself
        from django_tasks_db.models import DBTaskResult

        assert DBTaskResult.objects.filter(task_path__endswith="seal_audit_log").exists()
