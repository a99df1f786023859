"""Demo cases in every state of screening, made through the services the pages use. Demo mode
only; the people are in `people.py`."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from opiniondesk.accounts.models import User
from opiniondesk.cases.eligibility import Reason
from opiniondesk.cases.models import Case, PhoneOutcome
from opiniondesk.cases.screening import (
    case_accept,
    case_decline,
    case_refer,
    case_reject,
    case_request_documents,
    case_start_screening,
    phone_log_create,
)
from opiniondesk.cases.selectors import privacy_policy_in_force
from opiniondesk.cases.services import (
    case_accept_privacy_policy,
    case_create_draft,
    case_save_step,
    case_set_proxies,
    case_submit,
)
from opiniondesk.cases.wizard_rules import WHO_APPLIES
from opiniondesk.catalog.closed_days import next_open_day
from opiniondesk.catalog.models import Department
from opiniondesk.catalog.vocabulary import DocumentCode
from opiniondesk.consults.services import review_correct, review_start, review_stop
from opiniondesk.core.time import jst_today
from opiniondesk.demo.documents import demo_pdf
from opiniondesk.demo.people import PERSONAS
from opiniondesk.documents.models import UploadSource
from opiniondesk.documents.services import document_add

# Hana and her husband Taro, for whom their son Ken applies (Hana also applies herself).
HANA = {
    "patient_family_name": "山田",
    "patient_given_name": "花",
    "patient_family_name_kana": "ヤマダ",
    "patient_given_name_kana": "ハナ",
    "patient_birth_date": date(1950, 4, 1),
    "patient_sex": "female",
    "patient_postal_code": "000-0001",
    "patient_address": "東京都架空区見本町2-3-4",
    "patient_phone": "03-0100-2345",
    "patient_email": "patient_hana@demo.opiniondesk.invalid",
}
TARO = {  # Ken's father; no e-mail of his own
    **HANA,
    "patient_given_name": "太郎",
    "patient_given_name_kana": "タロウ",
    "patient_birth_date": date(1947, 6, 10),
    "patient_sex": "male",
    "patient_email": "",
}


def answers_for(
    *, relation: str, department: str, disease: str, mode: str, patient: dict = HANA
) -> dict[str, Any]:
    dept = Department.objects.get(code=department)
    return {
        "applicant_relation": relation,
        **patient,
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
        "physician_institution": "見本町内科クリニック",
        "physician_department": "内科",
        "physician_phone": "03-0200-3456",
        "attending_physician_agrees": True,
        "wants_tests_or_treatment_here": False,
        "wants_transfer": False,
        "complaint_or_litigation": False,
        "fee_or_benefit_question": False,
        "can_provide_materials": True,
    }


def _sheet(diagnosis: str, treatment: str, questions: str) -> dict[str, str]:
    return {
        "current_diagnosis": diagnosis,
        "treatment_so_far": treatment,
        "questions": questions,
    }


# An adult applying alone sends the referral letter and test data; Ken, applying for a parent,
# also the parent's consent and proof of the relation (and, for his father, his own ID).
LETTER_AND_TESTS = (
    ("referral_letter", "", "Demo referral letter"),
    ("test_data", "blood", "Demo blood test results"),
)
PROXY_PAPERS = (
    *LETTER_AND_TESTS,
    ("consent_form", "", "Demo consent form"),
    ("relationship_proof", "", "Demo family register"),
)
KEN = {
    "applicant_family_name": "山田",
    "applicant_given_name": "健",
    "applicant_family_name_kana": "ヤマダ",
    "applicant_given_name_kana": "ケン",
    "applicant_phone": "03-0300-4567",
    "applicant_lives_with_patient": False,
}
KEN_ATTENDS = {
    "family_name": "山田",
    "given_name": "健",
    "family_name_kana": "ヤマダ",
    "given_name_kana": "ケン",
    "relation": "child",
    "phone": "03-0300-4567",
}


def _fill(case: Case, actor: User, values: dict[str, Any]) -> None:
    case_save_step(case_id=case.pk, revision=case.revision, values=values, actor=actor, step="demo")
    case.refresh_from_db()


def send_application(
    applicant: User,
    answers: dict[str, Any],
    documents: tuple[tuple[str, str, str], ...] = LETTER_AND_TESTS,
    *,
    proxy: bool = False,
) -> Case:
    """Say who applies, accept the policy, fill in, upload and send, in the wizard's order."""
    case = case_create_draft(applicant=applicant)
    _fill(case, applicant, {k: v for k, v in answers.items() if k in WHO_APPLIES})
    case_accept_privacy_policy(
        case_id=case.pk, revision=case.revision, policy=privacy_policy_in_force(), actor=applicant
    )
    case.refresh_from_db()
    if proxy:  # Ken attends himself: his row is made from his details
        case_set_proxies(
            case_id=case.pk,
            revision=case.revision,
            proxies=[],
            applicant_attends=True,
            actor=applicant,
        )
        case.refresh_from_db()
    _fill(case, applicant, {k: v for k, v in answers.items() if k not in WHO_APPLIES})
    for kind, tdk, title in documents:
        document_add(
            case=case,
            kind=kind,
            uploaded=demo_pdf(title, f"{kind}.pdf"),
            actor=applicant,
            source=UploadSource.APPLICANT,
            test_data_kind=tdk,
            proxy=case.proxies.first() if kind == "proxy_id" else None,
        )
    case_submit(case_id=case.pk, actor=applicant)
    return Case.objects.get(pk=case.pk)


def screen(case: Case, sato: User, outcome: str = "", notes: str = "") -> Case:
    """The coordinator takes the case and, if `outcome` is given, phones the applicant."""
    case = case_start_screening(case_id=case.pk, actor=sato)
    if outcome:
        phone_log_create(
            case_id=case.pk,
            actor=sato,
            called_at=timezone.now(),
            number=case.applicant_phone or case.patient_phone,
            outcome=PhoneOutcome(outcome),
            notes=notes,
        )
    return case


def refer(case: Case, sato: User) -> Case:
    case = screen(case, sato)
    return case_refer(case_id=case.pk, actor=sato, department=case.department)


def self_applied(applicant: User) -> Case:
    """The applicant's own application as their persona asks it, sent with the referral letter
    and test data."""
    asks = PERSONAS[applicant.username].asks
    assert asks is not None, f"{applicant.username} asks nothing in demo/people.py"
    family_kana, given_kana = asks.kana.split()
    patient = {
        "patient_family_name": applicant.last_name,
        "patient_given_name": applicant.first_name,
        "patient_family_name_kana": family_kana,
        "patient_given_name_kana": given_kana,
        "patient_birth_date": asks.born,
        "patient_sex": asks.sex,
        "patient_postal_code": "000-0002",
        "patient_address": "東京都架空区試験町5-6-7",
        "patient_phone": asks.phone,
        "patient_email": applicant.email,
    }
    answers = answers_for(
        relation="self",
        department=asks.department,
        disease=asks.disease,
        mode=asks.mode,
        patient=patient,
    )
    return send_application(
        applicant, {**answers, **_sheet(asks.diagnosis, asks.treatment, asks.questions)}
    )


# One function per demo case; (applicant, department) identifies it, so a second run skips it.
Staff = dict[str, User]


def _hana_submitted(hana: User, staff: Staff) -> None:
    send_application(
        hana,
        answers_for(
            relation="self", department="cardiology", disease="heart_failure", mode="online"
        ),
    )


def _hana_draft(hana: User, staff: Staff) -> None:
    """A draft half done, in the wizard's order: who applies, the policy, the department."""
    draft = case_create_draft(applicant=hana)
    breast_surgery = Department.objects.get(code="breast_surgery")
    _fill(draft, hana, {"applicant_relation": "self"})
    case_accept_privacy_policy(
        case_id=draft.pk, revision=draft.revision, policy=privacy_policy_in_force(), actor=hana
    )
    draft.refresh_from_db()
    _fill(draft, hana, {"mode": "in_person", "department": breast_surgery})


def _ken_for_his_mother(ken: User, staff: Staff) -> None:
    """Waits for documents: the medication list and Ken's ID are still missing."""
    answers = answers_for(
        relation="child", department="geriatrics", disease="polypharmacy", mode="in_person"
    )
    sheet = _sheet("高血圧・糖尿病・不眠で9種類の薬を内服", "内服治療", "薬を減らせるでしょうか。")
    send_application(ken, {**answers, **KEN, **sheet}, PROXY_PAPERS, proxy=True)


def _ken_for_his_father(ken: User, staff: Staff) -> None:
    """Referred to neurology: Dr Mori's to accept or decline."""
    answers = answers_for(
        relation="child",
        department="neurology",
        disease="parkinsons_disease",
        mode="in_person",
        patient=TARO,
    )
    sheet = _sheet(
        "パーキンソン病(発症から6年)",
        "レボドパ製剤を内服。薬の効果が切れる時間が増えてきた。",
        "脳深部刺激療法などを検討する段階でしょうか。",
    )
    papers = (*PROXY_PAPERS, ("proxy_id", "", "Demo driving licence"))
    refer(send_application(ken, {**answers, **KEN, **sheet}, papers, proxy=True), staff["sato"])


def _jun_in_screening(jun: User, staff: Staff) -> None:
    """In screening, after the coordinator's call."""
    notes = "ご本人と話せた。内視鏡画像のCD-Rは主治医から郵送予定。オンラインの通信環境は問題なし。"
    screen(self_applied(jun), staff["sato"], "reached", notes)


def _emi_awaiting_documents(emi: User, staff: Staff) -> None:
    """The coordinator asked for the pathology report, due in two weeks (on an open day)."""
    notes = "病理報告書の件で留守番電話にメッセージを残した。"
    case = screen(self_applied(emi), staff["sato"], "left_message", notes)
    case_request_documents(
        case_id=case.pk,
        actor=staff["sato"],
        items=[DocumentCode.TEST_DATA],
        message="針生検の病理検査報告書(ホルモン受容体とHER2の結果を含むもの)をお送りください。",
        due_date=next_open_day(jst_today() + timedelta(days=14)),
    )


def _yoshio_referred(yoshio: User, staff: Staff) -> None:
    """Referred to cardiology: Dr Tanaka's to accept or decline."""
    refer(self_applied(yoshio), staff["sato"])


def _kazuko_accepted(kazuko: User, staff: Staff) -> None:
    """Accepted by Dr Tanaka for a 60-minute consult, after 35 minutes with the materials;
    candidate dates come next (each holds two consecutive slots)."""
    case = refer(self_applied(kazuko), staff["sato"])
    case_accept(case_id=case.pk, actor=staff["tanaka"], planned_minutes=60)
    reviewed(case, staff["tanaka"], minutes=35)


def _takeshi_rejected(takeshi: User, staff: Staff) -> None:
    """Rejected after the call: he wants to move his treatment here (SPEC §3)."""
    notes = "当院での手術・転院をご希望。セカンドオピニオン外来の趣旨を説明した。"
    case = screen(self_applied(takeshi), staff["sato"], "reached", notes)
    case_reject(
        case_id=case.pk,
        actor=staff["sato"],
        reasons=[Reason.WANTS_TRANSFER],
        note=(
            "お電話ではありがとうございました。セカンドオピニオン外来は、今の主治医のもとで治療を"
            "続けることを前提に専門医の意見をお伝えする外来のため、今回はお受けできません。"
            "当院での治療をご希望の場合は、主治医の先生に紹介状をお書きいただき、消化器内科の外来を"
            "ご予約ください。ご不明な点は予約センターまでお気軽にお電話ください。"
        ),
    )


def _sachiko_declined(sachiko: User, staff: Staff) -> None:
    """Declined by neurology (Dr Mori): no specialist for her question at present."""
    case = refer(self_applied(sachiko), staff["sato"])
    case_decline(
        case_id=case.pk,
        actor=staff["mori"],
        reason=(
            "多発性硬化症と妊娠についてご意見できる専門医が、現在当科におりません。"
            "妊娠・出産に詳しい多発性硬化症の専門医療機関へのご相談をお勧めします。"
        ),
    )


# (applicant, the department the case was made for, how it is made), oldest first.
DEMO_CASES: list[tuple[str, str, Callable[[User, Staff], None]]] = [
    ("patient_hana", "cardiology", _hana_submitted),
    ("proxy_ken", "geriatrics", _ken_for_his_mother),
    ("patient_hana", "breast_surgery", _hana_draft),
    ("patient_jun", "gastroenterology", _jun_in_screening),
    ("patient_emi", "breast_surgery", _emi_awaiting_documents),
    ("patient_yoshio", "cardiology", _yoshio_referred),
    ("patient_kazuko", "cardiology", _kazuko_accepted),
    ("patient_takeshi", "gastroenterology", _takeshi_rejected),
    ("patient_sachiko", "neurology", _sachiko_declined),
    ("proxy_ken", "neurology", _ken_for_his_father),
]


def reviewed(case: Case, specialist: User, *, minutes: int) -> None:
    """The specialist has read the materials for `minutes` after accepting: a review session,
    timed by the server as the page does it, then set to the demo's length with a reason."""
    session = review_start(case_id=case.pk, actor=specialist)
    review_stop(case_id=case.pk, actor=specialist)
    review_correct(
        session_id=session.pk,
        actor=specialist,
        minutes=minutes,
        reason="デモデータ: 紹介状と検査画像を確認した時間",
    )


def make_each(table: list[tuple[str, str, Callable[[User, Staff], None]]]) -> None:
    """Make each demo case of `table` once: a case already there for its applicant and
    department is left as it is, so loading the demo again changes nothing."""
    staff = {
        name: User.objects.get(username=username)
        for name, username in (
            ("sato", "coordinator_sato"),
            ("tanaka", "dr_tanaka"),
            ("mori", "dr_mori"),
        )
    }
    for username, department, make in table:
        applicant = User.objects.get(username=username)
        if Case.objects.filter(applicant=applicant, department__code=department).exists():
            continue
        with transaction.atomic():  # a case is made whole or not at all
            make(applicant, staff)


def load_demo_cases() -> None:
    """Cases in every state of screening, so that each persona finds work waiting; made
    through the services the pages use (audit, transitions and e-mails included)."""
    make_each(DEMO_CASES)
