from datetime import date

from django import template

from opiniondesk.cases import wording
from opiniondesk.cases.age import age_on
from opiniondesk.cases.forms import DECLARATION_QUESTIONS
from opiniondesk.cases.kinship import Relation
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.vocabulary import DocumentCode, Mode
from opiniondesk.core.time import jst_today
from opiniondesk.public.wording import DOCUMENT_TITLES, MODE_NAMES, RELATION_NAMES

register = template.Library()


@register.filter
def status_label(status: str) -> str:
    return wording.status_label(status)


@register.filter
def next_step(status: str) -> str:
    return str(wording.NEXT_STEPS[Status(status)])


@register.filter
def relation_name(relation: str) -> str:
    return str(RELATION_NAMES[Relation(relation)]) if relation else ""


@register.filter
def mode_name(mode: str) -> str:
    return str(MODE_NAMES[Mode(mode)]) if mode else ""


@register.filter
def document_title(code: str) -> str:
    return str(DOCUMENT_TITLES[DocumentCode(code)])


@register.filter
def declarations(case: Case) -> list[tuple[str, bool | None]]:
    """The declarations of SPEC §3 as (question, answer), for the summary of an application."""
    return [
        (str(question), getattr(case, name)) for name, question in DECLARATION_QUESTIONS.items()
    ]


@register.filter
def age_today(birth_date: date | None) -> int | None:
    """The patient's age today (JST), shown next to the birth date so a typo stands out."""
    if birth_date is None or birth_date > jst_today():
        return None
    return age_on(birth_date, jst_today())


@register.filter
def all_arrived(checklist: list[tuple[DocumentCode, bool]]) -> bool:
    """Whether every document on the live checklist has arrived."""
    return bool(checklist) and all(have for _code, have in checklist)
