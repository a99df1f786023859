"""The case lifecycle of SPEC §4 as one table. Pure: no database, settings or clock.

Views and services never set a status themselves: they ask `check` whether an actor in a role may
move a case from one state to another, and the service records the transition.
"""

from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"  # 下書き
    SUBMITTED = "submitted"  # 申込済
    SCREENING = "screening"  # 審査中
    AWAITING_DOCUMENTS = "awaiting_documents"  # 書類待ち
    REJECTED = "rejected"  # お受けできません
    REFERRED = "referred"  # 診療科へ依頼中
    DECLINED = "declined"  # 診療科が辞退
    ACCEPTED = "accepted"  # 受入決定
    OFFERED = "offered"  # 候補日提示
    BOOKED = "booked"  # 予約済
    READY = "ready"  # 準備完了
    IN_CONSULT = "in_consult"  # 相談中
    COMPLETED = "completed"  # 相談終了
    CHARGED = "charged"  # 会計済
    CLOSED = "closed"  # 回答書送付済
    WITHDRAWN = "withdrawn"  # 取り下げ
    CANCELLED = "cancelled"  # 予約取消
    NO_SHOW = "no_show"  # 不参加


class Actor(StrEnum):
    APPLICANT = "applicant"  # the patient's account, or the family member who applied
    COORDINATOR = "coordinator"
    SPECIALIST = "specialist"
    BILLING_CLERK = "billing_clerk"
    SYSTEM = "system"
    OUTSIDER = "outsider"  # anyone else (an admin, another patient): in no transition


# Named sets of states: each is defined here once, and the services, pages and API use it.
OPEN_STATES = frozenset(
    {
        Status.DRAFT,
        Status.SUBMITTED,
        Status.SCREENING,
        Status.AWAITING_DOCUMENTS,
        Status.REFERRED,
        Status.ACCEPTED,
        Status.OFFERED,
        Status.BOOKED,
        Status.READY,
    }
)
BOOKED_STATES = frozenset({Status.BOOKED, Status.READY})
# While these last, the applicant is told which documents are still missing.
BEFORE_REFERRAL_STATES = frozenset({Status.SUBMITTED, Status.SCREENING, Status.AWAITING_DOCUMENTS})
# The coordinator offers dates (again) in these.
OFFER_STATES = frozenset({Status.ACCEPTED, Status.OFFERED})
# Dates are offered, chosen or booked: moves out of these belong to scheduling.
SCHEDULING_STATES = frozenset({Status.OFFERED}) | BOOKED_STATES
# Steps before the consult (ID, consent, device check) open once the department has accepted.
PREPARATION_STATES = OFFER_STATES | BOOKED_STATES
# The applicant's side adds documents until the consult is over; afterwards only staff do.
APPLICANT_UPLOAD_STATES = OPEN_STATES
# The applicant withdraws online until a date is booked; a booking is cancelled instead.
WITHDRAWABLE_STATES = OPEN_STATES - BOOKED_STATES
# A specialist sees a case once it is referred to one of their departments (SPEC §1).
SPECIALIST_STATES = frozenset(Status) - {
    Status.DRAFT,
    Status.SUBMITTED,
    Status.SCREENING,
    Status.AWAITING_DOCUMENTS,
    Status.REJECTED,
}
BILLING_STATES = frozenset({Status.COMPLETED, Status.CHARGED, Status.CLOSED})

A, C, S, B, SYS = (
    Actor.APPLICANT,
    Actor.COORDINATOR,
    Actor.SPECIALIST,
    Actor.BILLING_CLERK,
    Actor.SYSTEM,
)

TRANSITIONS: dict[tuple[Status, Status], frozenset[Actor]] = {
    # The applicant sends their application online. The coordinator sends a paper application
    # (紙の申込書, received at the desk or by post) that they typed into a case they opened from
    # the patient's referral letter: only such a case (`referrals.paper`), never an online
    # applicant's draft, whose drafts the coordinator does not even see (`cases_visible_to`).
    (Status.DRAFT, Status.SUBMITTED): frozenset({A, C}),
    (Status.SUBMITTED, Status.SCREENING): frozenset({C}),
    (Status.SUBMITTED, Status.AWAITING_DOCUMENTS): frozenset({SYS, C}),
    (Status.SCREENING, Status.AWAITING_DOCUMENTS): frozenset({C}),
    (Status.AWAITING_DOCUMENTS, Status.SCREENING): frozenset({SYS, C}),
    (Status.SCREENING, Status.REJECTED): frozenset({C}),
    (Status.SCREENING, Status.REFERRED): frozenset({C}),
    (Status.REFERRED, Status.DECLINED): frozenset({S}),
    (Status.REFERRED, Status.ACCEPTED): frozenset({S}),
    (Status.ACCEPTED, Status.OFFERED): frozenset({C}),
    # The hold ran out unbooked, or the coordinator took the dates back to offer others.
    (Status.OFFERED, Status.ACCEPTED): frozenset({SYS, C}),
    (Status.OFFERED, Status.BOOKED): frozenset({A, C}),
    (Status.BOOKED, Status.READY): frozenset({SYS}),
    (Status.READY, Status.IN_CONSULT): frozenset({S, SYS}),
    (Status.IN_CONSULT, Status.COMPLETED): frozenset({S, SYS}),
    (Status.COMPLETED, Status.CHARGED): frozenset({SYS, B}),
    (Status.CHARGED, Status.CLOSED): frozenset({S, SYS}),
    **{(state, Status.WITHDRAWN): frozenset({A, C}) for state in OPEN_STATES},
    **{(state, Status.CANCELLED): frozenset({A, C}) for state in BOOKED_STATES},
    **{(state, Status.NO_SHOW): frozenset({C, SYS}) for state in BOOKED_STATES},
}


class InvalidTransition(Exception):
    """The transition is not in the table, or not for this actor."""

    def __init__(self, current: Status, target: Status, actor: Actor) -> None:
        self.current, self.target, self.actor = current, target, actor
        super().__init__(
            f"{actor.value} may not move a case from {current.value} to {target.value}"
        )


def allowed(current: Status, target: Status, actor: Actor) -> bool:
    return actor in TRANSITIONS.get((current, target), frozenset())


def check(current: Status, target: Status, actor: Actor) -> None:
    if not allowed(current, target, actor):
        raise InvalidTransition(current, target, actor)


def next_states(current: Status, actor: Actor) -> list[Status]:
    """What this actor may do next, in the order of the lifecycle."""
    return [target for target in Status if allowed(current, target, actor)]
