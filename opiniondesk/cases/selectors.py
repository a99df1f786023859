"""Reads for cases. For now: the eligibility verdict, shared by the API and the public pages."""

from collections.abc import Mapping
from datetime import date
from typing import Any

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
from opiniondesk.catalog.selectors import eligibility_catalog
from opiniondesk.catalog.vocabulary import DocumentCode, Mode


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
