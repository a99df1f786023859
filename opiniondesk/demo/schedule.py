"""Demo cases for scheduling and readiness (issue #5), made through the services. Demo mode only.

Dates are taken from the calendar as it is on the day `make run` loads them: the earliest free
slots of the department, so the demo always shows upcoming consults. Hiroshi's consult is planned
for 60 minutes (two consecutive slots), like Kazuko's accepted case in `demo.cases`.
"""

from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from opiniondesk.accounts.models import User
from opiniondesk.cases.models import Case
from opiniondesk.cases.screening import case_accept
from opiniondesk.catalog.selectors import patient_deadline
from opiniondesk.core.time import JST, jst_today
from opiniondesk.demo.cases import Staff, make_each, refer, reviewed, self_applied
from opiniondesk.demo.documents import demo_pdf
from opiniondesk.demo.people import PERSONAS
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
from opiniondesk.scheduling.slots import change_deadline


def accepted(applicant: User, staff: Staff, minutes: int = 30) -> Case:
    asks = PERSONAS[applicant.username].asks
    specialist = staff["mori"] if asks and asks.department == "neurology" else staff["tanaka"]
    case = refer(self_applied(applicant), staff["sato"])
    case = case_accept(case_id=case.pk, actor=specialist, planned_minutes=minutes)
    reviewed(case, specialist, minutes=20)
    return case


def _apart(slots: list[SlotView], count: int) -> list[SlotView]:
    """The first `count` of these dates that do not overlap: one case's dates never do."""
    chosen: list[SlotView] = []
    for slot in slots:
        if not any(
            slot.specialist_id == other.specialist_id
            and slot.starts_at < other.ends_at
            and other.starts_at < slot.ends_at
            for other in chosen
        ):
            chosen.append(slot)
    return chosen[:count]


def offer(case: Case, staff: Staff, count: int, skip: int = 0) -> list[SlotView]:
    """Offer the earliest free dates where the case's consult fits (after `skip` of them), held
    for three days."""
    slots = suggest_slots(
        department=case.department,
        today=jst_today(),
        minutes=case.planned_minutes,
        limit=skip + 4 * count + 16,
    )
    # Held for three days, until a moment the phone desk answers (SPEC §5); only dates whose
    # change deadline comes after the hold can be offered with it.
    hold_until = patient_deadline(
        datetime.combine(
            jst_today() + timedelta(days=settings.OFFER_HOLD_DAYS), time(17, 0), tzinfo=JST
        ),
        now=timezone.now() + timedelta(hours=1),
    )
    later = [slot for slot in slots if change_deadline(slot.starts_at) >= hold_until]
    chosen = _apart(later[skip:], count)
    offer_create(
        case_id=case.pk,
        actor=staff["sato"],
        slots=[(slot.specialist_id, slot.starts_at) for slot in chosen],
        hold_until=hold_until,
        message="ご都合のよい日時をお選びください。ご不明な点はお電話ください。",
    )
    return chosen


def book_first(case: Case, applicant: User) -> None:
    slot = case.offers.get(released_at__isnull=True).slots.order_by("starts_at").first()
    booking_create(case_id=case.pk, actor=applicant, offered_slot_id=slot.pk)


def upload_id(case: Case, applicant: User, id_type: IdType) -> int:
    document = id_document_add(
        case_id=case.pk,
        actor=applicant,
        uploaded=demo_pdf("Demo ID card (not a real document)", "id.pdf"),
        id_type=id_type,
    )
    return document.pk


def _michiko_offered(michiko: User, staff: Staff) -> None:
    """Three dates are held for her: she chooses one on her page."""
    offer(accepted(michiko, staff), staff, count=3, skip=2)


def _hiroshi_booked(hiroshi: User, staff: Staff) -> None:
    """Booked for a 60-minute consult; his driver's licence waits for the coordinator, the rest
    is his to do."""
    case = accepted(hiroshi, staff, minutes=60)
    offer(case, staff, count=2, skip=5)
    book_first(case, hiroshi)
    upload_id(case, hiroshi, IdType.DRIVERS_LICENCE)


def _akiko_ready(akiko: User, staff: Staff) -> None:
    """Everything done before her online consult: ID checked, consent signed, device checked."""
    case = accepted(akiko, staff)
    offer(case, staff, count=2, skip=0)
    book_first(case, akiko)
    identity_review(
        document_id=upload_id(case, akiko, IdType.DRIVERS_LICENCE),
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
    case = accepted(masao, staff)
    offer(case, staff, count=1, skip=0)
    book_first(case, masao)
    first = upload_id(case, masao, IdType.HEALTH_INSURANCE_CARD)
    second = upload_id(case, masao, IdType.PENSION_BOOK)
    for document_id in (first, second):
        identity_review(document_id=document_id, actor=staff["sato"], verified=True)


DEMO_SCHEDULE: list[tuple[str, str, Callable[[User, Staff], None]]] = [
    ("patient_michiko", "cardiology", _michiko_offered),
    ("patient_hiroshi", "cardiology", _hiroshi_booked),
    ("patient_akiko", "cardiology", _akiko_ready),
    ("patient_masao", "neurology", _masao_ready_in_person),
]


def load_demo_schedule() -> None:
    """Cases offered, booked and ready, each made once."""
    make_each(DEMO_SCHEDULE)
