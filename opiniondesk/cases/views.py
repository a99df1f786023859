"""The applicant's side: dashboard, the application wizard, submission and withdrawal."""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opiniondesk.accounts.models import Role
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases import forms, services
from opiniondesk.cases.applications import missing_answers
from opiniondesk.cases.eligibility import Reason
from opiniondesk.cases.models import Case, DocumentRequest, PrivacyPolicy
from opiniondesk.cases.selectors import MAX_ID, case_get_for_user, cases_visible_to
from opiniondesk.cases.workflow import Status
from opiniondesk.documents.models import Document
from opiniondesk.public.wording import REASONS


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form: type[forms.StepForm] | None


def steps() -> list[Step]:
    return [
        Step("applicant", _("Who is applying"), forms.ApplicantForm),
        Step("proxies", _("Family members attending"), None),
        Step("patient", _("The patient"), forms.PatientForm),
        Step("consult", _("Department and mode"), forms.ConsultForm),
        Step("sheet", _("Consultation sheet"), forms.SheetForm),
        Step("physician", _("Attending physician and questions"), forms.PhysicianForm),
        Step("privacy", _("Privacy policy"), None),
        Step("documents", _("Documents"), None),
        Step("review", _("Check and send"), None),
    ]


def _step_after(slug: str) -> str:
    slugs = [s.slug for s in steps()]
    return slugs[slugs.index(slug) + 1]


# While these last, the applicant is told which documents are still missing.
BEFORE_REFERRAL = frozenset({Status.SUBMITTED, Status.SCREENING, Status.AWAITING_DOCUMENTS})


def get_case(request: HttpRequest, case_id: int) -> Case:
    """The case if this user may see it; otherwise 404, and the attempt is audited."""
    try:
        case = case_get_for_user(user=request.user, case_id=case_id)
    except Http404:
        in_range = 0 < case_id <= MAX_ID
        audit_record(
            action=AuditAction.DENIED,
            request=request,
            case_id=case_id if in_range else None,
            detail={"path": request.path},
        )
        raise
    return case


def _own_draft(request: HttpRequest, case_id: int) -> Case:
    case = get_case(request, case_id)
    if case.applicant_id != request.user.pk:
        raise PermissionDenied
    return case


def _remember_language(request: HttpRequest) -> None:
    language = (get_language() or "ja")[:2]
    if request.user.language != language:
        request.user.language = language
        request.user.save(update_fields=["language"])


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The applicant's cases, each in plain words with what happens next."""
    if request.user.role != Role.PATIENT:
        return redirect("staff-home")
    _remember_language(request)
    open_requests = DocumentRequest.objects.filter(fulfilled_at__isnull=True)
    cases = (
        cases_visible_to(request.user)
        .select_related("department", "disease")
        .prefetch_related(
            Prefetch("transitions"),
            Prefetch("document_requests", queryset=open_requests, to_attr="open_requests"),
        )
    )
    audit_record(action=AuditAction.READ, request=request, detail={"page": "dashboard"})
    from opiniondesk.readiness.views import next_thing  # it imports this module

    cases = list(cases)
    for case in cases:
        case.next_thing = next_thing(case, request.user)
    return render(request, "cases/dashboard.html", {"cases": cases})


@login_required
@require_POST
def case_new(request: HttpRequest) -> HttpResponse:
    if request.user.role != Role.PATIENT:
        raise PermissionDenied
    case = services.case_create_draft(applicant=request.user, request=request)
    return redirect("case-step", case.pk, "applicant")


@login_required
def case_step(request: HttpRequest, case_id: int, step: str) -> HttpResponse:
    case = _own_draft(request, case_id)
    if case.status != Status.DRAFT:
        messages.info(request, _("This application has been sent; it can no longer be edited."))
        return redirect("case-detail", case.pk)
    by_slug = {s.slug: s for s in steps()}
    if step not in by_slug:
        raise Http404("no such step")
    if step == "proxies":
        return _proxies_step(request, case)
    if step == "privacy":
        return _privacy_step(request, case)
    if step == "documents":
        return redirect("case-documents", case.pk)
    if step == "review":
        return _review_step(request, case)
    return _form_step(request, case, by_slug[step])


def _render_step(
    request: HttpRequest, case: Case, step: str, context: dict[str, Any]
) -> HttpResponse:
    audit_record(
        action=AuditAction.READ, request=request, case_id=case.pk, obj=case, detail={"step": step}
    )
    incomplete = set(missing_answers(case))
    return render(
        request,
        f"cases/step_{step}.html"
        if step in ("proxies", "privacy", "review")
        else "cases/step_form.html",
        {
            "case": case,
            "step": step,
            "steps": steps(),
            "incomplete": incomplete,
            **context,
        },
    )


def _saved_or_conflict(request: HttpRequest, save: Any) -> bool:
    """Run a save; on a conflict with another window, say so and keep the answers on screen."""
    try:
        save()
    except services.StaleDraft:
        messages.warning(
            request,
            _(
                "This application was changed in another window or tab. Your answers below were "
                "not saved yet: please check them and save again."
            ),
        )
        return False
    except services.NotEditable:
        messages.info(request, _("This application has already been sent."))
        return False
    return True


def _next(request: HttpRequest, case: Case, step: str) -> HttpResponse:
    if request.POST.get("action") == "later":
        messages.success(request, _("Your answers are saved. You can continue at any time."))
        return redirect("dashboard")
    return redirect("case-step", case.pk, _step_after(step))


def _form_step(request: HttpRequest, case: Case, step: Step) -> HttpResponse:
    assert step.form is not None
    if request.method == "POST":
        partial = request.POST.get("action") == "later"
        form = step.form(request.POST, instance=Case.objects.get(pk=case.pk), partial=partial)
        if form.is_valid():

            def save() -> None:
                services.case_save_step(
                    case_id=case.pk,
                    revision=form.cleaned_data["revision"],
                    values=form.values(),
                    actor=request.user,
                    request=request,
                    step=step.slug,
                )

            if _saved_or_conflict(request, save):
                return _next(request, case, step.slug)
            case.refresh_from_db()
            form.data = form.data.copy()
            form.data["revision"] = case.revision
    else:
        form = step.form(instance=case, initial={"revision": case.revision})
    return _render_step(request, case, step.slug, {"form": form, "title": step.title})


def _proxies_step(request: HttpRequest, case: Case) -> HttpResponse:
    queryset = case.proxies.all()
    if request.method == "POST":
        formset = forms.ProxyFormSet(request.POST, queryset=queryset)
        revision = int(request.POST.get("revision", "-1"))
        if formset.is_valid():
            rows = [
                {
                    **{k: f.cleaned_data[k] for k in forms.ProxyForm._meta.fields},
                    "id": f.instance.pk,
                }
                for f in formset.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]

            def save() -> None:
                services.case_set_proxies(
                    case_id=case.pk,
                    revision=revision,
                    proxies=rows,
                    actor=request.user,
                    request=request,
                )

            if _saved_or_conflict(request, save):
                return _next(request, case, "proxies")
            case.refresh_from_db()
    else:
        formset = forms.ProxyFormSet(queryset=queryset)
    return _render_step(
        request, case, "proxies", {"formset": formset, "title": _("Family members attending")}
    )


def _privacy_step(request: HttpRequest, case: Case) -> HttpResponse:
    policy = PrivacyPolicy.objects.order_by("-effective_from").first()
    if request.method == "POST" and policy is not None:
        form = forms.PrivacyForm(request.POST)
        if form.is_valid():

            def save() -> None:
                services.case_accept_privacy_policy(
                    case_id=case.pk,
                    revision=form.cleaned_data["revision"],
                    policy=policy,
                    actor=request.user,
                    request=request,
                )

            if _saved_or_conflict(request, save):
                return _next(request, case, "privacy")
            case.refresh_from_db()
    else:
        form = forms.PrivacyForm(
            initial={
                "revision": case.revision,
                "accept": case.privacy_policy_id == getattr(policy, "pk", None),
            }
        )
    english = (get_language() or "ja").startswith("en")
    return _render_step(
        request,
        case,
        "privacy",
        {
            "form": form,
            "policy": policy,
            "title": _("Privacy policy"),
            "policy_text": policy
            and (policy.text_en if english and policy.text_en else policy.text_ja),
            "purposes": policy
            and (policy.purposes_en if english and policy.purposes_en else policy.purposes_ja),
        },
    )


def _review_step(request: HttpRequest, case: Case) -> HttpResponse:
    incomplete = missing_answers(case)
    verdict = None if incomplete else services.case_verdict(case)
    return _render_step(
        request,
        case,
        "review",
        {
            "title": _("Check and send"),
            "verdict": verdict,
            "explanations": [REASONS[r] for r in verdict.reasons] if verdict else [],
            "documents": case.documents.all(),
            "proxies": case.proxies.all(),
        },
    )


@login_required
@require_POST
def case_submit(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _own_draft(request, case_id)
    try:
        services.case_submit(case_id=case.pk, actor=request.user, request=request)
    except services.NotEditable:
        messages.info(request, _("This application has already been sent."))
        return redirect("case-detail", case.pk)
    except services.Incomplete as exc:
        messages.error(request, _("Some questions are not answered yet."))
        return redirect("case-step", case.pk, exc.steps[0])
    except services.Refused:
        messages.error(
            request,
            _("We are sorry: this application cannot be accepted. The reasons are below."),
        )
        return redirect("case-step", case.pk, "review")
    messages.success(request, _("Thank you. Your application has been sent."))
    return redirect("case-detail", case.pk)


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case(request, case_id)
    audit_record(
        action=AuditAction.READ,
        request=request,
        case_id=case.pk,
        obj=case,
        detail={"page": "detail"},
    )
    verdict = None
    if case.status not in (Status.DRAFT,) and not missing_answers(case):
        verdict = services.case_verdict(case)
    documents = Document.objects.filter(case=case).select_related("proxy")
    # A rejected case is explained by the reasons the coordinator chose, not by today's rules;
    # once the hospital has decided otherwise, the rules are no longer quoted.
    reasons: list[Reason] = []
    if case.status == Status.REJECTED:
        reasons = [Reason(code) for code in case.rejection_reasons]
    elif verdict is not None and case.status in BEFORE_REFERRAL:
        reasons = list(verdict.reasons)
    # Imported here: the scheduling and readiness views import this module.
    from opiniondesk.readiness.services import PREPARATION_STATES
    from opiniondesk.readiness.views import checklist_rows
    from opiniondesk.scheduling.views import booking_panel

    return render(
        request,
        "cases/detail.html",
        {
            **booking_panel(case, request.user),
            "readiness": checklist_rows(case, request.user)
            if case.status in PREPARATION_STATES
            else [],
            "case": case,
            "verdict": verdict,
            "documents": documents,
            "transitions": case.transitions.all(),
            "proxies": case.proxies.all(),
            "can_withdraw": case.applicant_id == request.user.pk
            and case.status
            in (
                Status.DRAFT,
                Status.SUBMITTED,
                Status.SCREENING,
                Status.AWAITING_DOCUMENTS,
                Status.REFERRED,
                Status.ACCEPTED,
                Status.OFFERED,
            ),
            "reason_explanations": [REASONS[reason] for reason in reasons],
            "show_missing": case.status in BEFORE_REFERRAL,
            "open_request": case.document_requests.filter(fulfilled_at__isnull=True).last()
            if case.status == Status.AWAITING_DOCUMENTS
            else None,
        },
    )


@login_required
@require_POST
def case_withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _own_draft(request, case_id)
    if request.POST.get("confirm") != "1":  # it cannot be undone online, and ends any booking
        messages.error(request, _("To withdraw, please tick the box that confirms it."))
        return redirect(reverse("case-detail", args=[case.pk]) + "#withdraw")
    try:
        services.case_withdraw(
            case_id=case.pk,
            actor=request.user,
            request=request,
            reason=request.POST.get("reason", "")[:500],
        )
    except services.InvalidTransition:
        messages.error(
            request, _("This application can no longer be withdrawn online. Please call us.")
        )
        return redirect("case-detail", case.pk)
    messages.success(request, _("The application was withdrawn."))
    return redirect(reverse("dashboard"))
