"""What the referral services refuse, beyond the file's own problems."""


class ReferralError(Exception):
    """`code`: EXPIRED (the upload is gone: upload again), CASE_CLOSED (the case is no longer
    open), ALREADY_STARTED (a case was already opened from this letter: `case_id`)."""

    def __init__(self, code: str, *, case_id: int | None = None) -> None:
        self.code, self.case_id = code, case_id
        super().__init__(code)


class PaperError(Exception):
    """What the paper-application services refuse. `code`: NOT_COORDINATOR (only a coordinator
    types in and sends a paper application), NOT_PAPER (the case was not opened from a referral
    letter, or it belongs to a person's own account: its applicant sends it), NOT_DRAFT (already
    sent), STALE (saved in another window since), NOT_RECEIVED (the signed form and the consent
    to the privacy policy are not recorded yet), FUTURE_DATE, NO_POLICY (no privacy policy was in
    force on that day), NO_FILES (no scan chosen)."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)
