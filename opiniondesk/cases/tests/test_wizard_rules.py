"""Which steps and questions apply to who applies, and which policy is in force (pure)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from opiniondesk.cases.privacy import policy_in_force
from opiniondesk.cases.wizard_rules import (
    needs_privacy_first,
    next_step,
    patient_questions_skipped,
    step_slugs,
)

FAMILY = ["applicant", "privacy", "proxies", "patient", "consult", "sheet", "physician",
          "documents", "review"]  # fmt: skip
SELF = [s for s in FAMILY if s != "proxies"]


@pytest.mark.parametrize(
    ("relation", "path", "skipped"),
    [
        ("self", SELF, {"patient_deceased", "patient_consent"}),
        ("child", FAMILY, set()),
        ("spouse", FAMILY, set()),
        ("nephew_niece_in_law", FAMILY, set()),
        ("", FAMILY, {"patient_consent"}),  # not answered yet
    ],
)
def test_the_steps_and_questions_fit_who_applies(relation, path, skipped):
    assert step_slugs(relation) == path
    assert patient_questions_skipped(relation) == skipped
    assert path.index("privacy") == 1  # consent right after who applies


@pytest.mark.parametrize(
    ("slug", "relation", "after"),
    [
        ("applicant", "self", "privacy"),
        ("privacy", "self", "patient"),
        ("privacy", "child", "proxies"),
        ("proxies", "child", "patient"),
        ("proxies", "self", "patient"),  # a step not on the path goes on from the full order
        ("physician", "self", "documents"),
        ("documents", "child", "review"),
    ],
)
def test_next_step(slug, relation, after):
    assert next_step(slug, relation) == after


@pytest.mark.parametrize(
    ("fields", "needed"),
    [
        ([], False),
        (["applicant_relation"], False),
        (["applicant_family_name", "applicant_phone", "applicant_lives_with_patient"], False),
        (["current_diagnosis"], True),
        (["applicant_relation", "questions"], True),
        (["patient_family_name"], True),
        (["proxies"], True),
    ],
)
def test_what_needs_the_privacy_policy_first(fields, needed):
    assert needs_privacy_first(fields) is needed


@dataclass(frozen=True)
class P:
    version: str
    effective_from: date


V1, V2 = P("1", date(2026, 4, 1)), P("2", date(2026, 12, 1))


@pytest.mark.parametrize(
    ("policies", "at", "version"),
    [
        ([V1, V2], datetime(2026, 11, 30, 14, 59, 59, tzinfo=UTC), "1"),  # 23:59:59 JST
        ([V1, V2], datetime(2026, 11, 30, 15, 0, tzinfo=UTC), "2"),  # 00:00 JST on 1 Dec
        ([V2, V1], datetime(2027, 1, 1, tzinfo=UTC), "2"),
        ([V2], datetime(2026, 6, 1, tzinfo=UTC), None),  # only a future version: none offered
        ([], datetime(2026, 6, 1, tzinfo=UTC), None),
        ([V1], datetime(2026, 3, 31, 15, 0, tzinfo=UTC), "1"),
        ([V1], datetime(2026, 3, 31, 14, 59, tzinfo=UTC), None),
    ],
)
def test_the_policy_in_force_at_a_jst_instant(policies, at, version):
    found = policy_in_force(policies, at=at)
    assert (found.version if found else None) == version


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError):
        policy_in_force([V1], at=datetime(2026, 6, 1))
