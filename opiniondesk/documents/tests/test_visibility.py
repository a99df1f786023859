"""Which document kinds each role may open (documents.visibility): every kind × every role."""

import pytest

from opiniondesk.accounts.models import Role
from opiniondesk.documents.models import DocumentKind
from opiniondesk.documents.visibility import kinds_hidden_from, may_see

K = DocumentKind
IDENTITY = {K.PATIENT_ID, K.PROXY_ID, K.RELATIONSHIP_PROOF}
CLINICAL = {K.REFERRAL_LETTER, K.TEST_DATA, K.CONSENT_FORM, K.MEDICATION_LIST}
PAPER = {K.SCANNED_FORM, K.OTHER}

# role → the kinds it may open; every kind is listed for every role below.
SEES = {
    Role.PATIENT: IDENTITY | CLINICAL | PAPER,  # the patient's side: their own papers
    Role.COORDINATOR: IDENTITY | CLINICAL | PAPER,  # checks the IDs and the relationship
    Role.SPECIALIST: CLINICAL | PAPER,  # the clinical materials, no identity papers
    Role.BILLING_CLERK: CLINICAL | PAPER,  # (sees no case before billing; never the IDs)
    Role.ADMIN: CLINICAL | PAPER,  # (sees no case at all; never the IDs)
}


def test_the_table_names_every_kind_and_every_role():
    assert set(DocumentKind) == IDENTITY | CLINICAL | PAPER
    assert set(SEES) == set(Role)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("kind", list(DocumentKind))
def test_each_role_sees_its_kinds(role, kind):
    assert may_see(role, kind) is (kind in SEES[role])
    assert (kind in kinds_hidden_from(role)) is (kind not in SEES[role])


def test_a_role_given_as_plain_text_is_the_same():
    assert may_see("specialist", "proxy_id") is False
    assert may_see("coordinator", "relationship_proof") is True
