"""What the staff case page shows of screening and the department's decision: the live
eligibility, the coordinator's actions, the specialist's decision. `desk` composes the page."""

from datetime import timedelta
from typing import Any

from django import forms

from opiniondesk.accounts.models import User
from opiniondesk.cases import staff_forms
from opiniondesk.cases.applications import checklist, missing_answers
from opiniondesk.cases.eligibility import Verdict
from opiniondesk.cases.models import Case
from opiniondesk.cases.selectors import case_verdict, open_document_request
from opiniondesk.cases.workflow import Actor, Status, next_states
from opiniondesk.catalog.selectors import patient_due_date
from opiniondesk.core.time import jst_today
from opiniondesk.public.wording import REASONS


def live_verdict(case: Case) -> Verdict | None:
    """Recomputed on every view: documents may have arrived since the last look."""
    return None if missing_answers(case) else case_verdict(case)


def coordinator_panel(case: Case, bound: dict[str, forms.Form]) -> dict[str, Any]:
    """The eligibility now, the checklist, and the actions the coordinator may take next.
    `bound` holds forms that failed, to show again with their errors."""
    verdict, items = live_verdict(case), checklist(case)
    missing = verdict.missing_documents if verdict else [c for c, have in items if not have]
    allowed = set(next_states(Status(case.status), Actor.COORDINATOR))
    seen = {"seen_status": case.status}
    actions: dict[str, forms.Form] = {}
    if Status.SCREENING in allowed:
        actions["screen"] = staff_forms.CaseActionForm(initial=seen)
    if Status.AWAITING_DOCUMENTS in allowed:
        actions["request"] = staff_forms.RequestDocumentsForm(
            initial={
                **seen,
                "items": [code.value for code in missing],
                "due_date": patient_due_date(jst_today() + timedelta(days=14), today=jst_today()),
            }
        )
    if Status.REJECTED in allowed:
        reasons = [r.value for r in verdict.reasons] if verdict else []
        actions["reject"] = staff_forms.RejectForm(initial={**seen, "reasons": reasons})
    if Status.REFERRED in allowed:
        actions["refer"] = staff_forms.ReferForm(
            initial={**seen, "department": case.department_id, "disease": case.disease_id},
            mode=case.mode,
        )
    if Status.WITHDRAWN in allowed:
        actions["withdraw"] = staff_forms.WithdrawForm(initial=seen)
    phone = staff_forms.PhoneLogForm(initial=staff_forms.phone_log_initial(case.patient_phone))
    actions |= {key: form for key, form in bound.items() if key in actions}
    return {
        "verdict": verdict,
        "checklist": items,
        "reasons": [(code, REASONS[code]) for code in verdict.reasons] if verdict else [],
        "actions": actions,
        "suggested": _suggested(case, verdict),
        "phone_form": bound.get("phone", phone),
        "phone_logs": case.phone_logs.select_related("called_by"),
        "open_request": open_document_request(case),
    }


def _suggested(case: Case, verdict: Verdict | None) -> str:
    """The action a coordinator most likely takes next, opened and marked on the page."""
    if case.status == Status.SUBMITTED:
        return "screen"
    if case.status != Status.SCREENING or verdict is None:
        return ""
    if verdict.refused:
        return "reject"
    return "request" if verdict.missing_documents else "refer"


def specialist_panel(case: Case, user: User, bound: dict[str, forms.Form]) -> dict[str, Any]:
    """Accept (with the consult's planned length) or decline."""
    allowed = set(next_states(Status(case.status), Actor.SPECIALIST))
    seen = {"seen_status": case.status}
    actions: dict[str, forms.Form] = {}
    if Status.ACCEPTED in allowed:
        actions["accept"] = staff_forms.AcceptForm(initial=seen)
    if Status.DECLINED in allowed:
        actions["decline"] = staff_forms.DeclineForm(initial=seen)
    actions |= {key: form for key, form in bound.items() if key in actions}
    return {"actions": actions}
