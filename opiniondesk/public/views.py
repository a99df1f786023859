"""Public pages: how the service works, departments, fees, contact and the self-check.

Nothing here stores or logs what a visitor types: the self-check answers go through the same
rule functions as the API and are rendered straight back, marked no-store.
"""

from datetime import date
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from opiniondesk.billing.fees import NoFeeTable, table_in_force
from opiniondesk.billing.providers import takes_cards
from opiniondesk.billing.selectors import fee_tables
from opiniondesk.cases.age import is_adult
from opiniondesk.cases.eligibility import Application, Reason, Verdict
from opiniondesk.cases.selectors import application_from_data, eligibility_verdict
from opiniondesk.catalog.closed_days import next_open_day
from opiniondesk.catalog.models import Department
from opiniondesk.catalog.selectors import departments_public, year_end_closure
from opiniondesk.catalog.vocabulary import DocumentCode
from opiniondesk.core.time import jst_today
from opiniondesk.public import wording
from opiniondesk.public.blank_forms import BLANK_FORMS, blank_form_pdf, filename_of
from opiniondesk.public.forms import SelfCheckForm


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "public/home.html", {"takes_cards": takes_cards()})


@require_safe
def departments(request: HttpRequest) -> HttpResponse:
    shown = [_department(dept) for dept in departments_public()]
    return render(request, "public/departments.html", {"departments": shown})


@require_safe
def fees(request: HttpRequest) -> HttpResponse:
    try:
        table = table_in_force(fee_tables(), jst_today())
    except NoFeeTable:
        table = None
    tiers = []
    if table is not None:
        lower = 0
        for tier in table.tiers:
            tiers.append({"over": lower, "up_to": tier.up_to_minutes, "tier": tier})
            lower = tier.up_to_minutes
    return render(
        request,
        "public/fees.html",
        {"table": table, "tiers": tiers, "takes_cards": takes_cards()},
    )


@require_safe
def contact(request: HttpRequest) -> HttpResponse:
    today = jst_today()
    closure = year_end_closure()
    open_day = next_open_day(today, year_end=closure)
    context = {
        "next_open_day": open_day,
        "open_today": open_day == today,
        # Any leap year, so that a closure starting on 29 February can be shown.
        "year_end_start": date(2024, closure.start.month, closure.start.day),
        "year_end_end": date(2024, closure.end.month, closure.end.day),
    }
    return render(request, "public/contact.html", context)


@require_safe
def blank_form(request: HttpRequest, lang: str, form: str) -> HttpResponse:
    """A blank paper form as a PDF, in the language of the link. No personal data: cacheable,
    with the version it was rendered from as its ETag."""
    if form not in BLANK_FORMS or lang not in dict(settings.LANGUAGES):
        raise Http404("no such form")
    with translation.override(lang):
        rendered = blank_form_pdf(form, hospital=settings.HOSPITAL)
        filename = filename_of(form)
    response = HttpResponse(rendered.pdf, content_type="application/pdf")
    response["ETag"] = f'"{rendered.digest[:32]}"'
    # Shown in the browser to print, saved under its own name (RFC 6266, RFC 5987).
    response["Content-Disposition"] = (
        f'inline; filename="{BLANK_FORMS[form].ascii_filename}"; '
        f"filename*=UTF-8''{quote(filename)}"
    )
    patch_cache_control(response, public=True, max_age=24 * 3600)
    return get_conditional_response(request, etag=response["ETag"], response=response)


@never_cache
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    today = jst_today()
    catalog = list(departments_public())
    data = request.POST if request.method == "POST" else None
    form = SelfCheckForm(data, departments=catalog, today=today)
    result = None
    if form.is_valid():
        app = application_from_data(form.application_data())
        verdict = eligibility_verdict(app, today=today)
        result = _result(app, verdict, catalog=catalog, today=today)
    return render(request, "public/check.html", {"form": form, "result": result})


def _department(dept: Department) -> dict[str, Any]:
    return {
        "code": dept.code,
        "name": wording.local_name(dept),
        "modes": [wording.MODE_NAMES[mode] for mode in dept.modes],
        "hours": list(dept.consult_hours.all()),
        "diseases": [wording.local_name(disease) for disease in dept.diseases.all()],
        "extra_documents": [
            wording.DOCUMENT_TITLES[DocumentCode(doc.code)] for doc in dept.extra_documents.all()
        ],
    }


def _result(
    app: Application, verdict: Verdict, *, catalog: list[Department], today: date
) -> dict[str, Any]:
    """The verdict with every code turned into words for the template."""
    if verdict.refused:
        status = "refused"
    elif verdict.missing_documents:
        status = "documents"
    else:
        status = "eligible"
    return {
        "status": status,
        "reasons": [
            {"code": reason.value, "text": wording.REASONS[reason]} for reason in verdict.reasons
        ],
        "no_specialist": Reason.NO_SPECIALIST in verdict.reasons,
        "mode_name": wording.MODE_NAMES[app.mode],
        "departments_for_mode": [
            wording.local_name(dept) for dept in catalog if app.mode in dept.modes
        ],
        "other_mode": _other_mode(app, catalog),
        "documents": _documents(app, verdict, today=today),
        "missing_count": len(verdict.missing_documents),
    }


def _other_mode(app: Application, catalog: list[Department]) -> str:
    """The mode that the chosen department offers when it does not offer the chosen one."""
    for dept in catalog:
        if dept.code == app.department and app.mode not in dept.modes and dept.modes:
            return str(wording.MODE_NAMES[dept.modes[0]])
    return ""


def _documents(app: Application, verdict: Verdict, *, today: date) -> list[dict[str, Any]]:
    minor = not app.patient.deceased and not is_adult(app.patient.birth_date, today)
    documents = []
    for code in verdict.required_documents:
        note = wording.DOCUMENT_NOTES[code]
        if code is DocumentCode.RELATIONSHIP_PROOF and minor:
            note = wording.MINOR_RELATIONSHIP_NOTE
        documents.append(
            {
                "code": code.value,
                "title": wording.DOCUMENT_TITLES[code],
                "note": note,
                "have": code not in verdict.missing_documents,
            }
        )
    return documents
