"""Demo privacy policy and demo cases. A hospital writes its own policy; demo mode only."""

from datetime import date
from typing import Any

from opiniondesk.accounts.models import User
from opiniondesk.cases.models import Case, PrivacyPolicy, Proxy
from opiniondesk.cases.services import (
    case_accept_privacy_policy,
    case_create_draft,
    case_save_step,
    case_submit,
)
from opiniondesk.catalog.models import Department
from opiniondesk.documents.demo import demo_pdf
from opiniondesk.documents.models import UploadSource
from opiniondesk.documents.services import document_add

# One paragraph per line: the page shows each line break as it is.
PURPOSES_JA = "\n".join(
    [
        "ご提供いただいた個人情報(病状・検査結果などの要配慮個人情報を含みます)は、"
        "次の目的にのみ利用します。",
        "1. セカンドオピニオンの可否の判断、日程調整、ご本人・ご家族への連絡",
        "2. 専門医による資料の確認と意見の提供",
        "3. 意見書(回答書)の主治医への送付(ご本人の同意に基づく提供です)",
        "4. 料金の請求と領収書の発行",
        "5. 法令に基づく診療記録の保存(5年以上)",
    ]
)
PURPOSES_EN = "\n".join(
    [
        "We use the personal information you give us (including sensitive information such as "
        "your condition and test results) only to:",
        "1. decide whether we can give a second opinion, arrange the date and contact you;",
        "2. let our specialist review the materials and give the opinion;",
        "3. send the written opinion to your attending physician (with your consent);",
        "4. charge the fee and issue the receipt;",
        "5. keep the clinical record as the law requires (at least 5 years).",
    ]
)
TEXT_JA = "\n".join(
    [
        "当院は、個人情報の保護に関する法律、医療・介護関係事業者における個人情報の適切な取扱いのための"
        "ガイダンス及び医療情報システムの安全管理に関するガイドラインに従い、お預かりした個人情報を"
        "適切に管理します。",
        "ご提出いただいた資料は当院の診療記録として保存し、返却・削除いたしません。",
        "ご本人は、当院が保有する個人情報の開示を求めることができます。お問い合わせは予約センターまで。",
        "(これはデモ用の文面です。各病院の個人情報保護方針に置き換えてください。)",
    ]
)
TEXT_EN = "\n".join(
    [
        "The hospital manages the personal information you entrust to us in accordance with "
        "the Act on the Protection of Personal Information and the guidelines for medical "
        "information systems.",
        "The materials you send become part of our medical records and are not returned or "
        "deleted.",
        "You may ask us to disclose the personal information we hold about you; please call "
        "the desk.",
        "(This is demo text. Each hospital replaces it with its own policy.)",
    ]
)


def load_privacy_policy() -> None:
    PrivacyPolicy.objects.get_or_create(
        version="demo-1",
        defaults={
            "effective_from": date(2026, 4, 1),
            "text_ja": TEXT_JA,
            "text_en": TEXT_EN,
            "purposes_ja": PURPOSES_JA,
            "purposes_en": PURPOSES_EN,
        },
    )


def _answers(*, relation: str, department: str, disease: str, mode: str) -> dict[str, Any]:
    dept = Department.objects.get(code=department)
    return {
        "applicant_relation": relation,
        "patient_family_name": "山田",
        "patient_given_name": "花",
        "patient_family_name_kana": "ヤマダ",
        "patient_given_name_kana": "ハナ",
        "patient_birth_date": date(1950, 4, 1),
        "patient_sex": "female",
        "patient_postal_code": "113-0033",
        "patient_address": "東京都文京区本郷1-1-1",
        "patient_phone": "03-1234-5678",
        "patient_email": "patient_hana@demo.opiniondesk.invalid",
        "patient_resides_in_japan": True,
        "patient_has_japanese_insurance": True,
        "patient_consent": "signed" if relation != "self" else "none",
        "mode": mode,
        "department": dept,
        "disease": dept.diseases.get(code=disease),
        "joining_from_japan": True if mode == "online" else None,
        "current_diagnosis": "慢性心不全(NYHA II度)",
        "treatment_so_far": "利尿薬とβ遮断薬の内服",
        "wants_opinion_on_current": True,
        "wants_opinion_on_future": True,
        "questions": "今の治療を続けてよいでしょうか。手術を考えるべき時期はいつでしょうか。",
        "physician_name": "鈴木 一郎",
        "physician_institution": "本郷内科クリニック",
        "physician_department": "内科",
        "physician_phone": "03-9876-5432",
        "attending_physician_agrees": True,
        "wants_tests_or_treatment_here": False,
        "wants_transfer": False,
        "complaint_or_litigation": False,
        "fee_or_benefit_question": False,
        "can_provide_materials": True,
    }


def _fill(case: Case, actor: User, values: dict[str, Any]) -> None:
    case_save_step(case_id=case.pk, revision=case.revision, values=values, actor=actor, step="demo")
    case.refresh_from_db()


def load_demo_cases() -> None:
    """Cases in the states of the application issue, so each persona finds work waiting.

    Created once, through the same services the pages use (audit and transitions included).
    """
    hana = User.objects.get(username="patient_hana")
    ken = User.objects.get(username="proxy_ken")
    if Case.objects.filter(applicant__in=[hana, ken]).exists():
        return
    policy = PrivacyPolicy.objects.order_by("-effective_from").first()

    submitted = case_create_draft(applicant=hana)
    _fill(
        submitted,
        hana,
        _answers(relation="self", department="cardiology", disease="heart_failure", mode="online"),
    )
    case_accept_privacy_policy(
        case_id=submitted.pk, revision=submitted.revision, policy=policy, actor=hana
    )
    for kind, tdk, title in (
        ("referral_letter", "", "Demo referral letter"),
        ("test_data", "blood", "Demo blood test results"),
    ):
        document_add(
            case=submitted,
            kind=kind,
            uploaded=demo_pdf(title, f"{kind}.pdf"),
            actor=hana,
            source=UploadSource.APPLICANT,
            test_data_kind=tdk,
        )
    case_submit(case_id=submitted.pk, actor=hana)

    waiting = case_create_draft(applicant=ken)
    _fill(
        waiting,
        ken,
        {
            **_answers(
                relation="child", department="geriatrics", disease="polypharmacy", mode="in_person"
            ),
            "applicant_family_name": "山田",
            "applicant_given_name": "健",
            "applicant_phone": "090-1234-5678",
            "applicant_lives_with_patient": False,
            "current_diagnosis": "高血圧・糖尿病・不眠で9種類の薬を内服",
            "questions": "薬を減らせるでしょうか。",
        },
    )
    Proxy.objects.create(
        case=waiting,
        family_name="山田",
        given_name="健",
        family_name_kana="ヤマダ",
        given_name_kana="ケン",
        relation="child",
        phone="090-1234-5678",
    )
    case_accept_privacy_policy(
        case_id=waiting.pk, revision=waiting.revision, policy=policy, actor=ken
    )
    for kind, tdk, title in (
        ("referral_letter", "", "Demo referral letter"),
        ("test_data", "blood", "Demo blood test results"),
        ("consent_form", "", "Demo consent form"),
        ("relationship_proof", "", "Demo family register"),
    ):
        document_add(
            case=waiting,
            kind=kind,
            uploaded=demo_pdf(title, f"{kind}.pdf"),
            actor=ken,
            source=UploadSource.APPLICANT,
            test_data_kind=tdk,
        )
    case_submit(case_id=waiting.pk, actor=ken)  # medication list and ID still missing

    draft = case_create_draft(applicant=hana)
    _fill(
        draft,
        hana,
        {
            "applicant_relation": "self",
            "mode": "in_person",
            "department": Department.objects.get(code="breast_surgery"),
        },
    )
