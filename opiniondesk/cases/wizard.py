"""The steps of the application wizard, in order (pages: `views`; the documents step is the
documents app's page)."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from opiniondesk.cases import forms


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form: type[forms.StepForm] | None


def steps() -> list[Step]:
    return [
        Step("applicant", _("Who is applying"), forms.ApplicantForm),
        Step("proxies", _("Family members attending"), None),
        Step("patient", _("The patient"), forms.PatientForm),
        Step("consult", _("Department and mode"), forms.ConsultForm),
        Step("sheet", _("Consultation sheet"), forms.SheetForm),
        Step("physician", _("Attending physician and questions"), forms.PhysicianForm),
        Step("privacy", _("Privacy policy"), None),
        Step("documents", _("Documents"), None),
        Step("review", _("Check and send"), None),
    ]


def step_after(slug: str) -> str:
    slugs = [s.slug for s in steps()]
    return slugs[slugs.index(slug) + 1]
