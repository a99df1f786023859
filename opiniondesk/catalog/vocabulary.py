"""Fixed vocabularies of SPEC §2–3 that the catalog refers to. Pure: no Django imports."""

from enum import StrEnum


class Mode(StrEnum):
    ONLINE = "online"  # オンライン
    IN_PERSON = "in_person"  # 対面


class DocumentCode(StrEnum):
    """Missing-document codes (SPEC §3), in the order the hospital's guide lists them."""

    REFERRAL_LETTER = "REFERRAL_LETTER"  # 診療情報提供書
    TEST_DATA = "TEST_DATA"  # 検査データ
    CONSENT_FORM = "CONSENT_FORM"  # 相談同意書
    RELATIONSHIP_PROOF = "RELATIONSHIP_PROOF"  # 続柄確認書類
    PROXY_ID = "PROXY_ID"  # 代理相談者の身分証明
    MEDICATION_LIST = "MEDICATION_LIST"  # お薬リスト・お薬手帳のコピー
