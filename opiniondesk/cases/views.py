"""The application wizard and its submission (the dashboard and the case page are in `desk`)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opiniondesk.accounts.models import Role
from opiniondesk.audit.services import audit_read
from opiniondesk.cases import forms, services
from opiniondesk.cases.access import case_for_request
from opiniondesk.cases.applications import missing_answers
from opiniondesk.cases.models import Case
from opiniondesk.cases.selectors import case_verdict, privacy_policy_in_force
from opiniondesk.cases.wizard import Step, step_after, steps, steps_for
from opiniondesk.cases.wizard_rules import AFTER_PRIVACY_STEPS, applies_for_family, step_slugs
from opiniondesk.cases.workflow import Status
from opiniondesk.public.wording import REASONS


def _own_draft(request: HttpRequest, case_id: int) -> Case:
    case = case_for_request(request, case_id)
    if case.applicant_id != request.user.pk:
        raise PermissionDenied
    return case


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
    relation = case.applicant_relation
    if step not in step_slugs(relation):  # e.g. the family list of a patient applying
        return redirect("case-step", case.pk, step_after(step, relation))
    if case.privacy_policy_id is None and step in AFTER_PRIVACY_STEPS:
        messages.info(request, _("Please read and agree to the privacy policy first."))
        return redirect("case-step", case.pk, "privacy")
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
    audit_read(request, case, step=step)
    incomplete = set(missing_answers(case))
    return render(
        request,
        f"cases/step_{step}.html"
        if step in ("proxies", "privacy", "review")
        else "cases/step_form.html",
        {
            "case": case,
            "step": step,
            "steps": steps_for(case.applicant_relation),
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
    except services.PrivacyFirst:
        messages.warning(request, _("Please read and agree to the privacy policy first."))
        return False
    return True


def _next(request: HttpRequest, case: Case, step: str) -> HttpResponse:
    if request.POST.get("action") == "later":
        messages.success(request, _("Your answers are saved. You can continue at any time."))
        return redirect("dashboard")
    case.refresh_from_db(fields=["applicant_relation"])  # the path may have changed
    return redirect("case-step", case.pk, step_after(step, case.applicant_relation))


def _form_step(request: HttpRequest, case: Case, step: Step) -> HttpResponse:
    assert step.form is not None
    # The applicant's name comes from their account, to be confirmed rather than typed.
    extra = {"account": request.user} if step.slug == "applicant" else {}
    if request.method == "POST":
        partial = request.POST.get("action") == "later"
        form = step.form(
            request.POST, instance=Case.objects.get(pk=case.pk), partial=partial, **extra
        )
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
        form = step.form(instance=case, initial={"revision": case.revision}, **extra)
    context: dict[str, Any] = {"form": form, "title": step.title}
    if step.slug == "patient" and "patient_consent" in form.fields:
        context["attendees"] = list(case.proxies.all())  # the consent form names them
    return _render_step(request, case, step.slug, context)


def _proxies_step(request: HttpRequest, case: Case) -> HttpResponse:
    """The family members attending: the applicant by one question (their details are on the
    first step), the others one row each, "add another" for one more row (no script)."""
    queryset = case.proxies.filter(is_applicant=False)
    attendance = forms.AttendanceForm(
        initial={"applicant_attends": _yes_no_initial(case.applicant_attends)}
    )
    formset = forms.ProxyFormSet(queryset=queryset)
    if request.method == "POST" and request.POST.get("action") == "add":
        attendance = forms.AttendanceForm(request.POST)
        formset = forms.ProxyFormSet(
            forms.formset_with_another_row(request.POST), queryset=queryset
        )
    elif request.method == "POST":
        attendance = forms.AttendanceForm(request.POST)
        formset = forms.ProxyFormSet(request.POST, queryset=queryset)
        if _proxies_saved(request, case, attendance, formset):
            return _next(request, case, "proxies")
        case.refresh_from_db()
    return _render_step(
        request,
        case,
        "proxies",
        {
            "attendance": attendance,
            "formset": formset,
            "can_add": formset.total_form_count() < (formset.max_num or 0),
            "title": _("Family members attending"),
        },
    )


def _yes_no_initial(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _proxies_saved(
    request: HttpRequest,
    case: Case,
    attendance: forms.AttendanceForm,
    formset: Any,
) -> bool:
    if not (attendance.is_valid() and formset.is_valid()):
        return False
    rows = [
        {**{k: f.cleaned_data[k] for k in forms.ProxyForm._meta.fields}, "id": f.instance.pk}
        for f in formset.forms
        if f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]
    attends = attendance.cleaned_data["applicant_attends"]
    if not attends and not rows:
        attendance.add_error(
            None, _("Please enter at least one family member who will attend, or attend yourself.")
        )
        return False

    def save() -> None:
        services.case_set_proxies(
            case_id=case.pk,
            revision=int(request.POST.get("revision", "-1")),
            proxies=rows,
            applicant_attends=attends,
            actor=request.user,
            request=request,
        )

    return _saved_or_conflict(request, save)


def _privacy_step(request: HttpRequest, case: Case) -> HttpResponse:
    policy = privacy_policy_in_force()
    if request.method == "POST" and policy is not None:
        form = forms.PrivacyForm(request.POST)
        if form.is_valid() and form.cleaned_data["version"] not in ("", policy.version):
            # The policy changed while the page was open: agree to what is on the page now.
            form.add_error(None, _("The privacy policy has been updated. Please read it again."))
        elif form.is_valid():

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
                "version": getattr(policy, "version", ""),
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
    verdict = None if incomplete else case_verdict(case)
    return _render_step(
        request,
        case,
        "review",
        {
            "title": _("Check and send"),
            "verdict": verdict,
            "explanations": [REASONS[r] for r in verdict.reasons] if verdict else [],
            "documents": case.documents.all(),
            "proxies": case.proxies.all() if applies_for_family(case.applicant_relation) else [],
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
