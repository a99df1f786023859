"""The whole record of a case as one PDF, for a disclosure request (開示, SPEC §11.15).

In Japanese (the record as the hospital keeps it): the application, its history, the documents
with their SHA-256, the consents, the bookings, the consult record (times, who was present, the
connection events and the chat), the fee and its receipts, and the opinion: every signed version
with its signature, hash and content (a draft is not yet the hospital's answer, so not here),
its deliveries and each provision to a third party. Rendered by WeasyPrint with Noto Sans
CJK JP through billing's `html_to_pdf` (no core PDF helper exists yet), nothing fetched.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from opiniondesk.billing.models import Charge
from opiniondesk.billing.wording import receipt_number_text, yen
from opiniondesk.cases.kinship import Relation
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.consults.models import Consult
from opiniondesk.core.pdf import html_to_pdf
from opiniondesk.core.time import JST
from opiniondesk.documents.models import Document
from opiniondesk.opinions import selectors as opinions
from opiniondesk.opinions.models import (
    DeliveryMethod,
    Disclosure,
    DisclosureBasis,
    OpinionDelivery,
    OpinionVersion,
    VersionState,
)
from opiniondesk.public.wording import RELATION_NAMES
from opiniondesk.readiness.models import ConsentSignature
from opiniondesk.scheduling.models import Booking

STATUS_JA = {
    Status.DRAFT: "下書き",
    Status.SUBMITTED: "申込済",
    Status.SCREENING: "審査中",
    Status.AWAITING_DOCUMENTS: "書類待ち",
    Status.REJECTED: "お受けできません",
    Status.REFERRED: "診療科へ依頼中",
    Status.DECLINED: "診療科が辞退",
    Status.ACCEPTED: "受入決定",
    Status.OFFERED: "候補日提示",
    Status.BOOKED: "予約済",
    Status.READY: "準備完了",
    Status.IN_CONSULT: "相談中",
    Status.COMPLETED: "相談終了",
    Status.CHARGED: "会計済",
    Status.CLOSED: "回答書送付済",
    Status.WITHDRAWN: "取り下げ",
    Status.CANCELLED: "予約取消",
    Status.NO_SHOW: "不参加",
}
YES_NO = {True: "はい", False: "いいえ", None: "未回答"}


def when(moment: datetime | None) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


def case_record_pdf(case: Case) -> bytes:
    """The record of `case` as PDF bytes."""
    with translation.override("ja"):
        html = render_to_string("interop/record.html", record_context(case))
    return html_to_pdf(html, render_to_string("interop/record.css"))


def record_context(case: Case) -> dict[str, Any]:
    return {
        "case": case,
        "hospital": settings.HOSPITAL,
        "made_at": when(timezone.now()),
        "status": STATUS_JA[Status(case.status)],
        "application": _application(case),
        "proxies": [
            {
                "name": f"{p.family_name} {p.given_name}"
                f"（{p.family_name_kana} {p.given_name_kana}）",
                "relation": _relation(p.relation),
                "phone": p.phone,
            }
            for p in case.proxies.all()
        ],
        "transitions": [
            {
                "at": when(t.at),
                "from": STATUS_JA.get(Status(t.from_status), t.from_status)
                if t.from_status
                else "",
                "to": STATUS_JA.get(Status(t.to_status), t.to_status),
                "role": t.actor_role,
                "reason": t.reason,
            }
            for t in case.transitions.all()
        ],
        "documents": [
            {
                "kind": str(d.get_kind_display()),
                "name": d.original_name,
                "type": d.content_type,
                "size": f"{d.size:,}",
                "at": when(d.uploaded_at),
                "sha256": d.sha256,
                "source": str(d.get_source_display()),
            }
            for d in Document.objects.filter(case=case)
        ],
        "consents": [
            {"version": s.form.version, "signer": s.signer_name, "at": when(s.signed_at)}
            for s in ConsentSignature.objects.filter(case=case).select_related("form")
        ],
        "bookings": [_booking(b) for b in Booking.objects.filter(case=case)],
        "consults": [_consult(c) for c in Consult.objects.filter(case=case).order_by("pk")],
        "charge": _charge(case),
        "opinion_versions": [
            _opinion_version(v) for v in opinions.versions(case).filter(state=VersionState.SIGNED)
        ],
        "opinion_deliveries": [_delivery(d) for d in opinions.deliveries(case)],
        "third_party": [
            _third_party(x)
            for x in Disclosure.objects.filter(case=case).select_related("disclosed_by")
        ],
    }


def _relation(relation: str) -> str:
    return str(RELATION_NAMES[Relation(relation)]) if relation else "—"


def _application(case: Case) -> list[tuple[str, str]]:
    kana = f"{case.patient_family_name_kana} {case.patient_given_name_kana}".strip()
    applicant = (
        "本人"
        if case.applicant_relation in ("", Relation.SELF)
        else f"{case.applicant_family_name} {case.applicant_given_name}"
        f"（{_relation(case.applicant_relation)}） {case.applicant_phone}"
    )
    return [
        ("受付番号", case.reference),
        ("患者氏名", f"{case.patient_name}（{kana}）" if kana else case.patient_name),
        ("生年月日", case.patient_birth_date.isoformat() if case.patient_birth_date else "—"),
        ("性別", str(case.get_patient_sex_display()) if case.patient_sex else "—"),
        ("住所", f"〒{case.patient_postal_code} {case.patient_address}"),
        ("電話", case.patient_phone),
        ("メール", case.patient_email),
        ("申込者", applicant),
        ("相談方法", "オンライン" if case.mode == "online" else "対面" if case.mode else "—"),
        ("診療科", case.department.name if case.department_id else "—"),
        ("疾患", case.disease.name if case.disease_id else "—"),
        ("現在の診断", case.current_diagnosis),
        ("これまでの治療", case.treatment_so_far),
        ("現在の診断・治療への意見を希望", YES_NO[case.wants_opinion_on_current]),
        ("今後の治療・見通しへの意見を希望", YES_NO[case.wants_opinion_on_future]),
        ("相談したいこと", case.questions),
        (
            "主治医",
            f"{case.physician_name}（{case.physician_institution} {case.physician_department}）"
            f" {case.physician_phone}",
        ),
        ("主治医の了解", YES_NO[case.attending_physician_agrees]),
        ("申込日時", when(case.submitted_at)),
        (
            "個人情報の取扱いへの同意",
            f"{case.privacy_policy.version}版 {when(case.privacy_accepted_at)}"
            if case.privacy_policy_id
            else "—",
        ),
    ]


def _booking(booking: Booking) -> dict[str, str]:
    return {
        "when": f"{when(booking.starts_at)} – {booking.ends_at.astimezone(JST):%H:%M}",
        "mode": "オンライン" if booking.mode == "online" else "対面",
        "specialist": f"{booking.specialist.last_name} {booking.specialist.first_name}",
        "state": f"取消 {when(booking.cancelled_at)} {booking.cancel_reason}"
        if booking.cancelled_at
        else "有効",
    }


def _consult(consult: Consult) -> dict[str, Any]:
    minutes, seconds = divmod(consult.call_seconds, 60)
    return {
        "mode": "オンライン" if consult.mode == "online" else "対面",
        "specialist": f"{consult.specialist.last_name} {consult.specialist.first_name}",
        "state": str(consult.get_state_display()),
        "started": when(consult.started_at),
        "ended": when(consult.ended_at),
        "length": f"{minutes}分{seconds:02d}秒",
        "review": f"{consult.review_seconds // 60}分",
        "end_reason": str(consult.get_end_reason_display()) if consult.end_reason else "—",
        "patient_side": "、".join(consult.present_patient_side) or "—",
        "hospital_side": "、".join(consult.present_hospital_side) or "—",
        "events": [
            {"at": when(e.at), "kind": str(e.get_kind_display()), "side": str(e.get_side_display())}
            for e in consult.events.all()
        ],
        "messages": [
            {"at": when(m.at), "side": str(m.get_side_display()), "text": m.text}
            for m in consult.messages.all()
        ],
        "notes": consult.notes,
    }


def _charge(case: Case) -> dict[str, Any] | None:
    charge = Charge.objects.filter(case=case).first()
    if charge is None:
        return None
    return {
        "state": str(charge.get_state_display()),
        "minutes": charge.billable_minutes,
        "amount": yen(charge.amount),
        "tax": yen(charge.tax),
        "rate": charge.tax_rate_percent,
        "settled": when(charge.settled_at),
        "refunded": yen(charge.refunded) if charge.refunded else "",
        "receipts": [
            {
                "number": receipt_number_text(r.number),
                "issued_on": r.issued_on.isoformat(),
                "amount": yen(r.amount),
                "kind": str(r.get_kind_display()),
            }
            for r in charge.receipts.all()
        ],
    }


METHOD_JA = {DeliveryMethod.LINK: "ワンタイムリンク（電子メール）", DeliveryMethod.POST: "郵送"}


def _person(user: Any) -> str:
    return f"{user.last_name} {user.first_name}".strip() or user.get_username()


def _recipient(row: OpinionDelivery | Disclosure) -> str:
    where = " ".join(p for p in (row.recipient_institution, row.recipient_department) if p)
    return f"{where} {row.recipient_name} 先生"


def _opinion_version(version: OpinionVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "signed_by": _person(version.signed_by),
        "signed_at": when(version.signed_at),
        "hash": version.content_hash,
        "corrects": version.corrects.number if version.corrects else None,
        "correction_reason": version.correction_reason,
        "on_current": version.on_current,
        "on_future": version.on_future,
        "answers": version.content()["answers"],
        "remarks": version.remarks,
    }


def _delivery(delivery: OpinionDelivery) -> dict[str, Any]:
    return {
        "version": delivery.version.number,
        "method": METHOD_JA[DeliveryMethod(delivery.method)],
        "recipient": _recipient(delivery),
        "created": when(delivery.created_at),
        "posted_on": delivery.posted_on.isoformat() if delivery.posted_on else "",
        "opened": when(delivery.opened_at) if delivery.opened_at else "",
        "revoked": when(delivery.revoked_at) if delivery.revoked_at else "",
        "delivered": when(delivery.delivered_at) if delivery.delivered_at else "未送達",
    }


def _third_party(disclosure: Disclosure) -> dict[str, Any]:
    return {
        "recipient": _recipient(disclosure),
        "what": disclosure.what,
        "at": when(disclosure.disclosed_at),
        "method": METHOD_JA[DeliveryMethod(disclosure.method)],
        "by": _person(disclosure.disclosed_by),
        "basis": "申込時の本人同意（個人情報の取扱い）"
        if disclosure.basis == DisclosureBasis.APPLICATION_CONSENT
        else disclosure.basis,
        "basis_detail": disclosure.basis_detail,
    }
