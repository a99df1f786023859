"""Reads about referral letters and the paper applications typed in from them."""

from django.db.models import QuerySet

from opiniondesk.cases.models import Case
from opiniondesk.referrals.models import PaperApplication


def paper_held(case: Case) -> PaperApplication | None:
    """The paper application of a case a coordinator opened (on paper or by phone, with or
    without a referral letter) while the case still belongs to the account opened with it.
    None for any other case, and for a case handed over to a person's own account (the person
    follows it online from then on)."""
    return (
        _held(case)
        .select_related("recorded_by", "submitted_by", "scanned_form", "privacy_policy")
        .first()
    )


def is_paper_case(case: Case) -> bool:
    return _held(case).exists()


def _held(case: Case) -> QuerySet[PaperApplication]:
    return PaperApplication.objects.filter(case=case, opened_account_id=case.applicant_id)
