"""What must be done before a consult (SPEC §6, §11.2), checked exhaustively against the rule
as the guideline states it, written out here independently of the code."""

from itertools import combinations, product

import pytest

from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.readiness.rules import (
    Facts,
    IdentityState,
    IdReview,
    IdType,
    Item,
    checklist,
    identity_satisfied,
    identity_state,
    is_ready,
    missing,
)

# 本人確認: one photo ID, or two different IDs without a photo (SPEC §11.2).
WITH_PHOTO = {
    "drivers_licence",
    "my_number_card",
    "passport",
    "residence_card",
    "disability_handbook",
}
WITHOUT_PHOTO = {"health_insurance_card", "pension_book", "resident_record", "other_non_photo"}


def enough(kinds: set[str]) -> bool:
    return any(kind in WITH_PHOTO for kind in kinds) or len(kinds & WITHOUT_PHOTO) >= 2


def test_every_id_type_is_either_with_or_without_a_photo():
    assert {t.value for t in IdType} == WITH_PHOTO | WITHOUT_PHOTO
    assert not WITH_PHOTO & WITHOUT_PHOTO


SUBSETS = [set(c) for size in range(4) for c in combinations(sorted(IdType), size)]


@pytest.mark.parametrize("kinds", SUBSETS, ids=lambda kinds: "+".join(sorted(kinds)) or "none")
def test_identity_satisfied_for_every_set_of_up_to_three_ids(kinds):
    expected = enough({k.value for k in kinds})

    assert identity_satisfied(kinds) is expected
    assert identity_satisfied(k.value for k in kinds) is expected  # plain strings, as stored
    assert identity_satisfied(list(kinds) * 2) is expected  # the same ID twice counts once


@pytest.mark.parametrize(
    ("kinds", "satisfied"),
    [
        ([], False),
        (["passport"], True),
        (["health_insurance_card"], False),
        (["health_insurance_card", "health_insurance_card"], False),
        (["health_insurance_card", "pension_book"], True),
        (["resident_record", "other_non_photo"], True),
        (["other_non_photo", "disability_handbook"], True),
    ],
)
def test_identity_examples(kinds, satisfied):
    assert identity_satisfied(kinds) is satisfied


def test_a_stored_type_that_is_not_an_id_type_counts_for_nothing():
    # Only bad data can hold one; the staff case page must still open (it failed with 500).
    assert identity_satisfied(["library_card"]) is False
    assert identity_satisfied(["library_card", "pension_book"]) is False
    assert identity_satisfied(["library_card", "", "passport"]) is True


VERDICTS = [True, False, None]  # verified, rejected, not checked yet
ONE_REVIEW = [IdReview(t, v) for t in IdType for v in VERDICTS]


def expected_state(reviews: list[IdReview]) -> IdentityState:
    accepted = {r.id_type.value for r in reviews if r.verified is True}
    if enough(accepted):
        return IdentityState.VERIFIED
    if any(r.verified is None for r in reviews):
        return IdentityState.PENDING  # a coordinator still has something to look at
    if accepted:
        return IdentityState.INSUFFICIENT  # one non-photo ID accepted, nothing more on the way
    return IdentityState.MISSING  # nothing sent, or everything rejected


@pytest.mark.parametrize("size", [0, 1, 2, 3])
def test_identity_state_for_every_mix_of_up_to_three_reviews(size):
    for reviews in product(ONE_REVIEW, repeat=size):
        assert identity_state(reviews) is expected_state(list(reviews)), reviews


@pytest.mark.parametrize(
    ("reviews", "state"),
    [
        ([], IdentityState.MISSING),
        ([("passport", None)], IdentityState.PENDING),
        ([("passport", False)], IdentityState.MISSING),
        ([("passport", False), ("passport", True)], IdentityState.VERIFIED),
        ([("pension_book", True)], IdentityState.INSUFFICIENT),
        ([("pension_book", True), ("resident_record", None)], IdentityState.PENDING),
        ([("pension_book", True), ("resident_record", False)], IdentityState.INSUFFICIENT),
        ([("pension_book", True), ("resident_record", True)], IdentityState.VERIFIED),
        ([("pension_book", True), ("pension_book", True)], IdentityState.INSUFFICIENT),
        ([("my_number_card", True), ("pension_book", None)], IdentityState.VERIFIED),
        # a type that is not an IdType (bad data): still waiting, or verified but not enough
        ([("library_card", None)], IdentityState.PENDING),
        ([("library_card", True)], IdentityState.INSUFFICIENT),
        ([("library_card", True), ("pension_book", True)], IdentityState.INSUFFICIENT),
        ([("library_card", False)], IdentityState.MISSING),
    ],
)
def test_identity_state_examples(reviews, state):
    assert identity_state(IdReview(t, v) for t, v in reviews) is state


def test_identity_state_reads_a_generator_once():
    reviews = (r for r in [IdReview(IdType.PENSION_BOOK, True), IdReview(IdType.PASSPORT, None)])
    assert identity_state(reviews) is IdentityState.PENDING


ORDER = [
    Item.PATIENT_ACCOUNT,
    Item.PATIENT_PRIVACY,
    Item.IDENTITY,
    Item.CONSENT,
    Item.PAYMENT_METHOD,
    Item.DEVICE_CHECK,
]
ALL_FACTS = [
    Facts(mode, linked, identity, consent, card_required, card_saved, device, family, accepted)
    for mode, linked, identity, consent, card_required, card_saved, device, family, accepted
    in product(
        Mode, [False, True], IdentityState, [False, True], [False, True], [False, True],
        [False, True], [False, True], [False, True],
    )
]  # fmt: skip


def oracle(facts: Facts) -> dict[Item, tuple[bool, bool]]:
    """(required, done) of each item, as SPEC §6 says it."""
    online = facts.mode == "online"
    return {
        Item.PATIENT_ACCOUNT: (online, facts.patient_account_linked),
        Item.PATIENT_PRIVACY: (
            online and facts.applied_by_family,
            facts.patient_accepted_privacy,
        ),
        Item.IDENTITY: (True, facts.identity == "verified"),
        Item.CONSENT: (online, facts.consent_signed),
        Item.PAYMENT_METHOD: (online and facts.payment_method_required, facts.payment_method_saved),
        Item.DEVICE_CHECK: (online, facts.device_check_passed),
    }


def test_there_are_1024_combinations_of_facts():
    assert len(ALL_FACTS) == 2 * 2 * 4 * 2 * 2 * 2 * 2 * 2 * 2 == len(set(ALL_FACTS))


@pytest.mark.parametrize("facts", ALL_FACTS)
def test_checklist_and_readiness_for_every_combination_of_facts(facts):
    items = checklist(facts)
    want = oracle(facts)

    assert [state.item for state in items] == ORDER
    assert {state.item: (state.required, state.done) for state in items} == want
    ready = all(done for required, done in want.values() if required)
    assert is_ready(facts) is ready
    assert missing(facts) == [item for item in ORDER if want[item][0] and not want[item][1]]
    assert (missing(facts) == []) is ready
    if facts.mode is Mode.IN_PERSON:  # at the desk: only the checked ID counts
        assert ready is (facts.identity is IdentityState.VERIFIED)
