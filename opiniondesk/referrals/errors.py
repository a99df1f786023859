"""What the referral services refuse, beyond the file's own problems."""


class ReferralError(Exception):
    """`code`: EXPIRED (the upload is gone: upload again), CASE_CLOSED (the case is no longer
    open), ALREADY_STARTED (a case was already opened from this letter: `case_id`)."""

    def __init__(self, code: str, *, case_id: int | None = None) -> None:
        self.code, self.case_id = code, case_id
        super().__init__(code)
