"""The paper application (紙の申込書) of a case a coordinator opened for someone who applied on
paper or by phone.

The patient (or family) posts the application form, brings it to the desk, or calls the phone
desk. The coordinator opens the case from the caller's details (`paper_open`) or from an
eReferral file (`services.case_start_from_referral`); both open an account for the person (no
password, no e-mail) that holds the case until it is handed over (`readiness.services
.handover_invite`). Here they attach the scans (`paper_attach`), type in what the form says
with the application's own forms and checks (`cases.forms`), record that the form and the
consent to the privacy policy signed on it were received (who, when; the scan kept as a
document), and send it: `cases.services.case_submit` with the coordinator as the actor, so the
eligibility rules decide exactly as online.

Only a paper case: opened by a coordinator and still held by the account opened with it
(`selectors.paper_held`). An online applicant's draft is never the coordinator's to fill in
or send, nor a case once it has been handed over to a person's own account.
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases import services as cases
from opiniondesk.cases.lifecycle import case_lock
from opiniondesk.cases.models import Case, Channel, PrivacyPolicy
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import JST, jst_today
from opiniondesk.documents.models import Document, DocumentKind, UploadSource
from opiniondesk.documents.services import Scan, document_add, documents_add_many
from opiniondesk.referrals.errors import PaperError
from opiniondesk.referrals.models import PaperApplication
from opiniondesk.referrals.selectors import paper_held

PAPER_REASON = "paper application"
# The patient's details a coordinator starts a case from (a caller gives at least these).
OPEN_FIELDS = frozenset(
    {
        "patient_family_name",
        "patient_given_name",
        "patient_family_name_kana",
        "patient_given_name_kana",
        "patient_phone",
    }
)


def paper_case_open(
    *,
    actor: User,
    channel: Channel,
    family_name: str,
    given_name: str,
    request: HttpRequest | None,
    detail: Mapping[str, Any],
) -> Case:
    """A draft held by a new account of the person who applied (no password, no e-mail:
    nobody signs in with it until the hospital hands the case over), and its paper
    application record. The caller holds the transaction."""
    if actor.role != Role.COORDINATOR:
        raise PaperError("NOT_COORDINATOR")
    if channel == Channel.ONLINE:
        raise PaperError("NOT_PAPER")
    account = User(
        username=f"paper-{uuid.uuid4().hex}",
        role=Role.PATIENT,
        last_name=family_name[:150],
        first_name=given_name[:150],
    )
    account.set_unusable_password()
    account.save()
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        obj=account,
        detail={"patient_account_for": "paper application", **detail},
    )
    case = cases.case_create_draft(
        applicant=account,
        actor=actor,
        request=request,
        channel=channel,
        detail={"opened_by": "coordinator", **detail},
    )
    PaperApplication.objects.create(
        case=case, opened_account=account, opened_by=actor, opened_at=timezone.now()
    )
    return case


@transaction.atomic
def paper_open(
    *,
    actor: User,
    channel: Channel,
    patient: Mapping[str, str],
    request: HttpRequest | None = None,
) -> Case:
    """Open a case for someone who applied by post, at the desk or by phone, from the patient's
    details (`OPEN_FIELDS`, checked by the form); the rest of the form is typed in part by part.
    The patient applies for themselves until the form says otherwise."""
    if not set(patient) <= OPEN_FIELDS:
        raise ValueError(f"not an opening field: {sorted(set(patient) - OPEN_FIELDS)}")
    case = paper_case_open(
        actor=actor,
        channel=channel,
        family_name=patient.get("patient_family_name", ""),
        given_name=patient.get("patient_given_name", ""),
        request=request,
        detail={"from": channel.value},
    )
    return cases.case_save_step(
        case_id=case.pk,
        revision=case.revision,
        values=dict(patient),
        actor=actor,
        request=request,
        step="paper opened",
    )


def _paper_case(case_id: int, actor: User) -> Case:
    """The case locked, if `actor` may work on it: a coordinator, a case the hospital holds."""
    if actor.role != Role.COORDINATOR:
        raise PaperError("NOT_COORDINATOR")
    case = case_lock(case_id)
    if paper_held(case) is None:
        raise PaperError("NOT_PAPER")
    return case


def _paper_draft(case_id: int, actor: User) -> Case:
    """The case locked, if `actor` may type into it: a coordinator, a paper case, a draft."""
    case = _paper_case(case_id, actor)
    if case.status != Status.DRAFT:
        raise PaperError("NOT_DRAFT")
    return case


def paper_attach(
    *, case_id: int, scans: list[Scan], actor: User, request: HttpRequest | None = None
) -> list[Document]:
    """The scans that came with the application (the signed form, the referral letter, test
    data, the consent form…), each with its kind: all stored or, one refused, none. Also after
    sending, while the hospital holds the case (documents still arriving by post)."""
    if not scans:
        raise PaperError("NO_FILES")
    with transaction.atomic():
        case = _paper_case(case_id, actor)
    # Checked by their content outside the transaction, as every upload is.
    return documents_add_many(
        case=case, scans=scans, actor=actor, source=UploadSource.STAFF, request=request
    )


@transaction.atomic
def paper_save_step(
    *,
    case_id: int,
    revision: int,
    step: str,
    values: Mapping[str, Any],
    actor: User,
    request: HttpRequest | None = None,
) -> Case:
    """Save one part of the form as the coordinator typed it (validated by the wizard's form
    of that step). Refused if another window saved in between."""
    _paper_draft(case_id, actor)
    try:
        return cases.case_save_step(
            case_id=case_id,
            revision=revision,
            values=values,
            actor=actor,
            request=request,
            step=f"paper {step}",
        )
    except cases.StaleDraft:
        raise PaperError("STALE") from None


@transaction.atomic
def paper_set_proxies(
    *,
    case_id: int,
    revision: int,
    proxies: Iterable[Mapping[str, Any]],
    actor: User,
    request: HttpRequest | None = None,
) -> Case:
    """The family members attending, as the form lists them."""
    _paper_draft(case_id, actor)
    try:
        return cases.case_set_proxies(
            case_id=case_id, revision=revision, proxies=proxies, actor=actor, request=request
        )
    except cases.StaleDraft:
        raise PaperError("STALE") from None


def paper_received(
    *,
    case_id: int,
    revision: int,
    received_on: date,
    actor: User,
    request: HttpRequest | None = None,
    scan: UploadedFile | None = None,
) -> PaperApplication:
    """The signed application form, with the consent to the privacy policy signed on it, was
    received on `received_on`: recorded with who recorded it and when, the policy in force on
    that day accepted for the case, and the scan (if any) kept as the case's scanned form.

    The scan is checked before anything is written (`ContentRejected`, `UploadRefused`)."""
    if received_on > jst_today():
        raise PaperError("FUTURE_DATE")
    policy = (
        PrivacyPolicy.objects.filter(effective_from__lte=received_on)
        .order_by("-effective_from")
        .first()
    )
    if policy is None:
        raise PaperError("NO_POLICY")
    with transaction.atomic():
        case = _paper_draft(case_id, actor)
        if case.revision != revision:
            raise PaperError("STALE")
    # Checked by its content outside the transaction, as every upload is; stored and audited.
    document = None
    if scan is not None:
        document = document_add(
            case=case,
            kind=DocumentKind.SCANNED_FORM,
            uploaded=scan,
            actor=actor,
            source=UploadSource.STAFF,
            request=request,
            note="申込書（紙）・個人情報の取扱いへの同意",
        )
    return _record_received(
        case_id=case_id,
        revision=revision,
        received_on=received_on,
        policy=policy,
        document=document,
        actor=actor,
        request=request,
    )


@transaction.atomic
def _record_received(
    *,
    case_id: int,
    revision: int,
    received_on: date,
    policy: PrivacyPolicy,
    document: Document | None,
    actor: User,
    request: HttpRequest | None,
) -> PaperApplication:
    _paper_draft(case_id, actor)
    now = timezone.now()
    paper = PaperApplication.objects.select_for_update().get(case_id=case_id)
    first = paper.received_on is None
    paper.received_on, paper.privacy_policy = received_on, policy
    paper.recorded_by, paper.recorded_at = actor, now
    if document is not None:
        paper.scanned_form = document
    paper.save(
        update_fields=[
            "received_on",
            "privacy_policy",
            "recorded_by",
            "recorded_at",
            "scanned_form",
        ]
    )
    try:
        cases.case_save_step(
            case_id=case_id,
            revision=revision,
            values={
                "privacy_policy": policy,
                # Consented on the form, by the day it reached the hospital.
                "privacy_accepted_at": datetime.combine(received_on, time(0), tzinfo=JST),
            },
            actor=actor,
            request=request,
            step="paper privacy",
        )
    except cases.StaleDraft:
        raise PaperError("STALE") from None
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case_id,
        obj=paper,
        detail={
            "paper_application": "received" if first else "received again",
            "received_on": received_on.isoformat(),
            "privacy_policy": policy.version,
            "scanned_form": paper.scanned_form_id,
        },
    )
    return paper


@transaction.atomic
def paper_submit(*, case_id: int, actor: User, request: HttpRequest | None = None) -> Case:
    """Send the paper application: draft → submitted with the coordinator as the actor, then on
    to awaiting_documents when documents are missing, exactly as `case_submit` does online.

    Refused, the case unchanged: `PaperError` (not a coordinator, not a paper case, not a
    draft, the signed form not recorded), `cases.services.Incomplete` (unanswered questions)
    and `cases.services.Refused` (the eligibility rules refuse; the reasons are audited)."""
    _paper_draft(case_id, actor)
    paper = PaperApplication.objects.select_for_update().get(case_id=case_id)
    if paper.received_on is None:
        raise PaperError("NOT_RECEIVED")
    case = cases.case_submit(
        case_id=case_id,
        actor=actor,
        request=request,
        reason=PAPER_REASON,
        detail={
            "paper_application": paper.pk,
            "received_on": paper.received_on.isoformat(),
            "recorded_by": paper.recorded_by_id,
        },
    )
    paper.submitted_by, paper.submitted_at = actor, timezone.now()
    paper.save(update_fields=["submitted_by", "submitted_at"])
    return case
