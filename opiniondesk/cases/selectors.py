"""Reads for cases, each checking access as it fetches."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from opiniondesk.accounts.models import Role, User
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
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.selectors import eligibility_catalog
from opiniondesk.catalog.vocabulary import DocumentCode, Mode

# A specialist sees a case once it is referred to one of their departments (SPEC §1).
SPECIALIST_STATES = frozenset(Status) - {
    Status.DRAFT,
    Status.SUBMITTED,
    Status.SCREENING,
    Status.AWAITING_DOCUMENTS,
    Status.REJECTED,
}
BILLING_STATES = frozenset({Status.COMPLETED, Status.CHARGED, Status.CLOSED})


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Every case this user may see; the single place where case access is decided."""
    cases = Case.objects.all()
    if not user.is_authenticated or not user.is_active:
        return cases.none()
    if user.role == Role.PATIENT:
        return cases.filter(applicant=user)
    if user.role == Role.COORDINATOR:
        return cases.exclude(status=Status.DRAFT)
    if user.role == Role.SPECIALIST:
        return cases.filter(status__in=SPECIALIST_STATES, department__in=user.departments.all())
    if user.role == Role.BILLING_CLERK:
        return cases.filter(status__in=BILLING_STATES)
    return cases.none()  # admins: no clinical data by default


def case_get_for_user(*, user: User, case_id: int) -> Case:
    """The case, or 404 when it does not exist or is not this user's to see."""
    case = cases_visible_to(user).filter(pk=case_id).select_related("department", "disease").first()
    if case is None:
        raise Http404("no such case")
    return case


def case_counts_by_status(*, user: User) -> dict[str, int]:
    rows = cases_visible_to(user).values("status").annotate(n=Count("pk")).order_by()
    return {row["status"]: row["n"] for row in rows}


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
