"""The steps of the application wizard, in order, and which of them and of their questions
apply to who applies (pages: `views`; the documents step is the documents app's page).

The privacy step comes right after "who is applying": nothing beyond who applies is stored
before the policy is accepted (SPEC §6; `services` refuses it too).
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from opiniondesk.cases import forms
from opiniondesk.cases.wizard_rules import next_step, step_slugs


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form: type[forms.StepForm] | None


def steps() -> list[Step]:
    """Every step, in order (a family member's path: the longest)."""
    return [
        Step("applicant", _("Who is applying"), forms.ApplicantForm),
        Step("privacy", _("Privacy policy"), None),
        Step("proxies", _("Family members attending"), None),
        Step("patient", _("The patient"), forms.PatientForm),
        Step("consult", _("Department and mode"), forms.ConsultForm),
        Step("sheet", _("Consultation sheet"), forms.SheetForm),
        Step("physician", _("Attending physician and questions"), forms.PhysicianForm),
        Step("documents", _("Documents"), None),
        Step("review", _("Check and send"), None),
    ]


def steps_for(relation: str) -> list[Step]:
    slugs = step_slugs(relation)
    return sorted((s for s in steps() if s.slug in slugs), key=lambda s: slugs.index(s.slug))


def step_after(slug: str, relation: str = "") -> str:
    return next_step(slug, relation)
