"""Kinship (親等) of SPEC §3: every relation code, its line, degree and what it allows."""

import pytest

from opiniondesk.cases.kinship import MAX_FAMILY_DEGREE, Kinship, Line, Relation, kinship

# relation, line, degree, is_family, is_proxy — literally SPEC §3's kinship table.
KINSHIP_TABLE = [
    (Relation.SELF, Line.SELF, None, True, False),
    (Relation.SPOUSE, Line.SPOUSE, None, True, True),
    # blood relatives (血族)
    (Relation.PARENT, Line.BLOOD, 1, True, True),
    (Relation.CHILD, Line.BLOOD, 1, True, True),
    (Relation.GRANDPARENT, Line.BLOOD, 2, True, True),
    (Relation.GRANDCHILD, Line.BLOOD, 2, True, True),
    (Relation.SIBLING, Line.BLOOD, 2, True, True),
    (Relation.GREAT_GRANDPARENT, Line.BLOOD, 3, True, True),
    (Relation.GREAT_GRANDCHILD, Line.BLOOD, 3, True, True),
    (Relation.UNCLE_AUNT, Line.BLOOD, 3, True, True),
    (Relation.NEPHEW_NIECE, Line.BLOOD, 3, True, True),
    (Relation.COUSIN, Line.BLOOD, 4, False, True),
    (Relation.GRAND_UNCLE_AUNT, Line.BLOOD, 4, False, True),
    (Relation.GRANDNEPHEW_NIECE, Line.BLOOD, 4, False, True),
    (Relation.GREAT_GREAT_GRANDPARENT, Line.BLOOD, 4, False, True),
    (Relation.GREAT_GREAT_GRANDCHILD, Line.BLOOD, 4, False, True),
    # in-laws (姻族)
    (Relation.PARENT_IN_LAW, Line.IN_LAW, 1, True, True),
    (Relation.CHILD_IN_LAW, Line.IN_LAW, 1, True, True),
    (Relation.STEPCHILD, Line.IN_LAW, 1, True, True),
    (Relation.SIBLING_IN_LAW, Line.IN_LAW, 2, True, True),
    (Relation.GRANDPARENT_IN_LAW, Line.IN_LAW, 2, True, True),
    (Relation.GRANDCHILD_IN_LAW, Line.IN_LAW, 2, True, True),
    (Relation.UNCLE_AUNT_IN_LAW, Line.IN_LAW, 3, True, True),
    (Relation.NEPHEW_NIECE_IN_LAW, Line.IN_LAW, 3, True, True),
    # anyone else
    (Relation.OTHER, Line.NONE, None, False, True),
]

# The wire values are part of the public API; a rename must be deliberate.
RELATION_CODES = {
    Relation.SELF: "self",
    Relation.SPOUSE: "spouse",
    Relation.PARENT: "parent",
    Relation.CHILD: "child",
    Relation.GRANDPARENT: "grandparent",
    Relation.GRANDCHILD: "grandchild",
    Relation.SIBLING: "sibling",
    Relation.GREAT_GRANDPARENT: "great_grandparent",
    Relation.GREAT_GRANDCHILD: "great_grandchild",
    Relation.UNCLE_AUNT: "uncle_aunt",
    Relation.NEPHEW_NIECE: "nephew_niece",
    Relation.COUSIN: "cousin",
    Relation.GRAND_UNCLE_AUNT: "grand_uncle_aunt",
    Relation.GRANDNEPHEW_NIECE: "grandnephew_niece",
    Relation.GREAT_GREAT_GRANDPARENT: "great_great_grandparent",
    Relation.GREAT_GREAT_GRANDCHILD: "great_great_grandchild",
    Relation.PARENT_IN_LAW: "parent_in_law",
    Relation.CHILD_IN_LAW: "child_in_law",
    Relation.STEPCHILD: "stepchild",
    Relation.SIBLING_IN_LAW: "sibling_in_law",
    Relation.GRANDPARENT_IN_LAW: "grandparent_in_law",
    Relation.GRANDCHILD_IN_LAW: "grandchild_in_law",
    Relation.UNCLE_AUNT_IN_LAW: "uncle_aunt_in_law",
    Relation.NEPHEW_NIECE_IN_LAW: "nephew_niece_in_law",
    Relation.OTHER: "other",
}


def test_the_table_covers_every_relation_exactly_once() -> None:
    relations = [row[0] for row in KINSHIP_TABLE]
    assert len(relations) == len(set(relations))
    assert set(relations) == set(Relation)


def test_the_codes_are_the_ones_of_the_spec() -> None:
    assert set(RELATION_CODES) == set(Relation)
    assert {relation: relation.value for relation in Relation} == RELATION_CODES


@pytest.mark.parametrize(
    ("relation", "line", "degree", "is_family", "is_proxy"),
    KINSHIP_TABLE,
    ids=[row[0].value for row in KINSHIP_TABLE],
)
def test_kinship(
    relation: Relation, line: Line, degree: int | None, is_family: bool, is_proxy: bool
) -> None:
    kin = kinship(relation)

    assert kin == Kinship(relation=relation, line=line, degree=degree)
    assert kin.is_family is is_family
    assert kin.is_proxy is is_proxy


@pytest.mark.parametrize("code", list(RELATION_CODES.values()))
def test_a_relation_is_built_from_its_code(code: str) -> None:
    assert kinship(Relation(code)).relation.value == code


def test_an_unknown_code_is_not_a_relation() -> None:
    with pytest.raises(ValueError):
        Relation("second_cousin")


def test_family_means_within_three_degrees() -> None:
    assert MAX_FAMILY_DEGREE == 3


@pytest.mark.parametrize(
    ("degree", "is_family"), [(1, True), (2, True), (3, True), (4, False), (5, False)]
)
@pytest.mark.parametrize("line", [Line.BLOOD, Line.IN_LAW])
def test_the_family_boundary_is_the_third_degree(line: Line, degree: int, is_family: bool) -> None:
    assert Kinship(Relation.OTHER, line, degree).is_family is is_family


@pytest.mark.parametrize(
    ("line", "is_family"),
    [(Line.SELF, True), (Line.SPOUSE, True), (Line.NONE, False)],
)
def test_lines_without_a_degree(line: Line, is_family: bool) -> None:
    assert Kinship(Relation.OTHER, line, None).is_family is is_family
