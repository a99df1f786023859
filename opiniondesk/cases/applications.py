"""From a stored case to the pure eligibility Application, and what is still unanswered."""

from datetime import date

from opiniondesk.cases.eligibility import (
    Application,
    Consent,
    Declarations,
    Patient,
    Requester,
    required_documents,
)
from opiniondesk.cases.kinship import Relation, kinship
from opiniondesk.cases.models import Case
from opiniondesk.cases.wizard_rules import step_slugs
from opiniondesk.catalog.selectors import eligibility_catalog
from opiniondesk.catalog.vocabulary import DocumentCode, Mode
from opiniondesk.core.time import jst_today
from opiniondesk.documents.models import KIND_TO_CODE, DocumentKind

DECLARATIONS = (
    "attending_physician_agrees",
    "wants_tests_or_treatment_here",
    "wants_transfer",
    "complaint_or_litigation",
    "fee_or_benefit_question",
    "can_provide_materials",
)

# The wizard's steps and the answers each must hold before the application can be sent.
REQUIRED_BY_STEP: dict[str, tuple[str, ...]] = {
    "applicant": ("applicant_relation",),
    "patient": (
        "patient_family_name",
        "patient_given_name",
        "patient_family_name_kana",
        "patient_given_name_kana",
        "patient_birth_date",
        "patient_sex",
        "patient_postal_code",
        "patient_address",
        "patient_phone",
        "patient_resides_in_japan",
        "patient_has_japanese_insurance",
    ),
    "consult": ("mode", "department_id", "disease_id"),
    "sheet": ("current_diagnosis", "questions"),
    "physician": ("physician_name", "physician_institution", *DECLARATIONS),
    "privacy": ("privacy_policy_id",),
}


# Who a family member applying is and how to reach them (told once, reused for the attending
# family; the form also asks the kana).
FAMILY_APPLICANT_FIELDS = ("applicant_family_name", "applicant_given_name", "applicant_phone")


def _blank(value: object) -> bool:
    return value is None or value == ""


def missing_answers(case: Case) -> list[str]:
    """The steps with an unanswered required question, in wizard order."""
    steps = [
        step
        for step, fields in REQUIRED_BY_STEP.items()
        if any(_blank(getattr(case, field)) for field in fields)
    ]
    is_proxy = "applicant" not in steps and kinship(Relation(case.applicant_relation)).is_proxy
    if is_proxy and any(_blank(getattr(case, f)) for f in FAMILY_APPLICANT_FIELDS):
        steps.append("applicant")
    if is_proxy and not case.proxies.exists():  # someone of the family attends
        steps.append("proxies")
    if case.mode == Mode.ONLINE and case.joining_from_japan is None:
        steps.append("consult")
    if not (case.wants_opinion_on_current or case.wants_opinion_on_future):
        steps.append("sheet")
    order = step_slugs("")
    return sorted(set(steps), key=order.index)


def document_codes(case: Case) -> frozenset[DocumentCode]:
    """The missing-document codes that the case's uploads satisfy."""
    documents = list(case.documents.all())
    codes = {
        KIND_TO_CODE[DocumentKind(d.kind)]
        for d in documents
        if DocumentKind(d.kind) in KIND_TO_CODE and d.kind != DocumentKind.PROXY_ID
    }
    # Every attending family member needs their own ID (SPEC §3).
    proxies = list(case.proxies.all())
    with_id = {d.proxy_id for d in documents if d.kind == DocumentKind.PROXY_ID}
    if (proxies and all(p.pk in with_id for p in proxies)) or (not proxies and with_id):
        codes.add(DocumentCode.PROXY_ID)
    return frozenset(codes)


def application_from_case(case: Case) -> Application:
    """The case as the eligibility rules see it. Only call it once `missing_answers` is empty."""
    return Application(
        mode=Mode(case.mode),
        department=case.department.code if case.department else "",
        disease=case.disease.code if case.disease else "",
        patient=Patient(
            birth_date=case.patient_birth_date,
            # Not asked of a patient applying: alive by construction.
            deceased=case.patient_deceased and case.applicant_relation != Relation.SELF,
            resides_in_japan=bool(case.patient_resides_in_japan),
            has_japanese_insurance=bool(case.patient_has_japanese_insurance),
        ),
        requester=Requester(
            relation=Relation(case.applicant_relation),
            patient_consent=Consent(case.patient_consent),
        ),
        joining_from_japan=bool(case.joining_from_japan) or case.mode != Mode.ONLINE,
        declarations=Declarations(**{name: bool(getattr(case, name)) for name in DECLARATIONS}),
        privacy_policy_accepted=case.privacy_policy_id is not None,
        documents=document_codes(case),
    )


def checklist(case: Case) -> list[tuple[DocumentCode, bool]]:
    """Each document this applicant must send and whether it has arrived, as far as known.

    Uses the same rule as submission (`required_documents`). Until the form says otherwise,
    the patient counts as an adult applying alone.
    """
    today = jst_today()
    app = Application(
        mode=Mode(case.mode) if case.mode else Mode.IN_PERSON,
        department=case.department.code if case.department else "",
        disease=case.disease.code if case.disease else "",
        patient=Patient(birth_date=case.patient_birth_date or date(1900, 1, 1)),
        requester=Requester(
            relation=Relation(case.applicant_relation or Relation.SELF),
            patient_consent=Consent(case.patient_consent),
        ),
    )
    have = document_codes(case)
    required = required_documents(app, catalog=eligibility_catalog(), today=today)
    return [(code, code in have) for code in required]
