"""What must be done before a consult (SPEC §6, §11.1–2). Pure: no database, settings or clock.

The case becomes `ready` only when every required item is done. What is required depends on the
mode: an online consult needs the patient's own account (and, when a family member applied, the
patient's own acceptance of the privacy policy), a verified identity, the signed request
and consent for an online consult, a passed device check and (when the hospital charges by card)
a saved payment method; an in-person consult needs the verified identity only — the rest happens
at the hospital's desk.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from opiniondesk.catalog.vocabulary import Mode


class IdType(StrEnum):
    """本人確認書類. The photo IDs first."""

    DRIVERS_LICENCE = "drivers_licence"  # 運転免許証
    MY_NUMBER_CARD = "my_number_card"  # マイナンバーカード
    PASSPORT = "passport"  # パスポート
    RESIDENCE_CARD = "residence_card"  # 在留カード
    DISABILITY_HANDBOOK = "disability_handbook"  # 身体障害者手帳 (with photo)
    HEALTH_INSURANCE_CARD = "health_insurance_card"  # 健康保険証 / 資格確認書
    PENSION_BOOK = "pension_book"  # 年金手帳
    RESIDENT_RECORD = "resident_record"  # 住民票の写し
    OTHER_NON_PHOTO = "other_non_photo"  # その他 (写真なし)


PHOTO_IDS = frozenset(
    {
        IdType.DRIVERS_LICENCE,
        IdType.MY_NUMBER_CARD,
        IdType.PASSPORT,
        IdType.RESIDENCE_CARD,
        IdType.DISABILITY_HANDBOOK,
    }
)


def identity_satisfied(verified: Iterable[str]) -> bool:
    """One verified photo ID, or two verified non-photo IDs of different types (SPEC §11.2).
    A stored type that is not an IdType (only bad data can hold one) counts for nothing."""
    kinds = {IdType(kind) for kind in verified if kind in IdType}
    return bool(kinds & PHOTO_IDS) or len(kinds - PHOTO_IDS) >= 2


class IdentityState(StrEnum):
    MISSING = "missing"  # nothing uploaded, or everything rejected
    PENDING = "pending"  # uploaded, waiting for a coordinator
    INSUFFICIENT = "insufficient"  # verified, but one non-photo ID is not enough
    VERIFIED = "verified"


@dataclass(frozen=True)
class IdReview:
    """One uploaded ID and what the coordinator said of it (None: not reviewed yet)."""

    id_type: str  # an IdType, or what bad data stored
    verified: bool | None


def identity_state(reviews: Iterable[IdReview]) -> IdentityState:
    reviews = list(reviews)
    if identity_satisfied(r.id_type for r in reviews if r.verified):
        return IdentityState.VERIFIED
    if any(r.verified is None for r in reviews):
        return IdentityState.PENDING
    if any(r.verified for r in reviews):
        return IdentityState.INSUFFICIENT
    return IdentityState.MISSING


class Item(StrEnum):
    """The checklist, in the order the patient does it."""

    PATIENT_ACCOUNT = "patient_account"  # 患者さん本人のアカウント
    PATIENT_PRIVACY = "patient_privacy"  # 本人による個人情報の取扱いへの同意
    IDENTITY = "identity"  # 本人確認
    CONSENT = "consent"  # オンライン診療の依頼・同意
    PAYMENT_METHOD = "payment_method"  # お支払い方法 (クレジットカード)
    DEVICE_CHECK = "device_check"  # 機器の確認


@dataclass(frozen=True)
class Facts:
    mode: Mode
    patient_account_linked: bool
    identity: IdentityState
    consent_signed: bool
    payment_method_required: bool  # a card provider is configured (else: pay at the hospital)
    payment_method_saved: bool
    device_check_passed: bool
    # A family member applied; the patient's own account has accepted the privacy policy.
    applied_by_family: bool = False
    patient_accepted_privacy: bool = False


@dataclass(frozen=True)
class ItemState:
    item: Item
    required: bool
    done: bool


def checklist(facts: Facts) -> list[ItemState]:
    online = facts.mode is Mode.ONLINE
    return [
        ItemState(Item.PATIENT_ACCOUNT, online, facts.patient_account_linked),
        # SPEC §6: when family applied, the patient accepts too, with their own account. Like
        # that account, asked for online consults; at the hospital the desk has it signed.
        ItemState(
            Item.PATIENT_PRIVACY,
            online and facts.applied_by_family,
            facts.patient_accepted_privacy,
        ),
        ItemState(Item.IDENTITY, True, facts.identity is IdentityState.VERIFIED),
        ItemState(Item.CONSENT, online, facts.consent_signed),
        ItemState(
            Item.PAYMENT_METHOD,
            online and facts.payment_method_required,
            facts.payment_method_saved,
        ),
        ItemState(Item.DEVICE_CHECK, online, facts.device_check_passed),
    ]


def is_ready(facts: Facts) -> bool:
    return all(state.done for state in checklist(facts) if state.required)


def missing(facts: Facts) -> list[Item]:
    return [state.item for state in checklist(facts) if state.required and not state.done]
