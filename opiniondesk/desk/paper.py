"""The coordinator's pages for a paper application (紙の申込書): type in the form the patient
brought or posted, with the application's own forms; record that the signed form and the
consent to the privacy policy arrived; send it; then hand it to the person's own account.

Only for a case the coordinator opened from a referral letter that is still held by the
account opened with it (`referrals.selectors.paper_import`): any other case is refused here,
so an online applicant's draft is never the coordinator's to fill in or send. The services
(`referrals.paper`, `readiness.services.handover_invite`) check it again.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.permissions import role_required
from opiniondesk.audit.services import audit_read
from opiniondesk.cases import forms as application_forms
from opiniondesk.cases import services as cases
from opiniondesk.cases.access import case_for_request
from opiniondesk.cases.applications import missing_answers
from opiniondesk.cases.models import Case
from opiniondesk.cases.selectors import case_verdict
from opiniondesk.cases.wizard import steps
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import jst_today
from opiniondesk.documents.content import ContentRejected
from opiniondesk.documents.services import UploadRefused
from opiniondesk.public.wording import REASONS
from opiniondesk.readiness.errors import ReadinessError
from opiniondesk.readiness.selectors import open_invitation
from opiniondesk.readiness.services import handover_invite
from opiniondesk.referrals import paper
from opiniondesk.referrals.errors import PaperError
from opiniondesk.referrals.selectors import paper_application, paper_import

# The parts of the paper form, in the wizard's order: (slug, form or None for the proxies).
FORM_STEPS = ("applicant", "proxies", "patient", "consult", "sheet", "physician")

PAPER_ERRORS = {
    "NOT_COORDINATOR": gettext_lazy("Only a coordinator types in and sends a paper application."),
    "NOT_PAPER": gettext_lazy(
        "This case is not a paper application opened from a referral letter: its applicant "
        "fills it in and sends it."
    ),
    "NOT_DRAFT": gettext_lazy("This paper application has already been sent."),
    "STALE": gettext_lazy(
        "Someone saved this application in another window. The page now shows what was saved; "
        "please enter your changes again."
    ),
    "NOT_RECEIVED": gettext_lazy(
        "Please record first that the signed application form and the consent to the privacy "
        "policy were received."
    ),
    "FUTURE_DATE": gettext_lazy("The date received cannot be in the future."),
    "NO_POLICY": gettext_lazy("No privacy policy was in force on that day."),
}


class ReceivedForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)
    received_on = forms.DateField(
        label=gettext_lazy("Received on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    consent = forms.BooleanField(
        label=gettext_lazy(
            "The application form is signed, and so is the consent to the privacy policy on it."
        ),
        error_messages={
            "required": gettext_lazy(
                "Without the signed consent to the privacy policy the application cannot be sent."
            )
        },
    )
    scan = forms.FileField(
        label=gettext_lazy("Scan of the signed form (optional)"),
        required=False,
        help_text=gettext_lazy("Kept as the case's scanned paper application."),
    )


class HandoverForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-mail address of the person who applied"),
        help_text=gettext_lazy(
            "The patient, or the family member named on the form. They open the link, sign in "
            "with their own account (or create one) and the application moves into it."
        ),
        error_messages={
            "required": gettext_lazy("Please enter the e-mail address."),
            "invalid": gettext_lazy("Please check the e-mail address: it does not look complete."),
        },
    )


def _paper_case(request: HttpRequest, case_id: int) -> Case:
    """The case, if this coordinator may see it and it is a paper application; else 404."""
    case = case_for_request(request, case_id)
    if paper_import(case) is None:
        raise Http404("not a paper application")
    return case


def _step(slug: str) -> Any:
    found = {s.slug: s for s in steps()}.get(slug)
    if found is None or slug not in FORM_STEPS:
        raise Http404("no such part")
    return found


def _overview(request: HttpRequest, case: Case, **bound: Any) -> HttpResponse:
    missing = missing_answers(case)
    verdict = None if missing else case_verdict(case)
    titles = {s.slug: s.title for s in steps()}
    audit_read(request, case, page="paper application")
    handed = open_invitation(case)
    return render(
        request,
        "desk/paper/overview.html",
        {
            "case": case,
            "parts": [(slug, titles[slug], slug in missing) for slug in FORM_STEPS],
            "privacy_missing": "privacy" in missing,
            "missing": missing,
            "missing_titles": [titles.get(slug, slug) for slug in missing],
            "verdict": verdict,
            "explanations": [REASONS[r] for r in verdict.reasons] if verdict else [],
            "paper": paper_application(case),
            "received_form": bound.get("received")
            or ReceivedForm(initial={"revision": case.revision, "received_on": jst_today()}),
            "handover_form": bound.get("handover")
            or HandoverForm(initial={"email": case.patient_email}),
            "open_handover": handed if handed and handed.hands_over else None,
            "is_draft": case.status == Status.DRAFT,
        },
        status=400 if bound else 200,
    )


@role_required(Role.COORDINATOR)
@never_cache
def paper_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """What the paper form says so far, what is missing, the eligibility, send, hand over."""
    return _overview(request, _paper_case(request, case_id))


@role_required(Role.COORDINATOR)
@never_cache
def paper_step(request: HttpRequest, case_id: int, step: str) -> HttpResponse:
    """One part of the paper form, with the application's own form of that step."""
    case = _paper_case(request, case_id)
    part = _step(step)
    if case.status != Status.DRAFT:
        messages.info(request, str(PAPER_ERRORS["NOT_DRAFT"]))
        return redirect("staff-paper", case.pk)
    if part.slug == "proxies":
        return _proxies(request, case)
    form = part.form(instance=case, initial={"revision": case.revision})
    status = 200
    if request.method == "POST":
        partial = request.POST.get("action") == "later"
        form = part.form(request.POST, instance=Case.objects.get(pk=case.pk), partial=partial)
        if form.is_valid():
            try:
                paper.paper_save_step(
                    case_id=case.pk,
                    revision=form.cleaned_data["revision"],
                    step=part.slug,
                    values=form.values(),
                    actor=request.user,
                    request=request,
                )
            except PaperError as refused:
                messages.error(request, str(PAPER_ERRORS[refused.code]))
                return redirect("staff-paper-step", case.pk, part.slug)
            messages.success(request, _("Saved."))
            return redirect("staff-paper", case.pk)
        status = 400
    audit_read(request, case, page=f"paper application {part.slug}")
    return render(
        request,
        "desk/paper/step.html",
        {"case": case, "form": form, "title": part.title, "step": part.slug},
        status=status,
    )


def _proxies(request: HttpRequest, case: Case) -> HttpResponse:
    queryset = case.proxies.all()
    formset = application_forms.ProxyFormSet(queryset=queryset)
    status = 200
    if request.method == "POST":
        formset = application_forms.ProxyFormSet(request.POST, queryset=queryset)
        if formset.is_valid():
            rows = [
                {
                    **{k: f.cleaned_data[k] for k in application_forms.ProxyForm._meta.fields},
                    "id": f.instance.pk,
                }
                for f in formset.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
            try:
                paper.paper_set_proxies(
                    case_id=case.pk,
                    revision=int(request.POST.get("revision", "-1")),
                    proxies=rows,
                    actor=request.user,
                    request=request,
                )
            except (PaperError, ValueError) as refused:
                code = refused.code if isinstance(refused, PaperError) else "STALE"
                messages.error(request, str(PAPER_ERRORS[code]))
                return redirect("staff-paper-step", case.pk, "proxies")
            messages.success(request, _("Saved."))
            return redirect("staff-paper", case.pk)
        status = 400
    audit_read(request, case, page="paper application proxies")
    return render(
        request,
        "desk/paper/proxies.html",
        {"case": case, "formset": formset, "title": _("Family members attending")},
        status=status,
    )


@role_required(Role.COORDINATOR)
@never_cache
def paper_received(request: HttpRequest, case_id: int) -> HttpResponse:
    """Record the signed form and the consent to the privacy policy (POST)."""
    case = _paper_case(request, case_id)
    if request.method != "POST":
        return redirect("staff-paper", case.pk)
    form = ReceivedForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            paper.paper_received(
                case_id=case.pk,
                revision=form.cleaned_data["revision"],
                received_on=form.cleaned_data["received_on"],
                scan=form.cleaned_data["scan"],
                actor=request.user,
                request=request,
            )
        except PaperError as refused:
            form.add_error(None, str(PAPER_ERRORS[refused.code]))
        except (ContentRejected, UploadRefused):
            form.add_error(
                "scan", _("This file cannot be kept: please scan the form as a PDF or an image.")
            )
        else:
            messages.success(request, _("The paper application form was recorded as received."))
            return redirect("staff-paper", case.pk)
    case.refresh_from_db()
    return _overview(request, case, received=form)


@role_required(Role.COORDINATOR)
@never_cache
def paper_submit(request: HttpRequest, case_id: int) -> HttpResponse:
    """Send the paper application: the eligibility rules decide exactly as online (POST)."""
    case = _paper_case(request, case_id)
    if request.method != "POST":
        return redirect("staff-paper", case.pk)
    try:
        paper.paper_submit(case_id=case.pk, actor=request.user, request=request)
    except PaperError as refused:
        messages.error(request, str(PAPER_ERRORS[refused.code]))
    except cases.Incomplete:
        messages.error(request, _("Some questions of the form are not answered yet."))
    except cases.Refused:
        messages.error(
            request,
            _("This application cannot be accepted under the rules. The reasons are below."),
        )
    else:
        messages.success(request, _("The paper application was sent."))
        return redirect("staff-case", case.pk)
    return redirect("staff-paper", case.pk)


@role_required(Role.COORDINATOR)
@never_cache
def paper_handover(request: HttpRequest, case_id: int) -> HttpResponse:
    """Invite the person who applied on paper to take the case into their own account (POST)."""
    case = _paper_case(request, case_id)
    if request.method != "POST":
        return redirect("staff-paper", case.pk)
    form = HandoverForm(request.POST)
    if form.is_valid():
        email = form.cleaned_data["email"]
        try:
            handover_invite(case_id=case.pk, actor=request.user, email=email, request=request)
        except ReadinessError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("We sent the invitation to %(email)s.") % {"email": email})
            return redirect("staff-paper", case.pk)
    return _overview(request, case, handover=form)
