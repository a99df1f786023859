"""The lifecycle table of SPEC §4, checked for every state × target × actor."""

import itertools

import pytest

from opiniondesk.cases.workflow import Actor, InvalidTransition, Status, allowed, check, next_states

S = Status
A, C, SP, B, SYS = (
    Actor.APPLICANT,
    Actor.COORDINATOR,
    Actor.SPECIALIST,
    Actor.BILLING_CLERK,
    Actor.SYSTEM,
)

# Written out by hand from SPEC §4, not computed from the module under test.
EXPECTED = {
    (S.DRAFT, S.SUBMITTED, A),
    # Issue #13: the coordinator sends a paper application typed into a case opened from a
    # referral letter (referrals.paper decides which drafts those are).
    (S.DRAFT, S.SUBMITTED, C),
    (S.SUBMITTED, S.SCREENING, C),
    (S.SUBMITTED, S.AWAITING_DOCUMENTS, SYS),
    (S.SUBMITTED, S.AWAITING_DOCUMENTS, C),
    (S.SCREENING, S.AWAITING_DOCUMENTS, C),
    (S.AWAITING_DOCUMENTS, S.SCREENING, SYS),
    (S.AWAITING_DOCUMENTS, S.SCREENING, C),
    (S.SCREENING, S.REJECTED, C),
    (S.SCREENING, S.REFERRED, C),
    (S.REFERRED, S.DECLINED, SP),
    (S.REFERRED, S.ACCEPTED, SP),
    (S.ACCEPTED, S.OFFERED, C),
    # Issue #5: the hold runs out unbooked, or the coordinator takes the dates back.
    (S.OFFERED, S.ACCEPTED, SYS),
    (S.OFFERED, S.ACCEPTED, C),
    (S.OFFERED, S.BOOKED, A),
    (S.OFFERED, S.BOOKED, C),
    (S.BOOKED, S.READY, SYS),
    (S.READY, S.IN_CONSULT, SP),
    (S.READY, S.IN_CONSULT, SYS),
    (S.IN_CONSULT, S.COMPLETED, SP),
    (S.IN_CONSULT, S.COMPLETED, SYS),
    (S.COMPLETED, S.CHARGED, SYS),
    (S.COMPLETED, S.CHARGED, B),
    (S.CHARGED, S.CLOSED, SP),
    (S.CHARGED, S.CLOSED, SYS),
    *{
        (state, S.WITHDRAWN, actor)
        for state in (
            S.DRAFT,
            S.SUBMITTED,
            S.SCREENING,
            S.AWAITING_DOCUMENTS,
            S.REFERRED,
            S.ACCEPTED,
            S.OFFERED,
            S.BOOKED,
            S.READY,
        )
        for actor in (A, C)
    },
    *{(state, S.CANCELLED, actor) for state in (S.BOOKED, S.READY) for actor in (A, C)},
    *{(state, S.NO_SHOW, actor) for state in (S.BOOKED, S.READY) for actor in (C, SYS)},
}

ALL = list(itertools.product(Status, Status, Actor))


@pytest.mark.parametrize(("current", "target", "actor"), ALL)
def test_every_transition_is_allowed_exactly_as_the_spec_says(current, target, actor):
    expected = (current, target, actor) in EXPECTED
    assert allowed(current, target, actor) is expected
    if expected:
        check(current, target, actor)
    else:
        with pytest.raises(InvalidTransition) as info:
            check(current, target, actor)
        assert current.value in str(info.value) and target.value in str(info.value)


@pytest.mark.parametrize(
    "final", [S.REJECTED, S.DECLINED, S.CLOSED, S.WITHDRAWN, S.CANCELLED, S.NO_SHOW]
)
def test_final_states_lead_nowhere(final):
    assert all(next_states(final, actor) == [] for actor in Actor)


def test_next_states_follow_the_lifecycle_order():
    assert next_states(S.SCREENING, C) == [
        S.AWAITING_DOCUMENTS,
        S.REJECTED,
        S.REFERRED,
        S.WITHDRAWN,
    ]
    assert next_states(S.DRAFT, A) == [S.SUBMITTED, S.WITHDRAWN]
    assert next_states(S.DRAFT, C) == [S.SUBMITTED, S.WITHDRAWN]
    assert next_states(S.DRAFT, SP) == []
