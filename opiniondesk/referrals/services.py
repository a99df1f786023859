"""Reading an eReferral file into a case: a new paper-style case, or the blanks of an open one.

The coordinator uploads the file (`pending_create`: read and checked, nothing written to any
case), looks at what was read, and confirms (`case_start_from_referral`,
`case_fill_from_referral`): one transaction writes the case's fields through `cases.services`,
keeps the file as the case's referral letter through `documents.services` (hashed, stored
and audited like any upload) and records the import.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from opiniondesk.accounts.models import User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases.kinship import Relation
from opiniondesk.cases.models import Case, Channel, Sex
from opiniondesk.cases.services import NotEditable, case_fill_blank_fields
from opiniondesk.cases.workflow import OPEN_STATES
from opiniondesk.documents.models import DocumentKind, UploadSource
from opiniondesk.documents.services import document_add_fhir
from opiniondesk.referrals.ereferral import (
    Code,
    InvalidReferral,
    Problem,
    Referral,
    read_referral,
)
from opiniondesk.referrals.errors import ReferralError
from opiniondesk.referrals.models import PendingReferral, ReferralImport
from opiniondesk.referrals.paper import paper_case_open

PENDING_FOR = timedelta(hours=1)

_SEX = {"female": Sex.FEMALE, "male": Sex.MALE, "other": Sex.OTHER}


def case_values(referral: Referral) -> dict[str, Any]:
    """The case fields the letter fills: the patient, the attending physician (the referring
    doctor) and the consultation sheet (diagnoses, present illness, the purpose of the
    referral). Refused (`InvalidReferral`) when a value is longer than the case keeps."""
    patient, referrer = referral.patient, referral.referrer
    values: dict[str, Any] = {
        "patient_family_name": patient.family_name,
        "patient_given_name": patient.given_name,
        "patient_family_name_kana": patient.family_name_kana,
        "patient_given_name_kana": patient.given_name_kana,
        "patient_birth_date": patient.birth_date,
        "patient_sex": _SEX.get(patient.sex, ""),
        "patient_postal_code": patient.postal_code,
        "patient_address": patient.address,
        "patient_phone": patient.phone,
        "physician_name": referrer.doctor,
        "physician_institution": referrer.institution,
        "physician_department": referrer.department,
        "physician_phone": referrer.phone,
        "current_diagnosis": "\n".join(d.text for d in referral.diagnoses),
        "treatment_so_far": referral.present_illness,
        "questions": referral.purpose,
    }
    too_long = []
    for name, value in values.items():
        limit = Case._meta.get_field(name).max_length
        if isinstance(value, str) and limit is not None and len(value) > limit:
            label = str(Case._meta.get_field(name).verbose_name)
            too_long.append(Problem(Code.TOO_LONG, where=label, value=str(limit)))
    if too_long:
        raise InvalidReferral(too_long)
    return values


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    current: Any
    new: Any

    @property
    def applies(self) -> bool:
        """Only a blank field is filled; an answer already given is kept."""
        return self.current in ("", None) and self.new not in ("", None)


def changes_for(case: Case, referral: Referral) -> list[Change]:
    """What importing the letter into `case` would do, field by field."""
    return [
        Change(name, str(Case._meta.get_field(name).verbose_name), getattr(case, name), value)
        for name, value in case_values(referral).items()
        if value not in ("", None)
    ]


def pending_create(
    *, raw: bytes, name: str, actor: User, case: Case | None = None
) -> tuple[PendingReferral, Referral]:
    """Read the file; if it is a referral letter, keep it until the coordinator confirms.
    `InvalidReferral` (nothing written) otherwise."""
    referral = read_referral(raw)
    case_values(referral)
    PendingReferral.objects.filter(uploaded_at__lt=timezone.now() - PENDING_FOR).delete()
    pending = PendingReferral.objects.create(
        uploaded_by=actor,
        case=case,
        name=(name or "referral.json")[:255],
        sha256=hashlib.sha256(raw).hexdigest(),
        content=raw,
    )
    return pending, referral


def pending_get(*, pending_id: uuid.UUID, actor: User, lock: bool = False) -> PendingReferral:
    """The coordinator's own upload, still fresh; `ReferralError("EXPIRED")` otherwise."""
    found = PendingReferral.objects.filter(
        pk=pending_id, uploaded_by=actor, uploaded_at__gte=timezone.now() - PENDING_FOR
    )
    pending = (found.select_for_update() if lock else found).first()
    if pending is None:
        raise ReferralError("EXPIRED")
    return pending


def started_from(bundle_identifier: str) -> Case | None:
    """The case already opened from this letter, if any."""
    started = ReferralImport.objects.filter(
        bundle_identifier=bundle_identifier, started_case=True
    ).select_related("case")
    first = started.first()
    return first.case if first else None


def _keep(
    *,
    case: Case,
    pending: PendingReferral,
    referral: Referral,
    actor: User,
    request: HttpRequest | None,
    filled: list[str],
    started: bool,
    opened_account: User | None = None,
) -> ReferralImport:
    raw = bytes(pending.content)
    document = document_add_fhir(
        case=case,
        kind=DocumentKind.REFERRAL_LETTER,
        content=raw,
        name=pending.name,
        actor=actor,
        source=UploadSource.STAFF,
        request=request,
        note=f"eReferral {referral.document_identifier}",
    )
    record = ReferralImport.objects.create(
        case=case,
        document=document,
        imported_by=actor,
        started_case=started,
        opened_account=opened_account,
        bundle_identifier=referral.bundle_identifier[:200],
        document_identifier=referral.document_identifier[:200],
        fields=sorted(filled),
    )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=record,
        detail={
            "ereferral": referral.bundle_identifier[:200],
            "document": document.pk,
            "started_case": started,
            "fields": sorted(filled),
        },
    )
    pending.delete()
    return record


@transaction.atomic
def case_start_from_referral(
    *, pending_id: uuid.UUID, actor: User, request: HttpRequest | None = None
) -> Case:
    """Open a paper case from the letter (`paper.paper_case_open`: a draft held by a new
    account of the patient until the hospital hands it over), with the letter's details filled
    in and the file kept as the referral letter."""
    pending = pending_get(pending_id=pending_id, actor=actor, lock=True)
    referral = read_referral(bytes(pending.content))  # read again: the row is only bytes
    values = case_values(referral)
    existing = started_from(referral.bundle_identifier)
    if existing is not None:
        raise ReferralError("ALREADY_STARTED", case_id=existing.pk)
    # Posted with the paper form, as a rule; the coordinator's page shows and keeps it.
    case = paper_case_open(
        actor=actor,
        channel=Channel.POST,
        family_name=referral.patient.family_name,
        given_name=referral.patient.given_name,
        request=request,
        detail={"from": "ereferral", "ereferral": referral.bundle_identifier[:200]},
    )
    account = case.applicant
    filled = case_fill_blank_fields(
        case_id=case.pk,
        values={"applicant_relation": Relation.SELF, **values},
        actor=actor,
        request=request,
        source="ereferral",
    )
    _keep(
        case=case,
        pending=pending,
        referral=referral,
        actor=actor,
        request=request,
        filled=filled,
        started=True,
        opened_account=account,
    )
    case.refresh_from_db()
    return case


@transaction.atomic
def case_fill_from_referral(
    *, pending_id: uuid.UUID, actor: User, request: HttpRequest | None = None
) -> tuple[Case, list[str]]:
    """Fill the blank fields of the pending upload's case from the letter and keep the file as
    its referral letter. Returns the case and the fields filled."""
    pending = pending_get(pending_id=pending_id, actor=actor, lock=True)
    if pending.case_id is None:
        raise ReferralError("EXPIRED")
    referral = read_referral(bytes(pending.content))
    case = Case.objects.get(pk=pending.case_id)
    if case.status not in OPEN_STATES:
        raise ReferralError("CASE_CLOSED")
    try:
        filled = case_fill_blank_fields(
            case_id=case.pk,
            values=case_values(referral),
            actor=actor,
            request=request,
            source="ereferral",
        )
    except NotEditable:
        raise ReferralError("CASE_CLOSED") from None
    _keep(
        case=case,
        pending=pending,
        referral=referral,
        actor=actor,
        request=request,
        filled=filled,
        started=False,
    )
    case.refresh_from_db()
    return case, filled
