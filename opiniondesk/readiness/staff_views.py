"""The coordinator's identity check (本人確認, SPEC §6, §11.2) on the staff case page: what the
case still needs before its consult, the uploaded IDs, and the verify / reject actions."""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.permissions import role_required
from opiniondesk.cases.models import Case
from opiniondesk.cases.staff_forms import StaffForm
from opiniondesk.cases.views import get_case
from opiniondesk.cases.wording import STAFF_NOT_CHANGED
from opiniondesk.readiness.rules import PHOTO_IDS, IdType, Item
from opiniondesk.readiness.selectors import id_documents, readiness_checklist
from opiniondesk.readiness.services import PREPARATION_STATES, ReadinessError, identity_review
from opiniondesk.readiness.wording import ID_TYPE_LABELS
from opiniondesk.scheduling.staff_forms import MAX_ID

ITEM_LABELS = {
    Item.PATIENT_ACCOUNT: gettext_lazy("The patient's own account is linked"),
    Item.IDENTITY: gettext_lazy("Identity checked (one photo ID, or two IDs without a photo)"),
    Item.CONSENT: gettext_lazy("Request and consent for an online consult signed"),
    Item.PAYMENT_METHOD: gettext_lazy("Payment method saved"),
    Item.DEVICE_CHECK: gettext_lazy("Device check passed"),
}
VERIFY, REJECT = "verify", "reject"


class IdentityReviewForm(StaffForm):
    key = "identity"
    decision = forms.ChoiceField(
        choices=[(VERIFY, VERIFY), (REJECT, REJECT)], widget=forms.HiddenInput
    )
    reject_reason = forms.CharField(
        label=gettext_lazy("Why it cannot be accepted (the patient reads this)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, document_id: int, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_identity{document_id}_%s")
        super().__init__(*args, **kwargs)
        self.document_id = document_id

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == REJECT and not (data.get("reject_reason") or "").strip():
            self.add_error("reject_reason", _("Tell the patient why the ID cannot be accepted."))
        return data


def _bound_key(document_id: int) -> str:
    return f"identity-{document_id}"


def identity_context(case: Case, bound: dict[str, forms.Form]) -> dict[str, Any]:
    documents = list(id_documents(case).select_related("identity_review__reviewed_by"))
    rows = []
    for document in documents:
        review = getattr(document, "identity_review", None)
        form = bound.get(_bound_key(document.pk))
        rows.append(
            {
                "document": document,
                "label": ID_TYPE_LABELS.get(document.id_type, document.id_type or "—"),
                "has_photo": document.id_type in PHOTO_IDS,
                "review": review,
                "form": form or IdentityReviewForm(document_id=document.pk),
            }
        )
    shown = bool(documents) or case.status in PREPARATION_STATES
    items = readiness_checklist(case) if shown else []
    return {
        "identity_shown": shown,
        "id_rows": rows,
        "readiness_items": [(state, ITEM_LABELS[state.item]) for state in items],
        "id_type_labels": [(t, ID_TYPE_LABELS[t], t in PHOTO_IDS) for t in IdType],
    }


@role_required(Role.COORDINATOR)
@require_POST
def identity_check(request: HttpRequest, case_id: int, document_id: int) -> HttpResponse:
    """Verify or reject one uploaded ID of the case."""
    case = get_case(request, case_id)
    if not 0 < document_id <= MAX_ID or not id_documents(case).filter(pk=document_id).exists():
        raise Http404
    form = IdentityReviewForm(request.POST, document_id=document_id)
    if form.is_valid():
        try:
            identity_review(
                document_id=document_id,
                actor=request.user,
                verified=form.cleaned_data["decision"] == VERIFY,
                reason=form.cleaned_data["reject_reason"],
                request=request,
            )
        except ReadinessError as exc:
            form.add_error(None, exc.message)
        else:
            verified = form.cleaned_data["decision"] == VERIFY
            messages.success(
                request,
                _("The ID was accepted.")
                if verified
                else _("The ID was not accepted; the patient has been told by e-mail."),
            )
            return redirect(f"{reverse('staff-case', args=[case.pk])}#identity")
    messages.error(request, STAFF_NOT_CHANGED)
    from opiniondesk.cases.staff_views import _case_page  # it imports this module's context

    return _case_page(request, case, bound={_bound_key(document_id): form})
