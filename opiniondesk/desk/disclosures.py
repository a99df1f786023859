"""Disclosure requests (開示請求, SPEC §11.15): the patient's side asks from the case page; the
coordinators list the requests with their time limit, export the record (one PDF, the FHIR
Bundle) and record how it was handed over. Every export is audited as a download."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.permissions import role_required
from opiniondesk.audit.services import audit_denied, audit_read
from opiniondesk.cases.access import patient_case_for_request
from opiniondesk.interop import services
from opiniondesk.interop.errors import DisclosureError
from opiniondesk.interop.fhir_export import case_bundle
from opiniondesk.interop.models import Delivery, DisclosureRequest
from opiniondesk.interop.record_pdf import case_record_pdf
from opiniondesk.interop.selectors import (
    disclosure_standing,
    disclosures_for_staff,
)


@login_required
@require_POST
def case_disclosure_request(request: HttpRequest, case_id: int) -> HttpResponse:
    """The applicant or the patient asks for the record of their case."""
    case = patient_case_for_request(request, case_id)
    try:
        services.disclosure_request_create(
            case_id=case.pk,
            actor=request.user,
            wanted=request.POST.get("wanted", ""),
            details=request.POST.get("details", ""),
            delivery=request.POST.get("delivery", ""),
            request=request,
        )
    except DisclosureError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request, _("Your request was received. We will contact you when it is ready.")
        )
    return redirect(reverse("case-detail", args=[case.pk]) + "#disclosure")


@role_required(Role.COORDINATOR)
@never_cache
@require_safe
def disclosure_list(request: HttpRequest) -> HttpResponse:
    """The open requests, most urgent first, and with ?all=1 every request."""
    show_all = request.GET.get("all") == "1"
    rows = disclosures_for_staff(open_only=not show_all)
    audit_read(request, page="disclosures", cases=[row.request.case_id for row in rows])
    return render(request, "desk/disclosures/list.html", {"rows": rows, "show_all": show_all})


def _disclosure(request: HttpRequest, request_id: int) -> DisclosureRequest:
    disclosure = (
        DisclosureRequest.objects.select_related("case", "requested_by", "fulfilled_by")
        .filter(pk=request_id)
        .first()
    )
    if disclosure is None:
        audit_denied(request, path=request.path[:200], disclosure=request_id)
        raise Http404
    return disclosure


@role_required(Role.COORDINATOR)
@never_cache
@require_safe
def disclosure_page(request: HttpRequest, request_id: int) -> HttpResponse:
    disclosure = _disclosure(request, request_id)
    audit_read(request, disclosure.case, obj=disclosure, page="disclosure")
    return render(
        request,
        "desk/disclosures/detail.html",
        {
            "disclosure": disclosure,
            "case": disclosure.case,
            "deadline": disclosure_standing(disclosure),
            "deliveries": Delivery.choices,
        },
    )


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(Role.COORDINATOR)
@never_cache
@require_safe
def disclosure_pdf(request: HttpRequest, request_id: int) -> HttpResponse:
    """The whole record of the case as one PDF."""
    disclosure = services.disclosure_exported(
        request_id=_disclosure(request, request_id).pk,
        actor=request.user,
        kind="pdf",
        request=request,
    )
    pdf = case_record_pdf(disclosure.case)
    return _attachment(pdf, "application/pdf", f"{disclosure.case.reference}-record.pdf")


@role_required(Role.COORDINATOR)
@never_cache
@require_safe
def disclosure_fhir(request: HttpRequest, request_id: int) -> HttpResponse:
    """The record of the case as a FHIR R4 Bundle (JSON)."""
    disclosure = services.disclosure_exported(
        request_id=_disclosure(request, request_id).pk,
        actor=request.user,
        kind="fhir",
        request=request,
    )
    bundle = json.dumps(case_bundle(disclosure.case), ensure_ascii=False, indent=2)
    return _attachment(
        bundle.encode(), "application/fhir+json", f"{disclosure.case.reference}-fhir.json"
    )


@role_required(Role.COORDINATOR)
@require_POST
def disclosure_fulfil(request: HttpRequest, request_id: int) -> HttpResponse:
    disclosure = _disclosure(request, request_id)
    try:
        services.disclosure_fulfil(
            request_id=disclosure.pk,
            actor=request.user,
            delivered_via=request.POST.get("delivered_via", ""),
            note=request.POST.get("note", ""),
            request=request,
        )
    except DisclosureError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The request is marked as fulfilled."))
    return redirect("staff-disclosure", disclosure.pk)
