"""The coordinator's identity check form on the staff case page."""

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opiniondesk.cases.staff_forms import StaffForm

VERIFY, REJECT = "verify", "reject"


def identity_form_key(document_id: int) -> str:
    """Each ID has its own form on the page; a failed one is shown again under this key."""
    return f"identity-{document_id}"


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
        self.key = identity_form_key(document_id)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == REJECT and not (data.get("reject_reason") or "").strip():
            self.add_error("reject_reason", _("Tell the patient why the ID cannot be accepted."))
        return data
