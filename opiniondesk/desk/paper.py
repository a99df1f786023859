"""The coordinator's pages for a paper or phone application (紙の申込書, 電話での申込み): open a
case from the caller's details (or from a referral letter, `referrals.views`), attach the
scans, type in the form with the application's own forms, record that the signed form and the
consent to the privacy policy arrived, send it; then, if the person wants, invite them to take
it into their own account.

Only for a case the coordinator opened that is still held by the account opened with it
(`referrals.selectors.paper_held`): any other case is refused here, so an online applicant's
draft is never the coordinator's to fill in or send. The services (`referrals.paper`,
`readiness.services.handover_invite`) check it again.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.permissions import role_required
from opiniondesk.audit.services import audit_read
from opiniondesk.cases import forms as application_forms
from opiniondesk.cases import services as cases
from opiniondesk.cases.access import case_for_request
from opiniondesk.cases.applications import missing_answers
from opiniondesk.cases.models import Case, Channel
from opiniondesk.cases.selectors import case_verdict, documents_visible_to
from opiniondesk.cases.wizard import steps
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import jst_today
from opiniondesk.documents.content import ContentRejected
from opiniondesk.documents.models import DocumentKind, TestDataKind
from opiniondesk.documents.services import Scan, UploadRefused
from opiniondesk.documents.wording import refusal_message
from opiniondesk.public.wording import REASONS
from opiniondesk.readiness.errors import ReadinessError
from opiniondesk.readiness.selectors import open_invitation
from opiniondesk.readiness.services import handover_invite
from opiniondesk.referrals import paper
from opiniondesk.referrals.errors import PaperError
from opiniondesk.referrals.selectors import paper_held

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
    "NO_FILES": gettext_lazy("Please choose the files to attach."),
}
PAPER_CHANNELS = [(value, label) for value, label in Channel.choices if value != Channel.ONLINE]
# An ID for the identity check is uploaded by the patient with its type, never here.
SCAN_KINDS = [(v, label) for v, label in DocumentKind.choices if v != DocumentKind.PATIENT_ID]


class OpenForm(forms.ModelForm):
    """The caller's details a case is opened from; the rest is typed in part by part."""

    channel = forms.ChoiceField(
        label=gettext_lazy("How did the application reach us?"),
        choices=PAPER_CHANNELS,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Case
        fields = [
            "patient_family_name",
            "patient_given_name",
            "patient_family_name_kana",
            "patient_given_name_kana",
            "patient_phone",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("patient_family_name", "patient_given_name", "patient_phone"):
            self.fields[name].required = True
        application_forms.phone_field(self.fields["patient_phone"])
        self.fields["patient_phone"].help_text = _(
            "A number we can reach on weekdays between 10:00 and 17:00."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("patient_family_name_kana", "patient_given_name_kana"):
            value = data.get(name) or ""
            if value and not application_forms.KANA.match(value):
                self.add_error(name, _("Please write the name in kana (hiragana or katakana)."))
        return data

    def values(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self._meta.fields or ()}


class ScanForm(forms.Form):
    """One scanned document and what it is; a row left empty is skipped."""

    kind = forms.ChoiceField(
        label=gettext_lazy("What is this document?"),
        choices=[("", gettext_lazy("Please choose")), *SCAN_KINDS],
    )
    test_data_kind = forms.ChoiceField(
        label=gettext_lazy("Kind of test data"),
        required=False,
        choices=[("", gettext_lazy("Please choose")), *TestDataKind.choices],
    )
    note = forms.CharField(label=gettext_lazy("Note (optional)"), required=False, max_length=200)
    file = forms.FileField(label=gettext_lazy("File"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == DocumentKind.TEST_DATA and not data.get("test_data_kind"):
            self.add_error("test_data_kind", _("Please choose the kind of test data."))
        return data

    def scan(self) -> Scan:
        data = self.cleaned_data
        return Scan(
            kind=data["kind"],
            uploaded=data["file"],
            test_data_kind=data["test_data_kind"],
            note=data["note"],
        )


ScanFormSet = forms.formset_factory(ScanForm, extra=3, max_num=10, validate_max=True)


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
    if paper_held(case) is None:
        raise Http404("not a paper application")
    return case


@role_required(Role.COORDINATOR)
@never_cache
def paper_open(request: HttpRequest) -> HttpResponse:
    """Open a case for someone who applied by post, at the desk or by phone."""
    form = OpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case = paper.paper_open(
            actor=request.user,
            channel=Channel(form.cleaned_data["channel"]),
            patient=form.values(),
            request=request,
        )
        messages.success(
            request, _("Case %(ref)s was opened. Now enter the form.") % {"ref": case.reference}
        )
        return redirect("staff-paper", case.pk)
    return render(
        request,
        "desk/paper/open.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


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
    documents = documents_visible_to(request.user, case).select_related("superseded_by")
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
            "paper": paper_held(case),
            "documents": documents,
            "scan_formset": bound.get("scans") or ScanFormSet(prefix="scan"),
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
def paper_attach(request: HttpRequest, case_id: int) -> HttpResponse:
    """Attach several scans at once, each with what it is (POST)."""
    case = _paper_case(request, case_id)
    if request.method != "POST":
        return redirect("staff-paper", case.pk)
    formset = ScanFormSet(request.POST, request.FILES, prefix="scan")
    if formset.is_valid():
        scans = [f.scan() for f in formset.forms if f.cleaned_data]
        try:
            added = paper.paper_attach(
                case_id=case.pk, scans=scans, actor=request.user, request=request
            )
        except PaperError as refused:
            formset._non_form_errors = formset.error_class([str(PAPER_ERRORS[refused.code])])
        except (ContentRejected, UploadRefused) as refused:
            formset._non_form_errors = formset.error_class([refusal_message(str(refused.code))])
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)d document was attached.", "%(n)d documents were attached.", len(added)
                )
                % {"n": len(added)},
            )
            return redirect(reverse("staff-paper", args=[case.pk]) + "#paper-documents")
    case.refresh_from_db()
    return _overview(request, case, scans=formset)


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
