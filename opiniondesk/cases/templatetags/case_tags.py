from django import template

from opiniondesk.cases import wording
from opiniondesk.cases.kinship import Relation
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.vocabulary import DocumentCode, Mode
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
