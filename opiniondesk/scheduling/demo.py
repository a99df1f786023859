"""Demo cases for scheduling and readiness (issue #5), made through the services. Demo mode only.

Dates are taken from the calendar as it is on the day `make run` loads them: the earliest free
slots of the department, so the demo always shows upcoming consults.
"""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from opiniondesk.accounts.models import User
from opiniondesk.cases.demo import _refer, _self_applied
from opiniondesk.cases.models import Case
from opiniondesk.cases.screening import case_accept
from opiniondesk.core.time import JST, jst_today
from opiniondesk.documents.demo import demo_pdf
from opiniondesk.readiness.rules import IdType
from opiniondesk.readiness.selectors import current_consent_form
from opiniondesk.readiness.services import (
    consent_sign,
    device_check_record,
    id_document_add,
    identity_review,
)
from opiniondesk.scheduling.selectors import SlotView, suggest_slots
from opiniondesk.scheduling.services import booking_create, offer_create

# username: (kana, birth date, sex, phone, department, disease, mode, the sheet), as in cases/demo.
SCHEDULED: dict[str, tuple[str, date, str, str, str, str, str, tuple[str, str, str]]] = {
    "patient_michiko": (
        "マツモト ミチコ", date(1952, 3, 8), "female", "03-3333-4444",
        "cardiology", "ischemic_heart_disease", "online",
        ("狭心症", "冠動脈ステント留置後、抗血小板薬を内服。",
         "抗血小板薬はいつまで続ける必要がありますか。"),
    ),
    "patient_hiroshi": (
        "キムラ ヒロシ", date(1958, 7, 21), "male", "090-5555-6666",
        "cardiology", "heart_failure", "online",
        ("拡張型心筋症による慢性心不全", "薬物治療中。植込み型除細動器を勧められた。",
         "植込み型除細動器は今必要でしょうか。"),
    ),
    "patient_akiko": (
        "ハヤシ アキコ", date(1963, 12, 2), "female", "080-7777-1111",
        "cardiology", "arrhythmia", "online",
        ("発作性上室頻拍", "発作時に薬で対処している。",
         "カテーテルアブレーションを受けるべきでしょうか。"),
    ),
    "patient_masao": (
        "サイトウ マサオ", date(1950, 10, 15), "male", "048-222-3333",
        "neurology", "parkinsons_disease", "in_person",
        ("パーキンソン病(ヤール3度)", "レボドパを内服。薬の効く時間が短くなってきた。",
         "脳深部刺激療法(DBS)の対象になりますか。"),
    ),
}  # fmt: skip

Staff = dict[str, User]


def _accepted(applicant: User, staff: Staff) -> Case:
    specialist = (
        staff["mori"] if SCHEDULED[applicant.username][4] == "neurology" else staff["tanaka"]
    )
    case = _refer(_self_applied(applicant, SCHEDULED), staff["sato"])
    return case_accept(case_id=case.pk, actor=specialist, review_minutes=20)


def _offer(case: Case, staff: Staff, count: int, skip: int = 0) -> list[SlotView]:
    """Offer the earliest free slots (after `skip` of them), held for three days."""
    slots = suggest_slots(department=case.department, today=jst_today(), limit=skip + count)
    chosen = slots[skip:]
    first_day = chosen[0].starts_at.astimezone(JST).date()
    hold_until = min(
        datetime.combine(
            jst_today() + timedelta(days=settings.OFFER_HOLD_DAYS), time(17, 0), tzinfo=JST
        ),
        datetime.combine(first_day - timedelta(days=1), time(23, 59), tzinfo=JST),
    )
    offer_create(
        case_id=case.pk,
        actor=staff["sato"],
        slots=[(slot.specialist_id, slot.starts_at) for slot in chosen],
        hold_until=max(hold_until, timezone.now() + timedelta(hours=1)),
        message="ご都合のよい日時をお選びください。ご不明な点はお電話ください。",
    )
    return chosen


def _book_first(case: Case, applicant: User) -> None:
    slot = case.offers.get(released_at__isnull=True).slots.order_by("starts_at").first()
    booking_create(case_id=case.pk, actor=applicant, offered_slot_id=slot.pk)


def _upload_id(case: Case, applicant: User, id_type: IdType) -> int:
    document = id_document_add(
        case_id=case.pk,
        actor=applicant,
        uploaded=demo_pdf("Demo ID card (not a real document)", "id.pdf"),
        id_type=id_type,
    )
    return document.pk


def _michiko_offered(michiko: User, staff: Staff) -> None:
    """Three dates are held for her: she chooses one on her page."""
    _offer(_accepted(michiko, staff), staff, count=3, skip=2)


def _hiroshi_booked(hiroshi: User, staff: Staff) -> None:
    """Booked; his driver's licence waits for the coordinator, the rest is his to do."""
    case = _accepted(hiroshi, staff)
    _offer(case, staff, count=2, skip=5)
    _book_first(case, hiroshi)
    _upload_id(case, hiroshi, IdType.DRIVERS_LICENCE)


def _akiko_ready(akiko: User, staff: Staff) -> None:
    """Everything done before her online consult: ID checked, consent signed, device checked."""
    case = _accepted(akiko, staff)
    _offer(case, staff, count=2, skip=0)
    _book_first(case, akiko)
    identity_review(
        document_id=_upload_id(case, akiko, IdType.DRIVERS_LICENCE),
        actor=staff["sato"],
        verified=True,
    )
    form = current_consent_form()
    if form is not None:
        consent_sign(
            case_id=case.pk,
            actor=akiko,
            signer_name=case.patient_name,
            form_version=form.version,
            language="ja",
        )
    device_check_record(
        case_id=case.pk,
        actor=akiko,
        camera_ok=True,
        microphone_ok=True,
        connection_ok=True,
        round_trip_ms=18,
        user_agent="demo data",
        detail={"demo": True},
    )


def _masao_ready_in_person(masao: User, staff: Staff) -> None:
    """In person at neurology: only the identity check is needed before he comes."""
    case = _accepted(masao, staff)
    _offer(case, staff, count=1, skip=0)
    _book_first(case, masao)
    first = _upload_id(case, masao, IdType.HEALTH_INSURANCE_CARD)
    second = _upload_id(case, masao, IdType.PENSION_BOOK)
    for document_id in (first, second):
        identity_review(document_id=document_id, actor=staff["sato"], verified=True)


DEMO_SCHEDULE: list[tuple[str, str, Callable[[User, Staff], None]]] = [
    ("patient_michiko", "cardiology", _michiko_offered),
    ("patient_hiroshi", "cardiology", _hiroshi_booked),
    ("patient_akiko", "cardiology", _akiko_ready),
    ("patient_masao", "neurology", _masao_ready_in_person),
]


def load_demo_schedule() -> None:
    """Cases offered, booked and ready, each made once (as `cases.demo.load_demo_cases`)."""
    staff = {
        name: User.objects.get(username=username)
        for name, username in (
            ("sato", "coordinator_sato"),
            ("tanaka", "dr_tanaka"),
            ("mori", "dr_mori"),
        )
    }
    for username, department, make in DEMO_SCHEDULE:
        applicant = User.objects.get(username=username)
        if Case.objects.filter(applicant=applicant, department__code=department).exists():
            continue
        with transaction.atomic():
            make(applicant, staff)
