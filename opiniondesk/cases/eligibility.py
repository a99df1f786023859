"""Who may apply for a second opinion (SPEC §3).

`evaluate` is a pure function of the application, the hospital's catalog and the date (JST):
no database, settings or clock. It returns reason codes and missing-document codes; templates
and the API turn codes into words.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from opiniondesk.cases.age import is_adult
from opiniondesk.cases.kinship import Relation, kinship
from opiniondesk.catalog.vocabulary import DocumentCode, Mode


class Reason(StrEnum):
    """Refusal reason codes, in the order of SPEC §3."""

    REQUESTER_NOT_FAMILY = "REQUESTER_NOT_FAMILY"
    PROXY_CONSENT_MISSING = "PROXY_CONSENT_MISSING"
    WANTS_TESTS_OR_TREATMENT = "WANTS_TESTS_OR_TREATMENT"
    WANTS_TRANSFER = "WANTS_TRANSFER"
    COMPLAINT_OR_LITIGATION = "COMPLAINT_OR_LITIGATION"
    PATIENT_DECEASED = "PATIENT_DECEASED"
    FEE_OR_BENEFIT_QUESTION = "FEE_OR_BENEFIT_QUESTION"
    ATTENDING_PHYSICIAN_NOT_AGREED = "ATTENDING_PHYSICIAN_NOT_AGREED"
    MATERIALS_UNAVAILABLE = "MATERIALS_UNAVAILABLE"
    NO_SPECIALIST = "NO_SPECIALIST"
    OVERSEAS_NO_JP_INSURANCE = "OVERSEAS_NO_JP_INSURANCE"
    OVERSEAS_ONLINE = "OVERSEAS_ONLINE"
    PRIVACY_NOT_ACCEPTED = "PRIVACY_NOT_ACCEPTED"


class Consent(StrEnum):
    """The patient's consent to a proxy's consultation (相談同意書)."""

    SIGNED = "signed"
    UNABLE_TO_SIGN_NOTE = "unable_to_sign_note"  # 署名できない旨の記載: counts as consent
    NONE = "none"


@dataclass(frozen=True)
class Patient:
    birth_date: date
    deceased: bool = False
    resides_in_japan: bool = True
    has_japanese_insurance: bool = True


@dataclass(frozen=True)
class Requester:
    relation: Relation
    patient_consent: Consent = Consent.NONE


@dataclass(frozen=True)
class Declarations:
    attending_physician_agrees: bool = True
    wants_tests_or_treatment_here: bool = False
    wants_transfer: bool = False
    complaint_or_litigation: bool = False
    fee_or_benefit_question: bool = False
    can_provide_materials: bool = True


@dataclass(frozen=True)
class Application:
    mode: Mode
    department: str
    disease: str
    patient: Patient
    requester: Requester
    joining_from_japan: bool = True
    declarations: Declarations = field(default_factory=Declarations)
    privacy_policy_accepted: bool = True
    documents: frozenset[DocumentCode] = frozenset()


@dataclass(frozen=True)
class DepartmentRules:
    """What eligibility needs to know of one department of the catalog."""

    code: str
    modes: frozenset[Mode]
    diseases: frozenset[str]
    extra_documents: tuple[DocumentCode, ...] = ()


Catalog = Mapping[str, DepartmentRules]


@dataclass(frozen=True)
class Verdict:
    reasons: tuple[Reason, ...]
    missing_documents: tuple[DocumentCode, ...]
    required_documents: tuple[DocumentCode, ...]

    @property
    def eligible(self) -> bool:
        """Eligible only with no refusal reason and nothing missing."""
        return not self.reasons and not self.missing_documents

    @property
    def refused(self) -> bool:
        """Refused whatever documents arrive later."""
        return bool(self.reasons)


def _covers(app: Application, catalog: Catalog) -> bool:
    dept = catalog.get(app.department)
    return dept is not None and app.disease in dept.diseases and app.mode in dept.modes


def refusal_reasons(app: Application, *, catalog: Catalog, today: date) -> tuple[Reason, ...]:
    """Every rule of SPEC §3 that fails, in the order of the specification."""
    kin = kinship(app.requester.relation)
    patient, decl = app.patient, app.declarations
    proxy_without_consent = (
        kin.is_proxy
        and kin.is_family
        and not patient.deceased
        and is_adult(patient.birth_date, today)
        and app.requester.patient_consent is Consent.NONE
    )
    failing = {
        Reason.REQUESTER_NOT_FAMILY: not kin.is_family,
        Reason.PROXY_CONSENT_MISSING: proxy_without_consent,
        Reason.WANTS_TESTS_OR_TREATMENT: decl.wants_tests_or_treatment_here,
        Reason.WANTS_TRANSFER: decl.wants_transfer,
        Reason.COMPLAINT_OR_LITIGATION: decl.complaint_or_litigation,
        Reason.PATIENT_DECEASED: patient.deceased,
        Reason.FEE_OR_BENEFIT_QUESTION: decl.fee_or_benefit_question,
        Reason.ATTENDING_PHYSICIAN_NOT_AGREED: not decl.attending_physician_agrees,
        Reason.MATERIALS_UNAVAILABLE: not decl.can_provide_materials,
        Reason.NO_SPECIALIST: not _covers(app, catalog),
        Reason.OVERSEAS_NO_JP_INSURANCE: (
            not patient.resides_in_japan and not patient.has_japanese_insurance
        ),
        Reason.OVERSEAS_ONLINE: app.mode is Mode.ONLINE and not app.joining_from_japan,
        Reason.PRIVACY_NOT_ACCEPTED: not app.privacy_policy_accepted,
    }
    return tuple(reason for reason in Reason if failing[reason])


def required_documents(
    app: Application, *, catalog: Catalog, today: date
) -> tuple[DocumentCode, ...]:
    """The documents this applicant must send, in the order of SPEC §3."""
    kin = kinship(app.requester.relation)
    adult = app.patient.deceased or is_adult(app.patient.birth_date, today)
    dept = catalog.get(app.department)
    extra = set(dept.extra_documents) if dept is not None else set()
    needed = {
        DocumentCode.REFERRAL_LETTER: True,
        DocumentCode.TEST_DATA: True,
        DocumentCode.CONSENT_FORM: kin.is_proxy and adult,
        DocumentCode.RELATIONSHIP_PROOF: kin.is_proxy,
        DocumentCode.PROXY_ID: kin.is_proxy,
        DocumentCode.MEDICATION_LIST: False,  # only when the department asks for it
    }
    return tuple(code for code in DocumentCode if needed[code] or code in extra)


def evaluate(app: Application, *, catalog: Catalog, today: date) -> Verdict:
    """Apply SPEC §3 to an application on `today` (a JST date)."""
    required = required_documents(app, catalog=catalog, today=today)
    return Verdict(
        reasons=refusal_reasons(app, catalog=catalog, today=today),
        missing_documents=tuple(code for code in required if code not in app.documents),
        required_documents=required,
    )
