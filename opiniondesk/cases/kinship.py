"""Kinship (親等) between the patient and the requester, Civil Code arts. 725–726.

A degree counts the generations from one person up to the common ancestor and down to the
other. An in-law (姻族) has the degree of the blood relation on the other side of the marriage.
Pure: no Django, no settings.
"""

from dataclasses import dataclass
from enum import StrEnum


class Relation(StrEnum):
    """Who the requester is, seen from the patient (SPEC §3)."""

    SELF = "self"
    SPOUSE = "spouse"
    PARENT = "parent"
    CHILD = "child"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"
    SIBLING = "sibling"
    GREAT_GRANDPARENT = "great_grandparent"
    GREAT_GRANDCHILD = "great_grandchild"
    UNCLE_AUNT = "uncle_aunt"
    NEPHEW_NIECE = "nephew_niece"
    COUSIN = "cousin"
    GRAND_UNCLE_AUNT = "grand_uncle_aunt"
    GRANDNEPHEW_NIECE = "grandnephew_niece"
    GREAT_GREAT_GRANDPARENT = "great_great_grandparent"
    GREAT_GREAT_GRANDCHILD = "great_great_grandchild"
    PARENT_IN_LAW = "parent_in_law"
    CHILD_IN_LAW = "child_in_law"
    STEPCHILD = "stepchild"
    SIBLING_IN_LAW = "sibling_in_law"
    GRANDPARENT_IN_LAW = "grandparent_in_law"
    GRANDCHILD_IN_LAW = "grandchild_in_law"
    UNCLE_AUNT_IN_LAW = "uncle_aunt_in_law"
    NEPHEW_NIECE_IN_LAW = "nephew_niece_in_law"
    OTHER = "other"


class Line(StrEnum):
    SELF = "self"
    SPOUSE = "spouse"  # 配偶者: family, but has no degree
    BLOOD = "blood"  # 血族
    IN_LAW = "in_law"  # 姻族
    NONE = "none"  # not a relative the law counts


# (generations up to the common ancestor, generations down from it, line)
_PATHS: dict[Relation, tuple[int, int, Line]] = {
    Relation.SELF: (0, 0, Line.SELF),
    Relation.SPOUSE: (0, 0, Line.SPOUSE),
    Relation.PARENT: (1, 0, Line.BLOOD),
    Relation.CHILD: (0, 1, Line.BLOOD),
    Relation.GRANDPARENT: (2, 0, Line.BLOOD),
    Relation.GRANDCHILD: (0, 2, Line.BLOOD),
    Relation.SIBLING: (1, 1, Line.BLOOD),
    Relation.GREAT_GRANDPARENT: (3, 0, Line.BLOOD),
    Relation.GREAT_GRANDCHILD: (0, 3, Line.BLOOD),
    Relation.UNCLE_AUNT: (2, 1, Line.BLOOD),
    Relation.NEPHEW_NIECE: (1, 2, Line.BLOOD),
    Relation.COUSIN: (2, 2, Line.BLOOD),
    Relation.GRAND_UNCLE_AUNT: (3, 1, Line.BLOOD),
    Relation.GRANDNEPHEW_NIECE: (1, 3, Line.BLOOD),
    Relation.GREAT_GREAT_GRANDPARENT: (4, 0, Line.BLOOD),
    Relation.GREAT_GREAT_GRANDCHILD: (0, 4, Line.BLOOD),
    # In-laws: the path is the one of the blood relative on the spouse's side
    # (spouse's parent = 1 up) or of the blood relative whose spouse this is (child's spouse).
    Relation.PARENT_IN_LAW: (1, 0, Line.IN_LAW),
    Relation.CHILD_IN_LAW: (0, 1, Line.IN_LAW),
    Relation.STEPCHILD: (0, 1, Line.IN_LAW),
    Relation.SIBLING_IN_LAW: (1, 1, Line.IN_LAW),
    Relation.GRANDPARENT_IN_LAW: (2, 0, Line.IN_LAW),
    Relation.GRANDCHILD_IN_LAW: (0, 2, Line.IN_LAW),
    Relation.UNCLE_AUNT_IN_LAW: (2, 1, Line.IN_LAW),
    Relation.NEPHEW_NIECE_IN_LAW: (1, 2, Line.IN_LAW),
    Relation.OTHER: (0, 0, Line.NONE),
}

MAX_FAMILY_DEGREE = 3  # 3親等以内


@dataclass(frozen=True)
class Kinship:
    relation: Relation
    line: Line
    degree: int | None  # None for self, spouse and non-relatives

    @property
    def is_family(self) -> bool:
        """Family within 3 degrees (the patient counts as family of themselves)."""
        if self.line in (Line.SELF, Line.SPOUSE):
            return True
        return self.degree is not None and self.degree <= MAX_FAMILY_DEGREE

    @property
    def is_proxy(self) -> bool:
        """Anyone but the patient applies on the patient's behalf (代理相談)."""
        return self.line is not Line.SELF


def kinship(relation: Relation) -> Kinship:
    up, down, line = _PATHS[relation]
    degree = up + down if line in (Line.BLOOD, Line.IN_LAW) else None
    return Kinship(relation=relation, line=line, degree=degree)
