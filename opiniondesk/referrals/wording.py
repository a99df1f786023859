"""The problems of an eReferral file and the refusals of the referral services, in words."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from opiniondesk.referrals.ereferral import Code, Problem

_PROBLEMS: dict[str, Promise] = {
    Code.TOO_LARGE: gettext_lazy("The file is larger than %(value)s MB."),
    Code.EMPTY: gettext_lazy("The file is empty."),
    Code.NOT_UTF8: gettext_lazy("The file is not UTF-8 text."),
    Code.NOT_JSON: gettext_lazy("The file is not valid JSON (%(value)s)."),
    Code.NOT_BUNDLE: gettext_lazy("The file is not a FHIR Bundle (resourceType: %(value)s)."),
    Code.NOT_DOCUMENT: gettext_lazy(
        'The bundle is not a document (type: %(value)s, not "document").'
    ),
    Code.NO_ENTRIES: gettext_lazy("The bundle has no entries."),
    Code.BAD_ENTRY: gettext_lazy("%(where)s has no fullUrl or no resource."),
    Code.DUPLICATE_FULL_URL: gettext_lazy("The fullUrl %(value)s appears twice in the bundle."),
    Code.FIRST_NOT_COMPOSITION: gettext_lazy(
        "The first entry of the bundle is not a Composition (%(value)s)."
    ),
    Code.NOT_REFERRAL: gettext_lazy(
        "The Composition's type is not LOINC 57133-1 (referral letter): %(value)s."
    ),
    Code.MISSING: gettext_lazy("%(where)s is missing."),
    Code.BAD_DATE: gettext_lazy("%(where)s is not a full date (%(value)s)."),
    Code.UNRESOLVED: gettext_lazy(
        "The reference %(value)s (%(where)s) does not resolve in the bundle."
    ),
    Code.WRONG_TARGET: gettext_lazy(
        "%(where)s refers to a %(value)s, not the kind of resource expected there."
    ),
    Code.MISSING_SECTION: gettext_lazy("The section %(value)s is missing."),
    Code.DUPLICATE_SECTION: gettext_lazy("The section %(value)s appears more than once."),
    Code.NO_INSTITUTION: gettext_lazy("The section %(value)s names no institution (Organization)."),
    Code.EMPTY_SECTION: gettext_lazy("The section %(value)s says nothing (no text, no entries)."),
    Code.TOO_LONG: gettext_lazy(
        "%(where)s is longer than the %(value)s characters the case keeps."
    ),
}

_ERRORS: dict[str, Promise] = {
    "EXPIRED": gettext_lazy(
        "This upload is no longer available (it was used, or more than an hour has passed). "
        "Please upload the file again."
    ),
    "CASE_CLOSED": gettext_lazy("The case is no longer open: its details cannot be filled in."),
    "ALREADY_STARTED": gettext_lazy("A case was already opened from this referral letter."),
}


def problem_message(problem: Problem) -> str:
    value = problem.value
    if problem.code == Code.TOO_LARGE and value.isdigit():
        value = str(int(value) // (1024 * 1024))
    return str(_PROBLEMS[problem.code]) % {"where": problem.where, "value": value}


def error_message(code: str) -> str:
    return str(_ERRORS[code])
