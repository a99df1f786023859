"""Uploading and viewing documents: every view checks access and writes the audit log."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from opiniondesk.accounts.models import Role
from opiniondesk.audit.services import audit_denied, audit_read
from opiniondesk.cases.access import case_for_request
from opiniondesk.cases.applications import checklist, missing_answers
from opiniondesk.cases.selectors import documents_visible_to, open_document_request
from opiniondesk.cases.wizard import steps_for
from opiniondesk.core.downloads import stored_file_response
from opiniondesk.documents import services
from opiniondesk.documents.content import ContentRejected, FileKind, is_inline_viewable
from opiniondesk.documents.forms import PhysicianUploadFormSet, UploadForm
from opiniondesk.documents.models import Document, UploadSource
from opiniondesk.documents.naming import named_for
from opiniondesk.documents.selectors import LinkUnusable, upload_link_get
from opiniondesk.documents.wording import dropped_message, refusal_message


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _may_upload(request: HttpRequest, case: Any) -> UploadSource:
    if case.applicant_id == request.user.pk:
        return UploadSource.APPLICANT
    if request.user.role == Role.COORDINATOR:
        return UploadSource.STAFF
    raise PermissionDenied


@login_required
@never_cache
def case_documents(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case's documents, the live checklist, and the upload form."""
    case = case_for_request(request, case_id)
    visible = documents_visible_to(request.user, case)
    form = UploadForm(case=case, documents=visible)
    if request.method == "POST":
        source = _may_upload(request, case)
        form = UploadForm(request.POST, request.FILES, case=case, documents=visible)
        if form.is_valid():
            data = form.cleaned_data
            try:
                document = services.document_add(
                    case=case,
                    kind=data["kind"],
                    uploaded=data["file"],
                    actor=request.user,
                    source=source,
                    request=request,
                    test_data_kind=data["test_data_kind"],
                    proxy=data.get("proxy"),
                    note=data["note"],
                    supersedes=data["supersedes"],
                )
            except (ContentRejected, services.UploadRefused) as exc:
                form.add_error("file", refusal_message(str(exc.code)))
            else:
                messages.success(request, _("The document was added."))
                if document.dropped_members:
                    messages.warning(request, dropped_message(document.dropped_members))
                url = reverse("case-documents", args=[case.pk])
                if _wants_json(request):
                    return JsonResponse({"ok": True, "redirect": url})
                return redirect(url)
        if _wants_json(request):
            return JsonResponse({"ok": False, "errors": form.errors}, status=400)
    audit_read(request, case, page="documents")
    documents = visible.select_related("proxy", "superseded_by")
    return render(
        request,
        "documents/case_documents.html",
        {
            "case": case,
            "form": form,
            "documents": documents,
            "checklist": checklist(case),
            "max_mb": settings.DOCUMENT_MAX_BYTES // (1024 * 1024),
            "open_request": open_document_request(case),
            "wizard_steps": steps_for(case.applicant_relation),
            "incomplete": set(missing_answers(case)),
        },
    )


@login_required
@require_safe
@never_cache
def document_file(request: HttpRequest, document_id: int) -> HttpResponseBase:
    """The file itself, inline for PDF and images, as a download otherwise."""
    document = Document.objects.filter(pk=document_id).select_related("case").first()
    if document is None:
        raise Http404
    case = case_for_request(request, document.case_id)  # 404 and audited when not this user's
    if not documents_visible_to(request.user, case).filter(pk=document.pk).exists():
        audit_denied(
            request,
            case_id=case.pk,
            obj=document,
            path=request.path[:200],
            why="document kind not for this role",
        )
        raise Http404
    inline = is_inline_viewable(FileKind(document.file_kind)) and "download" not in request.GET
    audit_read(request, case, obj=document, download=not inline)
    response = stored_file_response(
        request,
        document.file,
        content_type=document.content_type,
        as_attachment=not inline,
        # Named after what the content is, whatever name it was sent under (also for
        # documents stored before names were corrected on upload).
        filename=named_for(document.original_name, document.file_kind),
    )
    # A document is data, never a page: no scripts, no sniffing, not kept in caches.
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


@login_required
@require_POST
def upload_link_create(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_for_request(request, case_id)
    if case.applicant_id != request.user.pk and request.user.role != Role.COORDINATOR:
        raise PermissionDenied
    try:
        days = int(request.POST.get("days", settings.PHYSICIAN_LINK_DAYS))
        token = services.upload_link_create(
            case=case, actor=request.user, days=days, request=request
        )
    except (ValueError, services.UploadRefused):
        messages.error(request, _("Please choose between 1 and 60 days."))
        return redirect("case-documents", case.pk)
    link = request.build_absolute_uri(reverse("physician-upload", args=[token]))
    return render(
        request, "documents/upload_link_created.html", {"case": case, "link": link, "days": days}
    )


@never_cache
def physician_upload(request: HttpRequest, token: str) -> HttpResponse:
    """The attending physician's upload page: no account, one use, audited."""
    try:
        link = upload_link_get(token)
    except LinkUnusable as exc:
        audit_denied(request, physician_link=exc.why)
        return render(
            request,
            "documents/physician_link_unusable.html",
            {"why": exc.why},
            status=410 if exc.why != "unknown" else 404,
        )
    formset = PhysicianUploadFormSet()
    if request.method == "POST":
        formset = PhysicianUploadFormSet(request.POST, request.FILES)
        if formset.is_valid():
            files = [
                (f.cleaned_data["kind"], f.cleaned_data["test_data_kind"], f.cleaned_data["file"])
                for f in formset.forms
                if f.cleaned_data
            ]
            if not files:
                formset._non_form_errors = formset.error_class([_("Please choose a file.")])
            else:
                try:
                    documents = services.upload_link_use(token=token, files=files, request=request)
                except ContentRejected as exc:
                    formset._non_form_errors = formset.error_class([refusal_message(str(exc.code))])
                except LinkUnusable as exc:
                    return render(
                        request,
                        "documents/physician_link_unusable.html",
                        {"why": exc.why},
                        status=410,
                    )
                else:
                    return render(
                        request, "documents/physician_upload_done.html", {"documents": documents}
                    )
    audit_read(request, link.case, obj=link, page="physician upload")
    return render(
        request,
        "documents/physician_upload.html",
        {"formset": formset, "case": link.case, "expires_at": link.expires_at},
    )
