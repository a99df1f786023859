"""Cases in any state, written directly: the rows the services would have left, without going
through them. A test that is about a step builds the state before it here, then calls the real
service or page for the step itself. A few tests per path still walk the whole way through the
services and pages (the wizard and browser tests, the demo data, the screening tests)."""

import hashlib
from datetime import datetime, time, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from opiniondesk.accounts.models import User
from opiniondesk.cases.eligibility import Reason
from opiniondesk.cases.lifecycle import actor_of
from opiniondesk.cases.models import Case, CaseTransition, DocumentRequest, Proxy
from opiniondesk.cases.selectors import privacy_policy_in_force
from opiniondesk.cases.workflow import Actor, Status
from opiniondesk.catalog.models import Department
from opiniondesk.catalog.vocabulary import DocumentCode
from opiniondesk.core.time import JST, jst_today
from opiniondesk.demo.cases import HANA, KEN, KEN_ATTENDS  # the demo's family, Hana and Ken
from opiniondesk.demo.documents import demo_pdf
from opiniondesk.documents.models import Document, DocumentKind, UploadSource
from opiniondesk.testing.personas import persona

# Hana, 76, asks cardiology about her heart failure; her son Ken applies for her or she herself.
PATIENT = {**HANA, "patient_email": "hana@example.jp"}
SHEET = {
    "current_diagnosis": "慢性心不全",
    "treatment_so_far": "内服治療",
    "wants_opinion_on_current": True,
    "wants_opinion_on_future": True,
    "questions": "手術は必要でしょうか。",
}
PHYSICIAN = {
    "physician_name": "鈴木一郎",
    "physician_institution": "見本町クリニック",
    "physician_department": "内科",
    "physician_phone": "03-0200-3456",
    "attending_physician_agrees": True,
    "wants_tests_or_treatment_here": False,
    "wants_transfer": False,
    "complaint_or_litigation": False,
    "fee_or_benefit_question": False,
    "can_provide_materials": True,
}

# The states a case passes through on its way to each state, with who moves it (SPEC §4).
A, C, S, SYS = Actor.APPLICANT, Actor.COORDINATOR, Actor.SPECIALIST, Actor.SYSTEM
_SUBMITTED = [(Status.DRAFT, Status.SUBMITTED, A)]
_SCREENING = [*_SUBMITTED, (Status.SUBMITTED, Status.SCREENING, C)]
_REFERRED = [*_SCREENING, (Status.SCREENING, Status.REFERRED, C)]
_ACCEPTED = [*_REFERRED, (Status.REFERRED, Status.ACCEPTED, S)]
PATHS: dict[Status, list[tuple[Status, Status, Actor]]] = {
    Status.DRAFT: [],
    Status.SUBMITTED: _SUBMITTED,
    Status.SCREENING: _SCREENING,
    Status.AWAITING_DOCUMENTS: [*_SCREENING, (Status.SCREENING, Status.AWAITING_DOCUMENTS, C)],
    Status.REJECTED: [*_SCREENING, (Status.SCREENING, Status.REJECTED, C)],
    Status.REFERRED: _REFERRED,
    Status.DECLINED: [*_REFERRED, (Status.REFERRED, Status.DECLINED, S)],
    Status.ACCEPTED: _ACCEPTED,
    Status.WITHDRAWN: [*_SCREENING, (Status.SCREENING, Status.WITHDRAWN, A)],
}
# Sent without the referral letter and test data: the system moves it on to wait for them.
SENT_INCOMPLETE = [*_SUBMITTED, (Status.SUBMITTED, Status.AWAITING_DOCUMENTS, SYS)]
MISSING = [DocumentCode.REFERRAL_LETTER.value, DocumentCode.TEST_DATA.value]
# Documents an application carries: (kind, test-data kind); a proxy's also the family papers.
OWN_DOCUMENTS = [("referral_letter", ""), ("test_data", "blood")]
PROXY_DOCUMENTS = [
    *OWN_DOCUMENTS,
    ("consent_form", ""),
    ("relationship_proof", ""),
    ("proxy_id", ""),
]


def answers(
    *,
    relation: str = "self",
    mode: str = "online",
    department: str = "cardiology",
    disease: str = "heart_failure",
    **changes: Any,
) -> dict[str, Any]:
    """A complete application (every wizard step answered), as the wizard saves it."""
    dept = Department.objects.get(code=department)
    values = {
        "applicant_relation": relation,
        **(KEN | {"applicant_attends": True} if relation != "self" else {}),
        **PATIENT,
        "patient_deceased": False,
        "patient_resides_in_japan": True,
        "patient_has_japanese_insurance": True,
        "patient_consent": "signed" if relation != "self" else "none",
        "mode": mode,
        "department": dept,
        "disease": dept.diseases.get(code=disease),
        "joining_from_japan": True if mode == "online" else None,
        **SHEET,
        **PHYSICIAN,
    }
    return values | changes


def case_in(
    status: Status | str,
    *,
    applicant: User | None = None,
    relation: str = "self",
    mode: str = "online",
    department: str = "cardiology",
    disease: str = "heart_failure",
    documents: bool = True,
    coordinator: User | None = None,
    specialist: User | None = None,
    planned_minutes: int = 30,
    **changes: Any,
) -> Case:
    """A case in `status` with the rows the services would have written on the way: the
    application, the privacy policy accepted, the documents, the transitions (actor, role and
    the details that later steps read), a document request or rejection where the state has one.

    By default Hana applies herself (Ken when `relation` is not "self"), the coordinator is Sato
    and the specialist Tanaka. No audit events and no e-mails: those belong to the services.
    """
    status = Status(status)
    if status not in PATHS:
        raise ValueError(f"no builder yet for a case in {status}: build it from one that is")
    applicant = applicant or persona("patient_hana" if relation == "self" else "proxy_ken")
    coordinator = coordinator or persona("coordinator_sato")
    specialist = specialist or persona("dr_tanaka")
    values = answers(relation=relation, mode=mode, department=department, disease=disease)
    if relation == "self" and applicant.last_name:
        values |= {
            "patient_family_name": applicant.last_name,
            "patient_given_name": applicant.first_name,
        }
    now = timezone.now()
    case = Case.objects.create(
        applicant=applicant,
        status=status,
        revision=1,
        privacy_policy=privacy_policy_in_force(),
        privacy_accepted_at=now,
        submitted_at=now if status is not Status.DRAFT else None,
        planned_minutes=planned_minutes if status is Status.ACCEPTED else None,
        status_changed_at=now if status is not Status.DRAFT else None,
        **(values | changes),
    )
    proxy = None
    if relation != "self":
        proxy = Proxy.objects.create(case=case, position=0, is_applicant=True, **KEN_ATTENDS)
    if documents:
        for kind, test_data_kind in PROXY_DOCUMENTS if proxy else OWN_DOCUMENTS:
            add_document(case, kind, test_data_kind=test_data_kind, proxy=proxy)
    people = {A: applicant, C: coordinator, S: specialist, SYS: None}
    incomplete = status is Status.AWAITING_DOCUMENTS and not documents
    for current, target, actor in SENT_INCOMPLETE if incomplete else PATHS[status]:
        _record(case, current, target, people[actor], _detail(case, target, actor))
        if target is Status.REFERRED and case.referred_at is None:
            case.referred_at = now
            case.save(update_fields=["referred_at"])
    if not incomplete:
        _state_rows(case, status, coordinator=coordinator)
    return case


def _detail(case: Case, target: Status, actor: Actor) -> dict[str, Any]:
    if target is Status.REFERRED:
        return {"department": case.department.code}
    if target is Status.ACCEPTED:
        return {"planned_minutes": case.planned_minutes}
    if target is Status.REJECTED:
        return {"reasons": [Reason.WANTS_TRANSFER.value]}
    if target is Status.AWAITING_DOCUMENTS and actor is SYS:
        return {"missing_documents": MISSING}
    if target is Status.AWAITING_DOCUMENTS:
        return {"requested_documents": [DocumentCode.TEST_DATA.value]}
    return {}


def _record(
    case: Case, current: Status, target: Status, actor: User | None, detail: dict[str, Any]
) -> None:
    CaseTransition.objects.create(
        case=case,
        from_status=current,
        to_status=target,
        actor=actor,
        actor_role=actor_of(actor, case),
        reason="documents missing" if "missing_documents" in detail else "",
        detail=detail,
    )


def _state_rows(case: Case, status: Status, *, coordinator: User) -> None:
    """What a state carries beyond its transition row."""
    fields: list[str] = []
    if status is Status.AWAITING_DOCUMENTS:
        DocumentRequest.objects.create(
            case=case,
            requested_by=coordinator,
            items=[DocumentCode.TEST_DATA.value],
            message="CT画像もお送りください。",
            due_date=jst_today() + timedelta(days=14),
        )
    if status is Status.REJECTED:
        case.rejection_reasons = [Reason.WANTS_TRANSFER.value]
        fields.append("rejection_reasons")
    if status is Status.DECLINED:
        case.decline_reason = "当科では対応できる専門医がおりません。"
        fields.append("decline_reason")
    if fields:
        case.save(update_fields=fields)


def add_document(
    case: Case,
    kind: str,
    *,
    test_data_kind: str = "",
    proxy: Proxy | None = None,
    id_type: str = "",
    uploaded_by: User | None = None,
    source: UploadSource = UploadSource.APPLICANT,
    uploaded_at: datetime | None = None,
) -> Document:
    """A one-page PDF stored as the upload service stores it (checked content, SHA-256)."""
    upload = demo_pdf(f"Test {kind}", f"{kind}.pdf")
    content = upload.read()
    document = Document(
        case=case,
        kind=DocumentKind(kind),
        test_data_kind=test_data_kind,
        id_type=id_type,
        proxy=proxy if kind == DocumentKind.PROXY_ID else None,
        original_name=f"{kind}.pdf",
        file_kind="pdf",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=uploaded_by or case.applicant,
        source=source,
        identity_check_pending=kind == DocumentKind.PATIENT_ID,
    )
    document.file.save("upload", ContentFile(content), save=False)
    document.save()
    if uploaded_at is not None:
        Document.objects.filter(pk=document.pk).update(uploaded_at=uploaded_at)
    return document


def ready_case(
    *,
    applicant: User | None = None,
    mode: str = "online",
    department: str = "cardiology",
    disease: str = "heart_failure",
    specialist: User | None = None,
    planned_minutes: int = 30,
) -> Case:
    """A case booked in the department's first free slot and `ready` for its consult: accepted
    (written directly), then offered, booked and prepared through the services (`prepare`).
    The consult is Dr Tanaka's unless another specialist is named."""
    specialist = specialist or persona("dr_tanaka")
    case = case_in(
        Status.ACCEPTED,
        applicant=applicant or persona("patient_hana"),
        mode=mode,
        department=department,
        disease=disease,
        specialist=specialist,
        planned_minutes=planned_minutes,
    )
    return prepare(case, specialist=specialist)


def prepare(case: Case, *, specialist: User | None = None) -> Case:
    """Offer an accepted case its first free slot (of `specialist`, if given), book it and do
    every step before the consult, through the scheduling and readiness services, so that their
    rows stay right as those apps change. The patient's own account must be linked."""
    from opiniondesk.catalog.selectors import patient_deadline
    from opiniondesk.demo.texts import load_consent_form
    from opiniondesk.readiness import services as readiness
    from opiniondesk.readiness.selectors import current_consent_form
    from opiniondesk.scheduling.selectors import suggest_slots
    from opiniondesk.scheduling.services import booking_create, offer_create

    case.refresh_from_db()
    coordinator = persona("coordinator_sato")
    slots = suggest_slots(department=case.department, today=jst_today(), limit=40)
    slot = next(s for s in slots if specialist is None or s.specialist_id == specialist.pk)
    first_day = slot.starts_at.astimezone(JST).date()
    offer = offer_create(
        case_id=case.pk,
        actor=coordinator,
        slots=[(slot.specialist_id, slot.starts_at)],
        hold_until=patient_deadline(
            datetime.combine(first_day - timedelta(days=1), time.max, tzinfo=JST)
        ),
    )
    booking_create(case_id=case.pk, actor=case.applicant, offered_slot_id=offer.slots.get().pk)
    document = add_document(case, "patient_id", id_type="passport")
    readiness.identity_review(document_id=document.pk, actor=coordinator, verified=True)
    if case.mode == "online":
        patient = User.objects.get(pk=case.patient_account_id_effective)
        if case.applicant_relation != "self":  # the patient's own acceptance (SPEC §6)
            readiness.patient_privacy_accept(
                case_id=case.pk, actor=patient, version=case.privacy_policy.version
            )
        form = current_consent_form() or load_consent_form()
        readiness.consent_sign(
            case_id=case.pk,
            actor=patient,
            signer_name=case.patient_name,
            form_version=form.version,
            language="ja",
        )
        readiness.device_check_record(
            case_id=case.pk,
            actor=case.applicant,
            camera_ok=True,
            microphone_ok=True,
            connection_ok=True,
            round_trip_ms=20,
        )
    case.refresh_from_db()
    assert case.status == Status.READY, case.status
    return case


def completed_case(
    *,
    mode: str = "in_person",
    call_minutes: int = 25,
    review_minutes: int = 0,
    card: bool = False,
    applicant: User | None = None,
    department: str = "cardiology",
) -> Case:
    """A case whose consult lasted `call_minutes` after `review_minutes` of review, ended through
    the consult services (so its charge is opened by them). With `card`, a card on file
    (Stripe test references) is registered before the consult, as the checklist would have.
    The clock is not moved: the consult's start is written back in time."""
    from opiniondesk.consults import services as consults
    from opiniondesk.consults.models import EndReason

    case, consult_id = in_call_case(
        mode=mode,
        call_minutes=call_minutes,
        review_minutes=review_minutes,
        card=card,
        applicant=applicant,
        department=department,
    )
    consults.call_end(consult_id=consult_id, user=persona("dr_tanaka"), reason=EndReason.SPECIALIST)
    case.refresh_from_db()
    assert case.status == Status.COMPLETED, case.status
    return case


def completed_case_without_charge(**kwargs: Any) -> Case:
    """A completed case whose consult ended while no fee table was in force, so it has no
    charge (billing opens it later): the fee tiers are taken away for the consult's end and
    put back. Kept records cannot simply be deleted (records/guard.py)."""
    from opiniondesk.billing.models import FeeTier

    tiers = list(FeeTier.objects.values())
    FeeTier.objects.all().delete()
    try:
        case = completed_case(**kwargs)
    finally:
        FeeTier.objects.bulk_create(FeeTier(**row) for row in tiers)
    return case


def in_call_case(
    *,
    mode: str = "in_person",
    call_minutes: int = 25,
    review_minutes: int = 0,
    card: bool = False,
    applicant: User | None = None,
    department: str = "cardiology",
) -> tuple[Case, int]:
    """A ready case whose consult started `call_minutes` ago (see `completed_case`): the case
    and its consult's id."""
    from django.db import transaction

    from opiniondesk.billing.models import CardOnFile, Provider
    from opiniondesk.cases.lifecycle import case_lock, case_transition
    from opiniondesk.consults import services as consults
    from opiniondesk.consults.models import ConsultState, ReviewSession

    case = case_in(
        Status.ACCEPTED,
        applicant=applicant or persona("patient_hana"),
        mode=mode,
        department=department,
    )
    specialist = persona("dr_tanaka")
    now = timezone.now()
    if card:
        CardOnFile.objects.create(
            case=case,
            provider=Provider.STRIPE,
            customer_ref="cus_test_builder",
            method_ref="pm_card_visa",
            brand="visa",
            last4="4242",
            exp_month=12,
            exp_year=now.year + 3,
            saved_by=case.applicant,
            saved_at=now,
        )
    case = prepare(case, specialist=specialist)
    started = now - timedelta(minutes=call_minutes, seconds=20)
    if review_minutes:
        ReviewSession.objects.create(
            case=case,
            specialist=specialist,
            started_at=started - timedelta(minutes=review_minutes + 5),
            ended_at=started - timedelta(minutes=5),
        )
    with transaction.atomic():
        locked = case_lock(case.pk)
        consult = consults.consult_open(case=locked)
        consult.review_seconds = review_minutes * 60
        consult.started_at, consult.state = started, ConsultState.IN_CALL
        consult.limit_at = started + timedelta(minutes=60 - review_minutes)
        consult.patient_confirmed_at = consult.hospital_confirmed_at = started
        consult.save()
        case_transition(case=locked, to=Status.IN_CONSULT, actor=specialist)
    return case, consult.pk


def opinion_signed(
    case: Case,
    *,
    specialist: User | None = None,
    on_current: str = "現在の診断と治療方針は妥当と考えます。",
    on_future: str = "内服治療を継続し、3か月後に再評価してください。",
    remarks: str = "",
    answers: list[str] | None = None,
) -> Any:
    """The case's opinion written and signed through opinions.services as the specialist would
    (a draft, its preview's hash, the signature): `answers`, one to each of the patient's
    questions (made up when not given). Returns the signed OpinionVersion."""
    from opiniondesk.opinions import services as opinions

    specialist = specialist or persona("dr_tanaka")
    count = len(opinions.questions_of(case))
    draft = opinions.draft_save(
        case_id=case.pk,
        actor=specialist,
        on_current=on_current,
        on_future=on_future,
        answers=answers or [f"ご質問{n + 1}へのお答えです。" for n in range(count)],
        remarks=remarks,
    )
    return opinions.sign(
        version_id=draft.pk, actor=specialist, previewed_hash=draft.computed_hash(case.pk)
    )
