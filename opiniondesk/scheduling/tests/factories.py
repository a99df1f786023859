"""Cases brought to `accepted` through the real services, and the people who act on them.

Shared by the scheduling and readiness tests (and their browser tests)."""

from datetime import date, datetime, time, timedelta

from opiniondesk.accounts.mfa import enrol_demo_factor
from opiniondesk.accounts.models import Role, User
from opiniondesk.cases.demo import HANA, KEN, PROXY_PAPERS, _answers, _apply, _refer
from opiniondesk.cases.models import Case
from opiniondesk.cases.screening import case_accept
from opiniondesk.catalog.closed_days import is_open
from opiniondesk.catalog.models import Department
from opiniondesk.core.time import JST
from opiniondesk.scheduling.selectors import SlotView, suggest_slots

PASSWORD = "pw-1234567890"


def user(username: str, role: Role, *departments: str, **fields: object) -> User:
    person = User.objects.create_user(
        username, f"{username}@example.jp", PASSWORD, role=role, **fields
    )
    if role != Role.PATIENT:
        enrol_demo_factor(person)
    if departments:
        person.departments.set(Department.objects.filter(code__in=departments))
    return person


def accepted_case(
    applicant: User,
    *,
    coordinator: User,
    specialist: User,
    mode: str = "online",
    department: str = "cardiology",
    disease: str = "heart_failure",
    relation: str = "self",
) -> Case:
    """An application sent, screened, referred and accepted, as the pages would do it."""
    answers = _answers(
        relation=relation, department=department, disease=disease, mode=mode, patient=HANA
    )
    if relation == "self":
        answers |= {
            "patient_family_name": applicant.last_name or HANA["patient_family_name"],
            "patient_given_name": applicant.first_name or HANA["patient_given_name"],
        }
        case = _apply(applicant, answers)
    else:
        case = _apply(applicant, {**answers, **KEN}, PROXY_PAPERS, proxy=True)
    case = _refer(case, coordinator)
    return case_accept(case_id=case.pk, actor=specialist)


def free_slots(case: Case, today: date | None = None, limit: int = 6) -> list[SlotView]:
    today = today or datetime.now(JST).date()
    return suggest_slots(department=case.department, today=today, limit=limit)


def hold_until_for(slots: list[SlotView]) -> datetime:
    """A hold that ends the evening before the first candidate's day... or today + 1 open day."""
    first_day = slots[0].starts_at.astimezone(JST).date()
    return datetime.combine(first_day - timedelta(days=1), time(18, 0), tzinfo=JST)


def next_open(day: date) -> date:
    while not is_open(day):
        day += timedelta(days=1)
    return day
