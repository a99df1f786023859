"""The coordinator corrects a submitted application on the staff case page; each correction is
a new version (records.CaseRevision) with its author, time and reason, listed on the page."""

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opiniondesk.accounts.models import Role, User
from opiniondesk.accounts.permissions import role_required
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.desk.acting import Data, locked_status
from opiniondesk.records.forms import ApplicationCorrectForm
from opiniondesk.records.selectors import revisions_of
from opiniondesk.records.services import application_correct as correct

# The patient's contact details: the specialist's page does not show them, nor their changes.
CONTACT = frozenset({"patient_postal_code", "patient_address", "patient_phone"})


def panel(case: Case, user: User, bound: dict[str, forms.Form]) -> dict[str, Any]:
    """The corrections made so far (both staff pages), and the coordinator's form."""
    coordinator = user.role == Role.COORDINATOR
    can_correct = coordinator and case.status != Status.DRAFT
    revisions = [
        (
            revision,
            [
                (
                    Case._meta.get_field(name).verbose_name,
                    coordinator or name not in CONTACT,
                    change["old"],
                    change["new"],
                )
                for name, change in revision.changes.items()
            ],
        )
        for revision in revisions_of(case)
    ]
    # Every revision is listed: their number is what the form carries (no COUNT of its own).
    seen = {"seen_revisions": len(revisions)}
    return {
        "revisions": revisions,
        "correct_form": (bound.get("correct") or ApplicationCorrectForm(case=case, initial=seen))
        if can_correct
        else None,
    }


def _no_new_revision(case: Case, data: Data) -> bool:
    locked_status(case)  # the case row locked: corrections of it wait for each other
    return bool(case.revisions.count() == data["seen_revisions"])


@role_required(Role.COORDINATOR)
@require_POST
def application_correct(request: HttpRequest, case_id: int) -> HttpResponse:
    from opiniondesk.desk.staff_case import _act

    form: ApplicationCorrectForm | None = None

    def make(case: Case) -> ApplicationCorrectForm:
        nonlocal form
        form = ApplicationCorrectForm(request.POST, case=case)
        return form

    return _act(
        request,
        case_id,
        make,
        anchor="corrections",
        unchanged=_no_new_revision,
        change=lambda data: correct(
            case_id=case_id,
            actor=request.user,  # type: ignore[arg-type]
            values=form.values() if form else {},
            reason=data["reason"],
            request=request,
        ),
        done=_("The application was corrected; the previous values are kept."),
    )
