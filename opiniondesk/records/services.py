"""Every write of the records kept: legal holds, the purge of a case past its retention period,
and the staff's corrections of an application."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import models, transaction
from django.db.models.fields.related import ForeignObjectRel
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases.lifecycle import case_lock
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.documents.models import Document
from opiniondesk.records.errors import RecordsError
from opiniondesk.records.models import CaseRevision, LegalHold, RetentionRelease
from opiniondesk.records.selectors import active_holds, endings

# Legal holds (法的保全): placed and lifted by the hospital's administrators only.


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise RecordsError(_("Only an administrator places or lifts a legal hold."), "role")


@transaction.atomic
def hold_place(
    *, case_id: int, actor: User, reason: str, request: HttpRequest | None = None
) -> LegalHold:
    _require_admin(actor)
    reason = reason.strip()
    if not reason:
        raise RecordsError(_("Say why the case is put on hold."), "reason")
    case_lock(case_id)  # a purge of the case waits, or has happened (then: no such case)
    if active_holds().filter(case_id=case_id).exists():
        raise RecordsError(_("This case is already on hold."), "held")
    hold = LegalHold.objects.create(
        case_id=case_id, reason=reason, placed_by=actor, placed_at=timezone.now()
    )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case_id,
        obj=hold,
        detail={"event": "legal hold placed"},
    )
    return hold


@transaction.atomic
def hold_lift(
    *, hold_id: int, actor: User, reason: str, request: HttpRequest | None = None
) -> LegalHold:
    _require_admin(actor)
    reason = reason.strip()
    if not reason:
        raise RecordsError(_("Say why the hold is lifted."), "reason")
    case_id = LegalHold.objects.values_list("case_id", flat=True).get(pk=hold_id)
    case_lock(case_id)
    hold = LegalHold.objects.select_for_update().get(pk=hold_id)
    if not hold.active:
        raise RecordsError(_("This hold was already lifted."), "lifted")
    hold.lifted_by, hold.lifted_at, hold.lift_reason = actor, timezone.now(), reason
    hold.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case_id,
        obj=hold,
        detail={"event": "legal hold lifted"},
    )
    return hold


# The purge: a case past its retention period and on no hold, all its rows and files.


@dataclass
class Purged:
    case_id: int
    reference: str
    rows: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def _reverse_relations(model: type[models.Model]) -> list[ForeignObjectRel]:
    return [
        rel
        for rel in model._meta.related_objects
        if (rel.one_to_many or rel.one_to_one) and rel.field.concrete
    ]


def _rows_of(case: Case) -> dict[type[models.Model], set[Any]]:
    """Every row that belongs to the case: the case, and whatever refers to a row that does."""
    rows: dict[type[models.Model], set[Any]] = defaultdict(set)
    rows[Case].add(case.pk)
    frontier: list[tuple[type[models.Model], set[Any]]] = [(Case, {case.pk})]
    while frontier:
        model, pks = frontier.pop()
        for rel in _reverse_relations(model):
            related = rel.related_model
            found = set(
                related._base_manager.filter(**{f"{rel.field.name}__in": pks}).values_list(
                    "pk", flat=True
                )
            )
            new = found - rows[related]
            if new:
                rows[related] |= new
                frontier.append((related, new))
    return rows


def _delete(rows: dict[type[models.Model], set[Any]]) -> dict[str, int]:
    """Delete the rows, each only once nothing left still refers to it (PROTECT everywhere)."""
    counts: dict[str, int] = defaultdict(int)
    remaining = {model: set(pks) for model, pks in rows.items() if pks}
    while remaining:
        referenced: dict[type[models.Model], set[Any]] = defaultdict(set)
        for model, pks in remaining.items():
            for f in model._meta.concrete_fields:
                target = f.related_model if f.is_relation else None
                if target is None or target not in remaining:
                    continue
                values = model._base_manager.filter(pk__in=pks).values_list(f.attname, flat=True)
                referenced[target] |= {v for v in values if v is not None}
        progress = False
        for model in list(remaining):
            free = remaining[model] - referenced[model]
            if free:
                model._base_manager.filter(pk__in=free).delete()
                counts[model._meta.label] += len(free)
                remaining[model] -= free
                progress = True
            if not remaining[model]:
                del remaining[model]
        if not progress:
            raise RuntimeError(f"rows refer to each other in a circle: {sorted(remaining)}")
    return dict(counts)


def _delete_files(names: list[str]) -> None:
    storage = Document._meta.get_field("file").storage  # type: ignore[attr-defined]
    for name in names:
        storage.delete(name)


@transaction.atomic
def case_purge(*, case_id: int, years: int, today: date, by: str) -> Purged:
    """Delete everything of a case past its retention period and on no legal hold: the rules
    and the holds are checked again here, the case row locked. Writes the release the database
    guard asks for, then one audit entry (the audit log is never purged). The documents' files
    go after the commit, so a failed purge leaves every file in place."""
    case = case_lock(case_id)
    found = endings(years=years, case_ids=[case_id])
    if not found:
        raise RecordsError(_("This case has not ended: it is kept."), "open")
    ending = found[0]
    if today <= ending.kept_until:
        raise RecordsError(_("This case is kept until %(date)s.") % {"date": ending.kept_until})
    if active_holds().select_for_update().filter(case_id=case_id).exists():
        raise RecordsError(_("This case is on legal hold: it is kept."), "held")
    release = RetentionRelease.objects.create(
        case_id=case_id,
        reference=case.reference,
        final_status=ending.status,
        ended_at=ending.ended_at,
        kept_until=ending.kept_until,
        released_at=timezone.now(),
        released_by=by,
    )
    files = [
        f for f in Document.objects.filter(case_id=case_id).values_list("file", flat=True) if f
    ]
    rows = _delete(_rows_of(case))
    audit_record(
        action=AuditAction.UPDATE,
        case_id=case_id,
        obj=release,
        detail={
            "event": "records purged",
            "reference": case.reference,
            "final_status": ending.status,
            "ended_at": ending.ended_at.isoformat(),
            "kept_until": ending.kept_until.isoformat(),
            "by": by,
            "rows": rows,
            "files": len(files),
        },
    )
    transaction.on_commit(lambda: _delete_files(files))
    return Purged(case_id, case.reference, rows, files)


# Corrections of the application by staff: each a new version (SPEC §11.16).

CORRECTABLE = (
    "patient_family_name",
    "patient_given_name",
    "patient_family_name_kana",
    "patient_given_name_kana",
    "patient_birth_date",
    "patient_postal_code",
    "patient_address",
    "patient_phone",
    "physician_name",
    "physician_institution",
    "physician_phone",
)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@transaction.atomic
def application_correct(
    *,
    case_id: int,
    actor: User,
    values: dict[str, Any],
    reason: str,
    request: HttpRequest | None = None,
) -> CaseRevision:
    """The coordinator corrects fields of a submitted application: the case takes the new
    values and a revision keeps the old and new ones, the author, the time and the reason."""
    if actor.role != Role.COORDINATOR:
        raise RecordsError(_("Only a coordinator corrects an application."), "role")
    unknown = set(values) - set(CORRECTABLE)
    if unknown:
        raise RecordsError(_("These fields cannot be corrected here."), "fields")
    reason = reason.strip()
    if not reason:
        raise RecordsError(_("Say why the application is corrected."), "reason")
    case = case_lock(case_id)
    if case.status == Status.DRAFT:
        raise RecordsError(_("A draft is the applicant's to change."), "draft")
    changes = {
        name: {"old": _plain(getattr(case, name)), "new": _plain(value)}
        for name, value in values.items()
        if getattr(case, name) != value
    }
    if not changes:
        raise RecordsError(_("Nothing was changed."), "unchanged")
    for name in changes:
        setattr(case, name, values[name])
    case.save(update_fields=[*changes, "updated_at"])
    last = CaseRevision.objects.filter(case=case).order_by("-number").first()
    revision = CaseRevision.objects.create(
        case=case,
        number=(last.number if last else 0) + 1,
        changes=changes,
        author=actor,
        at=timezone.now(),
        reason=reason,
    )
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=revision,
        detail={"event": "application corrected", "fields": sorted(changes)},
    )
    return revision
