"""Which wizard steps and questions apply to who applies, and what needs the privacy policy
accepted first (SPEC §3, §6). Pure: no database, settings or clock."""

from collections.abc import Iterable

from opiniondesk.cases.kinship import Relation

# `relation` is "" until the applicant step is answered.

FAMILY_ONLY_STEPS = frozenset({"proxies"})

# The answers a case may hold before the privacy policy is accepted: who applies, nothing more.
WHO_APPLIES = frozenset(
    {
        "applicant_relation",
        "applicant_family_name",
        "applicant_given_name",
        "applicant_family_name_kana",
        "applicant_given_name_kana",
        "applicant_phone",
        "applicant_lives_with_patient",
    }
)


# The steps that store more than who applies: they open once the privacy policy is accepted.
AFTER_PRIVACY_STEPS = frozenset(
    {"proxies", "patient", "consult", "sheet", "physician", "documents"}
)


def applies_for_family(relation: str) -> bool:
    """Until the applicant says they are the patient, the family member's questions stay."""
    return relation != Relation.SELF


def step_slugs(relation: str) -> list[str]:
    """The steps this applicant goes through: a patient applying for themselves lists no
    attending family (SPEC §3 asks for them only when family attend for the patient)."""
    return [
        s
        for s in (
            "applicant",
            "privacy",
            "proxies",
            "patient",
            "consult",
            "sheet",
            "physician",
            "documents",
            "review",
        )
        if applies_for_family(relation) or s not in FAMILY_ONLY_STEPS
    ]


def next_step(slug: str, relation: str) -> str:
    """The step after `slug` on this applicant's path (also from a step not on it)."""
    order, path = step_slugs(""), step_slugs(relation)
    return next(s for s in order[order.index(slug) + 1 :] if s in path)


def patient_questions_skipped(relation: str) -> frozenset[str]:
    """The patient step's questions not asked of this applicant, and why not: a patient
    applying is alive, and needs no consent to their own consultation."""
    if relation == Relation.SELF:
        return frozenset({"patient_deceased", "patient_consent"})
    if relation == "":
        return frozenset({"patient_consent"})  # asked once we know a family member applies
    return frozenset()


def needs_privacy_first(fields: Iterable[str]) -> bool:
    """Storing these answers needs the privacy policy accepted first (SPEC §6)."""
    return not set(fields) <= WHO_APPLIES
