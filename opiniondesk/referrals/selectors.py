"""Reads about referral letters and the paper applications typed in from them."""

from opiniondesk.cases.models import Case
from opiniondesk.referrals.models import PaperApplication, ReferralImport


def paper_import(case: Case) -> ReferralImport | None:
    """The referral letter a coordinator opened this case from, while the case still belongs to
    the account opened with it: a paper application. None for any other case, and for a case
    handed over to a person's own account (the person finishes it online)."""
    return (
        ReferralImport.objects.filter(
            case=case, started_case=True, opened_account_id=case.applicant_id
        )
        .exclude(opened_account__isnull=True)
        .first()
    )


def is_paper_case(case: Case) -> bool:
    return paper_import(case) is not None


def paper_application(case: Case) -> PaperApplication | None:
    """What the coordinator recorded of the paper form, if anything yet."""
    return (
        PaperApplication.objects.filter(case=case)
        .select_related("recorded_by", "submitted_by", "scanned_form", "privacy_policy")
        .first()
    )
