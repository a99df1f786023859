"""Records kept (SPEC §11.16): the database refuses to delete a case's records before they are
released, holds keep a case, and `manage.py retention` lists and purges exactly the cases past
their period — with the clock moved five years ahead."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone, translation

from opiniondesk.audit.models import AuditEvent
from opiniondesk.billing import services as billing
from opiniondesk.billing.models import Charge, Receipt
from opiniondesk.cases.lifecycle import case_lock, case_transition
from opiniondesk.cases.models import Case, CaseTransition
from opiniondesk.cases.workflow import Status
from opiniondesk.consults.models import Consult, ConsultEvent
from opiniondesk.core.time import jst_today
from opiniondesk.documents.models import Document
from opiniondesk.records import guard
from opiniondesk.records.errors import RecordsError
from opiniondesk.records.models import LegalHold, RetentionRelease
from opiniondesk.records.retention import ensure_guard, guarded_tables
from opiniondesk.records.services import case_purge, hold_lift, hold_place
from opiniondesk.testing.builders import case_in, completed_case

pytestmark = pytest.mark.django_db
FIVE_YEARS_AND_A_DAY = timedelta(days=5 * 366 + 1)


def closed_case(billing_clerk):
    """A consult held, its fee collected at the desk, then the case closed by the system."""
    case = completed_case()
    billing.collect(charge_id=case.charge.pk, actor=billing_clerk, method="cash")
    with transaction.atomic():
        case_transition(case=case_lock(case.pk), to=Status.CLOSED, actor=None)
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    return case


@pytest.fixture
def closed(billing_ito):
    return closed_case(billing_ito)


def _refused(sql, params):
    with (
        pytest.raises(IntegrityError, match="records kept"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def _counts():
    models = [Case, CaseTransition, Document, Consult, ConsultEvent, Charge, Receipt, LegalHold]
    return {m.__name__: m.objects.count() for m in models} | {
        "audit": AuditEvent.objects.count(),
        "releases": RetentionRelease.objects.count(),
    }


def _retention(*args):
    out, err = StringIO(), StringIO()
    call_command("retention", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_every_kept_table_is_guarded_in_the_database():
    assert {t.table for t in guarded_tables()} <= guard.installed(connection)


def test_raw_sql_cannot_delete_a_kept_row(closed):
    document = closed.documents.first()
    receipt = Receipt.objects.get(charge__case=closed)
    _refused("DELETE FROM documents_document WHERE id = %s", [document.pk])
    _refused("DELETE FROM billing_receipt WHERE id = %s", [receipt.pk])  # through its charge
    _refused(
        "DELETE FROM consults_consultevent WHERE consult_id IN "
        "(SELECT id FROM consults_consult WHERE case_id = %s)",
        [closed.pk],
    )
    _refused("DELETE FROM cases_casetransition WHERE case_id = %s", [closed.pk])
    _refused("DELETE FROM billing_charge WHERE case_id = %s", [closed.pk])
    _refused("DELETE FROM cases_case WHERE id = %s", [closed.pk])
    assert Document.objects.filter(pk=document.pk).exists()
    assert Receipt.objects.filter(pk=receipt.pk).exists()
    assert Case.objects.filter(pk=closed.pk).exists()


def test_nor_move_a_kept_row_to_another_case(closed):
    other = case_in(Status.SCREENING)
    document = closed.documents.first()
    _refused("UPDATE documents_document SET case_id = %s WHERE id = %s", [other.pk, document.pk])
    _refused("UPDATE billing_receipt SET charge_id = NULL WHERE charge_id = %s", [closed.charge.pk])
    assert Document.objects.get(pk=document.pk).case_id == closed.pk


def test_the_orm_cannot_delete_a_kept_row(closed):
    with pytest.raises(IntegrityError, match="records kept"), transaction.atomic():
        Receipt.objects.filter(charge__case=closed).delete()
    with pytest.raises(IntegrityError, match="records kept"), transaction.atomic():
        CaseTransition.objects.filter(case=closed).delete()
    with pytest.raises((IntegrityError, ProtectedError)), transaction.atomic():
        closed.delete()
    assert Receipt.objects.filter(charge__case=closed).count() == 1


def test_five_years_on_the_rows_are_still_kept_until_released(closed, time_machine):
    time_machine.move_to(timezone.now() + FIVE_YEARS_AND_A_DAY, tick=False)
    _refused("DELETE FROM documents_document WHERE case_id = %s", [closed.pk])
    _refused("DELETE FROM cases_case WHERE id = %s", [closed.pk])


def test_an_open_case_is_kept_whatever_its_age(billing_ito, time_machine):
    case = completed_case()
    time_machine.move_to(timezone.now() + timedelta(days=20 * 366), tick=False)
    assert "No case may be purged." in _retention("--purge", "--yes")
    assert Case.objects.filter(pk=case.pk).exists()


def test_the_listing_changes_nothing(closed, time_machine):
    time_machine.move_to(timezone.now() + FIVE_YEARS_AND_A_DAY, tick=False)
    before = _counts()
    out = _retention()
    assert closed.reference in out and "closed" in out and "kept until" in out
    assert "Nothing was deleted" in out
    assert _counts() == before


def test_nothing_may_be_purged_before_the_period_ends(closed, time_machine):
    time_machine.move_to(timezone.now() + timedelta(days=5 * 365 - 2), tick=False)
    assert "No case may be purged." in _retention("--purge", "--yes")
    assert Case.objects.filter(pk=closed.pk).exists()
    with translation.override("en"), pytest.raises(RecordsError, match="kept until"):
        case_purge(case_id=closed.pk, years=5, today=timezone.now().date(), by="test")


def test_purge_removes_exactly_the_expired_cases_and_their_files(
    billing_ito, time_machine, django_capture_on_commit_callbacks
):
    start = timezone.now()
    expired = closed_case(billing_ito)
    files = list(expired.documents.values_list("file", flat=True))
    storage = Document._meta.get_field("file").storage
    assert files and all(storage.exists(name) for name in files)
    open_case = case_in(Status.SCREENING)
    time_machine.move_to(start + timedelta(days=3 * 366), tick=False)
    recent = case_in(Status.WITHDRAWN)  # ended three years later: kept two more years
    recent_files = list(recent.documents.values_list("file", flat=True))
    time_machine.move_to(start + FIVE_YEARS_AND_A_DAY, tick=False)

    with django_capture_on_commit_callbacks(execute=True):  # the files go after the commit
        out = _retention("--purge", "--yes")

    assert f"{expired.reference}: purged" in out and "Purged 1 case(s)" in out
    assert not Case.objects.filter(pk=expired.pk).exists()
    for model in (CaseTransition, Document, Consult, Charge):
        assert not model.objects.filter(case_id=expired.pk).exists()
    assert not Receipt.objects.filter(charge__case_id=expired.pk).exists()
    assert not any(storage.exists(name) for name in files)
    assert Case.objects.filter(pk__in=[open_case.pk, recent.pk]).count() == 2
    assert all(storage.exists(name) for name in recent_files)
    release = RetentionRelease.objects.get()
    assert (release.case_id, release.final_status) == (expired.pk, "closed")
    # One audit entry says what went; the audit log itself is kept whole.
    purge = AuditEvent.objects.get(case_id=expired.pk, detail__event="records purged")
    assert purge.detail["rows"]["cases.Case"] == 1 and purge.detail["files"] == len(files)
    assert AuditEvent.objects.filter(case_id=expired.pk).count() > 1
    # A second run finds nothing more.
    assert "No case may be purged." in _retention("--purge", "--yes")


def test_a_case_on_hold_is_kept_then_purged_once_the_hold_is_lifted(
    closed, admin_kato, time_machine
):
    hold = hold_place(case_id=closed.pk, actor=admin_kato, reason="訴訟の可能性")
    time_machine.move_to(timezone.now() + FIVE_YEARS_AND_A_DAY, tick=False)
    out = _retention("--purge", "--yes")
    assert "ON LEGAL HOLD" in out and "No case may be purged." in out
    assert Case.objects.filter(pk=closed.pk).exists()
    # Even a release written by hand does not let rows go while the hold lasts.
    RetentionRelease.objects.create(
        case_id=closed.pk,
        reference=closed.reference,
        final_status="closed",
        ended_at=timezone.now(),
        kept_until=timezone.now().date(),
        released_at=timezone.now(),
        released_by="someone",
    )
    _refused("DELETE FROM documents_document WHERE case_id = %s", [closed.pk])
    RetentionRelease.objects.all().delete()

    hold_lift(hold_id=hold.pk, actor=admin_kato, reason="和解成立")
    assert "Purged 1 case(s)" in _retention("--purge", "--yes")
    assert not Case.objects.filter(pk=closed.pk).exists()
    assert not LegalHold.objects.exists()


def test_purging_asks_first(closed, time_machine, monkeypatch):
    time_machine.move_to(timezone.now() + FIVE_YEARS_AND_A_DAY, tick=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    assert "Nothing was deleted." in _retention("--purge")
    assert Case.objects.filter(pk=closed.pk).exists()
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    assert "Purged 1 case(s)" in _retention("--purge")
    assert not Case.objects.filter(pk=closed.pk).exists()


def test_a_failed_purge_leaves_everything(closed, time_machine):
    """A row the purge does not know how to reach stops it: the whole case stays, files too."""
    time_machine.move_to(timezone.now() + FIVE_YEARS_AND_A_DAY, tick=False)
    files = list(closed.documents.values_list("file", flat=True))
    storage = Document._meta.get_field("file").storage
    # A hold placed behind the command's back, straight in the database, after the listing.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO records_legalhold (case_id, reason, placed_by_id, placed_at,"
            " lift_reason) SELECT %s, 'x', id, %s, '' FROM accounts_user LIMIT 1",
            [closed.pk, timezone.now()],
        )
    with translation.override("en"), pytest.raises(RecordsError, match="legal hold"):
        case_purge(case_id=closed.pk, years=5, today=timezone.now().date(), by="test")
    assert Case.objects.filter(pk=closed.pk).exists()
    assert not RetentionRelease.objects.exists()
    assert all(storage.exists(name) for name in files)


def test_only_admins_place_and_lift_holds(closed, coordinator_sato, admin_kato):
    with pytest.raises(RecordsError):
        hold_place(case_id=closed.pk, actor=coordinator_sato, reason="x")
    with pytest.raises(RecordsError):
        hold_place(case_id=closed.pk, actor=admin_kato, reason="  ")
    hold = hold_place(case_id=closed.pk, actor=admin_kato, reason="保全")
    with pytest.raises(RecordsError):
        hold_place(case_id=closed.pk, actor=admin_kato, reason="保全")
    with pytest.raises(RecordsError):
        hold_lift(hold_id=hold.pk, actor=coordinator_sato, reason="x")
    hold_lift(hold_id=hold.pk, actor=admin_kato, reason="解除")
    with pytest.raises(RecordsError):
        hold_lift(hold_id=hold.pk, actor=admin_kato, reason="解除")
    events = AuditEvent.objects.filter(case_id=closed.pk, object_type="records.LegalHold")
    assert sorted(e.detail["event"] for e in events) == ["legal hold lifted", "legal hold placed"]


def test_admins_place_and_lift_holds_in_the_admin(client, closed, admin_kato, coordinator_sato):
    client.force_login(coordinator_sato)
    assert client.get("/admin/records/legalhold/add/").status_code in (302, 403)
    client.force_login(admin_kato)
    response = client.post(
        "/admin/records/legalhold/add/", {"case": closed.pk, "reason": "訴訟の可能性"}
    )
    assert response.status_code == 302, response.content.decode()
    hold = LegalHold.objects.get(case=closed)
    assert hold.active and hold.placed_by == admin_kato
    again = client.post("/admin/records/legalhold/add/", {"case": closed.pk, "reason": "x"})
    assert again.status_code == 200 and LegalHold.objects.count() == 1
    assert client.post(f"/admin/records/legalhold/{hold.pk}/delete/").status_code == 403
    response = client.post(
        f"/admin/records/legalhold/{hold.pk}/change/", {"lift_reason": "和解成立"}
    )
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.lifted_by == admin_kato and hold.lift_reason == "和解成立"
    assert (
        AuditEvent.objects.filter(case_id=closed.pk, object_type="records.LegalHold").count() == 2
    )


@pytest.mark.django_db(transaction=True)
def test_the_guard_holds_outside_a_test_transaction_and_flush_still_empties(seeded):
    case = case_in(Status.WITHDRAWN)
    _refused("DELETE FROM cases_case WHERE id = %s", [case.pk])
    # The teardown's flush must empty the database despite the guard (else this test errors).


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_guard_refuses_and_the_purge_goes_through(
    billing_ito, time_machine, django_capture_on_commit_callbacks
):
    test_purge_removes_exactly_the_expired_cases_and_their_files(
        billing_ito, time_machine, django_capture_on_commit_callbacks
    )
    test_raw_sql_cannot_delete_a_kept_row(closed_case(billing_ito))


def test_a_guard_lost_to_a_table_rebuild_is_put_back_after_migrating():
    """SQLite drops a table's triggers when a migration rebuilds it; post_migrate puts them back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute('DROP TRIGGER records_keep ON "documents_document"')
        else:
            cursor.execute("DROP TRIGGER records_keep_documents_document")
    assert "documents_document" not in guard.installed(connection)
    ensure_guard()
    assert {t.table for t in guarded_tables()} <= guard.installed(connection)


def test_a_case_closed_by_its_opinion_is_kept_whole_then_purged_whole(
    billing_ito, dr_tanaka, time_machine, django_capture_on_commit_callbacks
):
    """The real way to `closed`: fee collected, opinion signed and posted. Its opinion rows are
    kept like the rest (even a signed version's DELETE waits for the release), and go with it."""
    from opiniondesk.opinions import services as opinions
    from opiniondesk.opinions.models import Disclosure, Opinion, OpinionDelivery, OpinionVersion

    start = timezone.now()
    case = completed_case()
    billing.collect(charge_id=case.charge.pk, actor=billing_ito, method="cash")
    draft = opinions.draft_save(
        case_id=case.pk,
        actor=dr_tanaka,
        on_current="現在の治療は妥当です。",
        on_future="内服を続けてください。",
        answers=["はい。"] * len(opinions.questions_of(case)),
        remarks="",
    )
    signed = opinions.sign(
        version_id=draft.pk, actor=dr_tanaka, previewed_hash=draft.computed_hash(case.pk)
    )
    # Posted on the day it was signed, in Japan (the UTC date is the day before from 15:00 UTC).
    opinions.post_record(case_id=case.pk, actor=dr_tanaka, posted_on=jst_today())
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    _refused("DELETE FROM opinions_opinionversion WHERE id = %s", [signed.pk])
    _refused("DELETE FROM opinions_disclosure WHERE case_id = %s", [case.pk])

    time_machine.move_to(start + FIVE_YEARS_AND_A_DAY, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        out = _retention("--purge", "--yes")
    assert f"{case.reference}: purged" in out
    for model in (Opinion, OpinionDelivery, Disclosure):
        assert not model.objects.filter(case_id=case.pk).exists()
    assert not OpinionVersion.objects.filter(pk=signed.pk).exists()


def test_a_purge_deletes_the_case_objects_from_the_bucket(
    s3_storage, billing_ito, django_capture_on_commit_callbacks
):
    # Without moving the clock: the object store refuses requests signed years ahead.
    expired = closed_case(billing_ito)
    kept = case_in(Status.SCREENING)
    files = list(expired.documents.values_list("file", flat=True))
    kept_files = list(kept.documents.values_list("file", flat=True))
    assert files and set(files) | set(kept_files) == set(s3_storage.keys())
    later = (timezone.now() + FIVE_YEARS_AND_A_DAY).date()
    with django_capture_on_commit_callbacks(execute=True):  # the objects go after the commit
        case_purge(case_id=expired.pk, years=5, today=later, by="test")
    assert s3_storage.keys() == sorted(kept_files)
