"""Reads for cases, each checking access as it fetches."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404
from django.utils import timezone

from opiniondesk.accounts.models import Role, User
from opiniondesk.cases.applications import application_from_case
from opiniondesk.cases.eligibility import (
    Application,
    Consent,
    Declarations,
    Patient,
    Requester,
    Verdict,
    evaluate,
)
from opiniondesk.cases.kinship import Relation
from opiniondesk.cases.models import (
    Case,
    CaseStateCount,
    CaseTransition,
    Channel,
    DocumentRequest,
    PhoneLog,
    PrivacyPolicy,
    Proxy,
)
from opiniondesk.cases.privacy import policy_in_force
from opiniondesk.cases.queue_search import NO_SEARCH, Search, SearchKind, phone_pattern
from opiniondesk.cases.workflow import BILLING_STATES, SPECIALIST_STATES, Status
from opiniondesk.catalog.selectors import eligibility_catalog
from opiniondesk.catalog.vocabulary import DocumentCode, Mode
from opiniondesk.core.converters import MAX_ID
from opiniondesk.core.time import jst_today
from opiniondesk.documents.models import Document
from opiniondesk.documents.visibility import kinds_hidden_from


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Every case this user may see; the single place where case access is decided."""
    cases = Case.objects.all()
    if not user.is_authenticated or not user.is_active:
        return cases.none()
    if user.role == Role.PATIENT:
        # The applicant, and the patient's own account once linked (a draft stays the applicant's).
        return cases.filter(Q(applicant=user) | (Q(patient_account=user) & ~Q(status=Status.DRAFT)))
    if user.role == Role.COORDINATOR:
        # A draft is the applicant's, unless a coordinator opened it (on paper, by phone).
        return cases.exclude(Q(status=Status.DRAFT) & Q(channel=Channel.ONLINE))
    if user.role == Role.SPECIALIST:
        # "Once referred": a case withdrawn during screening is in a specialist state too, but was
        # never the department's to see.
        return cases.filter(
            referred_at__isnull=False,
            status__in=SPECIALIST_STATES,
            department__in=user.departments.all(),
        )
    if user.role == Role.BILLING_CLERK:
        return cases.filter(status__in=BILLING_STATES)
    return cases.none()  # admins: no clinical data by default


def documents_visible_to(user: User, case: Case) -> QuerySet[Document]:
    """The case's documents this user may list and open: identity papers (the patient's and the
    family member's IDs, the proof of relationship) only for the coordinators and the patient's
    side (documents.visibility, least data). `case` must be one the user may see."""
    return Document.objects.filter(case=case).exclude(kind__in=kinds_hidden_from(user.role))


def case_get_for_user(*, user: User, case_id: int) -> Case:
    """The case, or 404 when it does not exist or is not this user's to see."""
    if not 0 < case_id <= MAX_ID:  # a forged, out-of-range id is no case, not a database error
        raise Http404("no such case")
    case = cases_visible_to(user).filter(pk=case_id).select_related("department", "disease").first()
    if case is None:
        raise Http404("no such case")
    return case


def open_document_request(case: Case) -> DocumentRequest | None:
    """The hospital's unanswered request for documents, while the case waits for them."""
    if case.status != Status.AWAITING_DOCUMENTS:
        return None
    return case.document_requests.filter(fulfilled_at__isnull=True).last()


def case_counts_by_status(*, user: User) -> dict[str, int]:
    """How many of the cases this user may see are in each state (none: absent)."""
    counted = _counted_visible_to(user)
    if counted is None:
        rows = cases_visible_to(user).values("status").annotate(n=Count("pk")).order_by()
    else:
        rows = counted.values("status").annotate(n=Sum("n")).order_by()
    return {row["status"]: row["n"] for row in rows if row["n"]}


def _counted_visible_to(user: User) -> QuerySet[CaseStateCount] | None:
    """The staff's share of the kept counts, by the rules of cases_visible_to (a test holds the
    two together); None for the patient's side, whose few cases are counted directly."""
    counts = CaseStateCount.objects.filter(n__gt=0)
    if not user.is_authenticated or not user.is_active:
        return counts.none()
    if user.role == Role.COORDINATOR:
        return counts.exclude(status=Status.DRAFT, channel=Channel.ONLINE)
    if user.role == Role.SPECIALIST:
        departments = list(user.departments.values_list("pk", flat=True))
        return counts.filter(
            referred=True, status__in=SPECIALIST_STATES, department_id__in=departments
        )
    if user.role == Role.BILLING_CLERK:
        return counts.filter(status__in=BILLING_STATES)
    if user.role == Role.PATIENT:
        return None
    return counts.none()


def application_from_data(data: Mapping[str, Any]) -> Application:
    """Build the pure Application from already validated data shaped as SPEC §10's body."""
    patient, requester = data["patient"], data["requester"]
    return Application(
        mode=Mode(data["mode"]),
        department=data["department"],
        disease=data["disease"],
        patient=Patient(
            birth_date=patient["birth_date"],
            deceased=patient["deceased"],
            resides_in_japan=patient["resides_in_japan"],
            has_japanese_insurance=patient["has_japanese_insurance"],
        ),
        requester=Requester(
            relation=Relation(requester["relation"]),
            patient_consent=Consent(requester["patient_consent"]),
        ),
        joining_from_japan=data["joining_from_japan"],
        declarations=Declarations(**data["declarations"]),
        privacy_policy_accepted=data["privacy_policy_accepted"],
        documents=frozenset(DocumentCode(code) for code in data["documents"]),
    )


def eligibility_verdict(app: Application, *, today: date) -> Verdict:
    """Evaluate an application against the hospital's current catalog."""
    return evaluate(app, catalog=eligibility_catalog(), today=today)


def case_verdict(case: Case) -> Verdict:
    """The eligibility verdict of a complete application, with its uploaded documents, today."""
    return eligibility_verdict(application_from_case(case), today=jst_today())


# The staff consoles (coordinator and specialist).


@dataclass(frozen=True)
class QueueFilters:
    """What the work queue shows; `states` None means every state the user may see."""

    states: frozenset[Status] | None = None
    department_id: int | None = None
    mode: str = ""
    channel: str = ""  # how the application reached us (Case.channel); "" for any
    min_days_waiting: int | None = None
    overdue: bool = False
    ids_to_check: bool = False  # an uploaded ID waits for a coordinator (本人確認待ち)
    newest_first: bool = False
    search: Search = NO_SEARCH  # 受付番号, phone or names (cases.queue_search)


def _open_request_due() -> Subquery:
    """The due date of the case's newest unanswered request for documents."""
    return Subquery(
        DocumentRequest.objects.filter(case=OuterRef("pk"), fulfilled_at__isnull=True)
        .order_by("-requested_at", "-pk")
        .values("due_date")[:1]
    )


def _consult_at() -> Subquery:
    """The start of the case's live booking."""
    from opiniondesk.scheduling.models import Booking

    return Subquery(
        Booking.objects.filter(case=OuterRef("pk"), cancelled_at__isnull=True).values("starts_at")[
            :1
        ]
    )


def _id_waiting() -> Exists:
    return Exists(Document.objects.filter(case=OuterRef("pk"), identity_check_pending=True))


def case_queue(*, user: User, filters: QueueFilters) -> QuerySet[Case]:
    """The cases waiting for this user, longest-waiting first unless asked otherwise.

    Waiting time runs from the last change of state: that is when the case landed on someone's
    desk (Case.waiting_since). Each row carries `request_due`, `consult_at` and `id_waiting` (no
    query per row). Paged by cases.keyset on (waiting_since, pk).
    """
    cases = (
        cases_visible_to(user)
        .select_related("department", "disease")
        .annotate(
            request_due=_open_request_due(),
            consult_at=_consult_at(),
            id_waiting=_id_waiting(),
        )
    )
    if filters.states is not None:
        cases = cases.filter(status__in=filters.states)
    if filters.department_id is not None:
        cases = cases.filter(department_id=filters.department_id)
    if filters.mode:
        cases = cases.filter(mode=filters.mode)
    if filters.channel:
        cases = cases.filter(channel=filters.channel)
    if filters.min_days_waiting:
        cutoff = timezone.now() - timedelta(days=filters.min_days_waiting)
        cases = cases.filter(waiting_since__lte=cutoff)
    if filters.overdue:
        cases = cases.filter(status=Status.AWAITING_DOCUMENTS, request_due__lt=jst_today())
    if filters.ids_to_check:
        cases = cases.filter(id_waiting=True)
    if filters.search.active:
        cases = cases.filter(_search_filter(filters.search))
    order = ("-waiting_since", "-pk") if filters.newest_first else ("waiting_since", "pk")
    return cases.order_by(*order)


# Beyond this a filtered queue says "1,000 or more": counting every match would read them all.
QUEUE_COUNT_CAP = 1000


def case_queue_count(*, user: User, filters: QueueFilters) -> tuple[int, bool]:
    """How many cases the queue holds with these filters, and whether that is only a lower
    bound. Filters on the kept counts' keys are exact and read a few rows; the others count at
    most QUEUE_COUNT_CAP + 1 matches."""
    plain = not (
        filters.min_days_waiting or filters.overdue or filters.ids_to_check or filters.search.active
    )
    if plain:
        n = cases_counted(
            user=user,
            states=filters.states,
            department_id=filters.department_id,
            mode=filters.mode,
            channel=filters.channel,
        )
        if n is not None:
            return n, False
    n = case_queue(user=user, filters=filters).order_by()[: QUEUE_COUNT_CAP + 1].count()
    return min(n, QUEUE_COUNT_CAP), n > QUEUE_COUNT_CAP


def cases_counted(
    *,
    user: User,
    states: frozenset[Status] | None = None,
    department_id: int | None = None,
    mode: str = "",
    channel: str = "",
) -> int | None:
    """How many cases this user may see match, from the kept counts (a few rows, however many
    cases); None for the patient's side, whose own cases the caller counts directly."""
    counted = _counted_visible_to(user)
    if counted is None:
        return None
    if states is not None:
        counted = counted.filter(status__in=states)
    if department_id is not None:
        counted = counted.filter(department_id=department_id)
    if mode:
        counted = counted.filter(mode=mode)
    if channel:
        counted = counted.filter(channel=channel)
    return counted.aggregate(n=Sum("n"))["n"] or 0


_NAME_FIELDS = (
    "patient_family_name",
    "patient_given_name",
    "patient_family_name_kana",
    "patient_given_name_kana",
    "applicant_family_name",
    "applicant_given_name",
)
_PROXY_NAME_FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana")
_PHONE_FIELDS = ("patient_phone", "applicant_phone")


def _search_filter(search: Search) -> Q:
    """The cases a queue search finds, among those the user may see anyway."""
    if search.kind == SearchKind.NAME:
        found = Q()
        for variants in search.terms:  # every term, in some name, in some kana spelling
            found &= _any_name(variants)
        return found
    found = Q(pk=search.case_id) if search.case_id else Q(pk__in=[])
    if search.kind == SearchKind.PHONE:
        pattern = phone_pattern(search.digits)
        for field in _PHONE_FIELDS:
            found |= Q(**{f"{field}__regex": pattern})
        proxies = Proxy.objects.filter(case=OuterRef("pk"), phone__regex=pattern)
        found |= Q(Exists(proxies))
    return found


def _any_name(variants: tuple[str, ...]) -> Q:
    on_case, on_proxy = Q(), Q()
    for variant in variants:
        for field in _NAME_FIELDS:
            on_case |= Q(**{f"{field}__icontains": variant})
        for field in _PROXY_NAME_FIELDS:
            on_proxy |= Q(**{f"{field}__icontains": variant})
    return on_case | Q(Exists(Proxy.objects.filter(on_proxy, case=OuterRef("pk"))))


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    kind: str  # "transition", "request", "call" or "document"
    item: Any


# Within the same instant a state change comes before what it caused.
_KIND_ORDER = {"transition": 0, "request": 1, "call": 2, "document": 3}


def case_history(case: Case, *, viewer: User, for_applicant: bool) -> list[HistoryEntry]:
    """Every state change, request for documents, phone call and upload, oldest first.

    The applicant's version leaves out the hospital's phone calls (their notes are internal);
    uploads are those the viewer may open (documents_visible_to).
    """
    entries = [
        HistoryEntry(t.at, "transition", t)
        for t in CaseTransition.objects.filter(case=case).select_related("actor")
    ]
    entries += [
        HistoryEntry(r.requested_at, "request", r)
        for r in DocumentRequest.objects.filter(case=case).select_related("requested_by")
    ]
    if not for_applicant:
        entries += [
            HistoryEntry(c.called_at, "call", c)
            for c in PhoneLog.objects.filter(case=case).select_related("called_by")
        ]
    entries += [
        HistoryEntry(d.uploaded_at, "document", d)
        for d in documents_visible_to(viewer, case).select_related("proxy", "uploaded_by")
    ]
    return sorted(entries, key=lambda e: (e.at, _KIND_ORDER[e.kind], e.item.pk))


def privacy_policy_in_force() -> PrivacyPolicy | None:
    """The version an applicant is offered now (its effective date reached, JST)."""
    return policy_in_force(PrivacyPolicy.objects.all(), at=timezone.now())
