"""The opinion as a PDF (セカンドオピニオン回答書): a reply to the referral letter, addressed to the
attending physician, drawn from one version's stored rows. Japanese throughout, as the letter
between physicians is; rendered by `core.pdf` with Noto Sans CJK JP.

A draft renders too, for the specialist's preview, marked 下書き and without a signature."""

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from opiniondesk.billing.wording import japanese_date
from opiniondesk.core.pdf import html_to_pdf
from opiniondesk.opinions.models import OpinionDelivery, OpinionVersion

SEX = {"female": "女性", "male": "男性"}


def opinion_context(version: OpinionVersion) -> dict[str, Any]:
    case = version.opinion.case
    signed_at = timezone.localtime(version.signed_at) if version.signed_at else None
    # The letter names the recipient it was sent to, else the physician the case names now.
    delivery = OpinionDelivery.objects.filter(version=version).order_by("pk").first()
    recipient = {
        "institution": delivery.recipient_institution if delivery else case.physician_institution,
        "department": delivery.recipient_department if delivery else case.physician_department,
        "name": delivery.recipient_name if delivery else case.physician_name,
    }
    return {
        "version": version,
        "case": case,
        "signed": version.signed,
        "recipient": recipient,
        "hospital": settings.HOSPITAL,
        "department": case.department.name if case.department else "",
        "specialist": (version.signed_by or version.written_by).get_full_name(),
        "date": japanese_date((signed_at or timezone.localtime(version.saved_at)).date()),
        "signed_at": f"{japanese_date(signed_at.date())} {signed_at:%H:%M}" if signed_at else "",
        "hash_short": version.content_hash[:16],
        "birth_date": japanese_date(case.patient_birth_date) if case.patient_birth_date else "",
        "sex": SEX.get(case.patient_sex, ""),
        "corrects": version.corrects,
    }


def opinion_pdf(version: OpinionVersion) -> bytes:
    context = opinion_context(version)
    return html_to_pdf(
        render_to_string("opinions/opinion.html", context),
        render_to_string("opinions/opinion.css"),
    )


def opinion_filename(version: OpinionVersion) -> str:
    return f"opinion-{version.opinion.case.reference}-v{version.number}.pdf"
