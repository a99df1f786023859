"""Demo cases whose consult took place (in person), for the billing desk (issue #12) and the
opinion (issue #13): Tomoko's fee paid at the desk with its receipt, her opinion signed by
Dr Tanaka and posted to her physician (so her case is closed); Shigeru's fee still due, his
opinion a draft of Dr Mori's. Made through the services the pages use. Demo mode only.

The physicians' delivery details are invented: no real address, the e-mail under `.invalid`.

The consults are held on the day `make run` loads the demo (the booked date is later): the
specialist records the start and the end at once, so the fee counts the 20 minutes of review.
"""

from typing import Any

from django.utils import timezone

from opiniondesk.accounts.models import User
from opiniondesk.billing.models import CollectMethod
from opiniondesk.billing.services import collect
from opiniondesk.cases.models import Case
from opiniondesk.consults.services import visit_end, visit_start
from opiniondesk.demo.cases import Staff, make_each
from opiniondesk.demo.schedule import accepted, book_first, offer, upload_id
from opiniondesk.opinions import services as opinions
from opiniondesk.readiness.rules import IdType
from opiniondesk.readiness.services import identity_review


def _consulted(patient: User, staff: Staff) -> Case:
    case = accepted(patient, staff)
    offer(case, staff, count=1, skip=1)
    book_first(case, patient)
    identity_review(
        document_id=upload_id(case, patient, IdType.DRIVERS_LICENCE),
        actor=staff["sato"],
        verified=True,
    )
    specialist = _specialist(case, staff)
    visit_start(case_id=case.pk, actor=specialist)
    visit_end(case_id=case.pk, actor=specialist)
    return case


def _specialist(case: Case, staff: Staff) -> User:
    return staff["mori"] if case.department.code == "neurology" else staff["tanaka"]


# Where the opinion goes: invented (a demo address, a `.invalid` e-mail, 0000 numbers).
DELIVERY_DETAILS = {
    "postal_code": "000-0000",
    "address": "東京都見本区見本町1-2-3 デモ医療ビル2階（架空の住所）",
    "fax": "03-0000-0000",
    "email": "physician@demo-clinic.invalid",
}
TOMOKO_OPINION = {
    "on_current": "僧帽弁閉鎖不全症の診断は、心エコー所見から妥当と考えます。利尿薬による現在の"
    "内服治療も適切です。",
    "on_future": "現時点で症状は軽く、左室機能も保たれています。半年ごとの心エコーで逆流の程度と"
    "左室の大きさを確認し、悪化の兆しがあれば弁形成術をご検討ください。",
    "answers": [
        "今すぐの手術は必要ないと考えます。息切れが強くなった時、または心エコーで左室の拡大や"
        "機能の低下が見られた時が、手術を考える時期です。"
    ],
    "remarks": "デモデータ: 架空の症例です。",
}
SHIGERU_DRAFT = {
    "on_current": "パーキンソン病(ヤール2度)の診断と、ドパミンアゴニストによる治療は妥当です。",
    "on_future": "",
    "answers": ["（記入中）"],
    "remarks": "",
}


def _opinion_draft(case: Case, specialist: User, text: dict[str, Any]) -> Any:
    """The specialist's draft, one answer per question of the application."""
    count = len(opinions.questions_of(case))
    answers = (text["answers"] + [""] * count)[:count]
    return opinions.draft_save(case_id=case.pk, actor=specialist, **{**text, "answers": answers})


def _tomoko_paid(tomoko: User, staff: Staff) -> None:
    """Paid at the desk by card terminal (her receipt is on her page); the opinion signed by
    Dr Tanaka and posted to her physician: the case is closed."""
    case = _consulted(tomoko, staff)
    ito = User.objects.get(username="billing_ito")
    collect(charge_id=case.charge.pk, actor=ito, method=CollectMethod.TERMINAL)
    opinions.delivery_details_save(case_id=case.pk, actor=staff["sato"], **DELIVERY_DETAILS)
    draft = _opinion_draft(case, staff["tanaka"], TOMOKO_OPINION)
    opinions.sign(
        version_id=draft.pk, actor=staff["tanaka"], previewed_hash=draft.computed_hash(case.pk)
    )
    opinions.post_record(case_id=case.pk, actor=staff["sato"], posted_on=timezone.localdate())


def _shigeru_due(shigeru: User, staff: Staff) -> None:
    """The consult is over; the fee waits at the billing desk; Dr Mori is writing the opinion."""
    case = _consulted(shigeru, staff)
    opinions.delivery_details_save(case_id=case.pk, actor=staff["sato"], **DELIVERY_DETAILS)
    _opinion_draft(case, staff["mori"], SHIGERU_DRAFT)


DEMO_BILLING = [
    ("patient_tomoko", "cardiology", _tomoko_paid),
    ("patient_shigeru", "neurology", _shigeru_due),
]


def load_demo_billing() -> None:
    make_each(DEMO_BILLING)
