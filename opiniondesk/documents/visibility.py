"""Which kinds of document each role may open (SPEC §11.8, least data). Pure: no Django.

Identity papers — the patient's ID (本人確認書類), the attending family member's ID (代理人の本人
確認書類) and the proof of the relationship (続柄を確認できる書類) — are checked by the coordinators
and belong to the patient's side; the specialist reads the clinical materials, billing none of
these. Which *case* a user sees is decided elsewhere (cases.selectors.cases_visible_to); this
rule only narrows the documents of a case already visible.

Kinds and roles are the values of documents.models.DocumentKind and accounts.models.Role (the
table test checks every one of them against this rule).
"""

IDENTITY_KINDS = frozenset({"patient_id", "proxy_id", "relationship_proof"})
# The patient's side (the applicant, the patient's own account) and the coordinators.
SEES_IDENTITY = frozenset({"patient", "coordinator"})


def kinds_hidden_from(role: str) -> frozenset[str]:
    """The document kinds a user of `role` may neither list nor open."""
    return frozenset() if role in SEES_IDENTITY else IDENTITY_KINDS


def may_see(role: str, kind: str) -> bool:
    return kind not in kinds_hidden_from(role)
