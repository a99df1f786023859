"""What the case pages show of the steps before the consult: the patient's checklist and the
coordinator's identity check. Built from selectors; the pages in `desk` compose them."""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opiniondesk.accounts.models import User
from opiniondesk.billing.models import CardOnFile
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import OPEN_STATES, PREPARATION_STATES
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.readiness import rules, selectors
from opiniondesk.readiness.rules import PHOTO_IDS, IdentityState, IdType, Item
from opiniondesk.readiness.staff_forms import IdentityReviewForm, identity_form_key
from opiniondesk.readiness.wording import ID_TYPE_LABELS, id_type_label

# The patient's checklist (case page and dashboard).


@dataclass(frozen=True)
class ChecklistRow:
    item: Item
    title: Promise
    state: str  # done, todo, waiting, not_needed or not_yet
    note: str = ""
    url: str = ""
    link_text: str = ""
    action: str = ""  # what to do next, for the dashboard


TITLES: dict[Item, Promise] = {
    Item.PATIENT_ACCOUNT: gettext_lazy("The patient's own account"),
    Item.PATIENT_PRIVACY: gettext_lazy("The patient's own agreement to the privacy policy"),
    Item.IDENTITY: gettext_lazy("Identity check (the patient's ID)"),
    Item.CONSENT: gettext_lazy("Request and consent for the online consultation"),
    Item.PAYMENT_METHOD: gettext_lazy("Payment method (credit card)"),
    Item.DEVICE_CHECK: gettext_lazy("Camera, microphone and connection check"),
}


def _account_row(
    case: Case, user: User, required: bool, done: bool, invitation_open: bool
) -> ChecklistRow:
    item = Item.PATIENT_ACCOUNT
    if not required:
        return ChecklistRow(item, TITLES[item], "not_needed", _("Only for online consultations."))
    if done:
        note = _("This is your account.") if user.pk == case.patient_account_id_effective else ""
        return ChecklistRow(item, TITLES[item], "done", note or _("Linked to this application."))
    url = reverse("case-invite-patient", args=[case.pk]) if user.pk == case.applicant_id else ""
    if invitation_open:
        return ChecklistRow(
            item,
            TITLES[item],
            "waiting",
            _("Invitation sent: waiting for the patient to accept it."),
            url,
            _("See the invitation"),
        )
    return ChecklistRow(
        item,
        TITLES[item],
        "todo",
        _("The patient needs their own account, even when only family members attend."),
        url,
        _("Invite the patient"),
        _("Invite the patient to link their own account"),
    )


def _patient_privacy_row(case: Case, user: User, required: bool, done: bool) -> ChecklistRow:
    item, url = Item.PATIENT_PRIVACY, reverse("case-patient-privacy", args=[case.pk])
    if not required:
        return ChecklistRow(
            item, TITLES[item], "not_needed", _("Only when a family member applied online.")
        )
    if done:
        return ChecklistRow(item, TITLES[item], "done", _("Agreed."), url, _("See"))
    if user.pk == case.patient_account_id_effective:
        return ChecklistRow(
            item,
            TITLES[item],
            "todo",
            _("Your family member agreed when applying; we also need your own agreement."),
            url,
            _("Read and agree"),
            _("Read and agree to the privacy policy"),
        )
    return ChecklistRow(
        item,
        TITLES[item],
        "todo",
        _("The patient agrees from their own account."),
        url,
        _("See"),
        _("The patient agrees to the privacy policy from their own account"),
    )


def _identity_row(case: Case, state: IdentityState) -> ChecklistRow:
    item, url = Item.IDENTITY, reverse("case-identity", args=[case.pk])
    if state is IdentityState.VERIFIED:
        return ChecklistRow(item, TITLES[item], "done", _("Checked. Thank you."), url, _("See"))
    if state is IdentityState.PENDING:
        note = _("Sent: our staff will check it.")
        return ChecklistRow(item, TITLES[item], "waiting", note, url, _("See"))
    if state is IdentityState.INSUFFICIENT:
        note = _("One more ID is needed: another one without a photo, or one with a photo.")
        return ChecklistRow(
            item, TITLES[item], "todo", note, url, _("Send an ID"), _("Send one more ID")
        )
    return ChecklistRow(
        item,
        TITLES[item],
        "todo",
        _("One ID with a photo, or two without."),
        url,
        _("Send an ID"),
        _("Send a photo of the patient's ID"),
    )


def _consent_row(case: Case, user: User, required: bool, done: bool) -> ChecklistRow:
    item, url = Item.CONSENT, reverse("case-consent", args=[case.pk])
    if not required:
        return ChecklistRow(item, TITLES[item], "not_needed", _("Only for online consultations."))
    if done:
        return ChecklistRow(item, TITLES[item], "done", _("Signed."), url, _("See"))
    if user.pk == case.patient_account_id_effective:
        return ChecklistRow(
            item,
            TITLES[item],
            "todo",
            "",
            url,
            _("Read and sign"),
            _("Read and sign the consent for the online consultation"),
        )
    return ChecklistRow(
        item,
        TITLES[item],
        "todo",
        _("The patient signs this from their own account."),
        url,
        _("See"),
        _("The patient signs the consent from their own account"),
    )


def _payment_row(case: Case, required: bool, done: bool, card: CardOnFile | None) -> ChecklistRow:
    item = Item.PAYMENT_METHOD
    if case.mode != Mode.ONLINE:
        return ChecklistRow(item, TITLES[item], "not_needed", _("You pay at the hospital."))
    if not required:
        # No card provider: the fee is paid at the hospital (desk, terminal or bank transfer).
        return ChecklistRow(
            item,
            TITLES[item],
            "not_needed",
            _("No card is needed: the fee is paid at the hospital after the consult."),
        )
    url = reverse("card-setup", args=[case.pk])
    if done and card is not None:
        return ChecklistRow(item, TITLES[item], "done", card_words(card), url, _("Change the card"))
    return ChecklistRow(
        item,
        TITLES[item],
        "todo",
        _("The fee is charged to this card after the consult."),
        url,
        _("Register a card"),
        _("Register a credit card"),
    )


def card_words(card: CardOnFile) -> str:
    """What may be shown of a saved card, as "VISA ****4242, expires 12/2030"."""
    words = " ".join(part for part in (card.brand.upper(), f"****{card.last4}") if part)
    if card.exp_month and card.exp_year:
        words += ", " + _("expires %(month)s/%(year)s") % {
            "month": f"{card.exp_month:02d}",
            "year": card.exp_year,
        }
    return words


def _device_row(case: Case, required: bool, done: bool) -> ChecklistRow:
    item = Item.DEVICE_CHECK
    if not required:
        return ChecklistRow(item, TITLES[item], "not_needed", _("Only for online consultations."))
    url = reverse("device-check", args=[case.pk])
    if done:
        return ChecklistRow(item, TITLES[item], "done", _("Checked."), url, _("Check again"))
    return ChecklistRow(
        item,
        TITLES[item],
        "todo",
        _("Use the device you will use on the day."),
        url,
        _("Check now"),
        _("Check the camera, microphone and connection"),
    )


def checklist_rows(
    case: Case, user: User, snapshot: selectors.Snapshot | None = None
) -> list[ChecklistRow]:
    """The readiness checklist of the case page, in the order the patient does it; `snapshot`
    when the caller read several cases at once (selectors.snapshots)."""
    snapshot = snapshot or selectors.snapshot(case)
    states = {state.item: state for state in rules.checklist(snapshot.facts)}

    def args(item: Item) -> tuple[bool, bool]:
        return states[item].required, states[item].done

    return [
        _account_row(case, user, *args(Item.PATIENT_ACCOUNT), snapshot.invitation_open),
        _patient_privacy_row(case, user, *args(Item.PATIENT_PRIVACY)),
        _identity_row(case, snapshot.facts.identity),
        _consent_row(case, user, *args(Item.CONSENT)),
        _payment_row(case, *args(Item.PAYMENT_METHOD), snapshot.card),
        _device_row(case, *args(Item.DEVICE_CHECK)),
    ]


def next_step(
    case: Case, user: User, snapshot: selectors.Snapshot | None = None
) -> ChecklistRow | None:
    """The first item the patient's side still has to do, if it says what to do."""
    rows = checklist_rows(case, user, snapshot)
    todo = next((row for row in rows if row.state == "todo"), None)
    return todo if todo is not None and todo.action else None


# The coordinator's identity check (staff case page).

ITEM_LABELS = {
    Item.PATIENT_ACCOUNT: gettext_lazy("The patient's own account is linked"),
    Item.PATIENT_PRIVACY: gettext_lazy(
        "The patient has accepted the privacy policy with their own account"
    ),
    Item.IDENTITY: gettext_lazy("Identity checked (one photo ID, or two IDs without a photo)"),
    Item.CONSENT: gettext_lazy("Request and consent for an online consult signed"),
    Item.PAYMENT_METHOD: gettext_lazy("Payment method saved"),
    Item.DEVICE_CHECK: gettext_lazy("Device check passed"),
}


def identity_panel(case: Case, bound: dict[str, forms.Form]) -> dict[str, Any]:
    """What the case still needs before its consult, its uploaded IDs and the check forms.
    `bound` holds a form that failed, to show again with its errors."""
    documents = list(selectors.id_documents(case).select_related("identity_review__reviewed_by"))
    rows = []
    for document in documents:
        review = getattr(document, "identity_review", None)
        form = bound.get(identity_form_key(document.pk))
        rows.append(
            {
                "document": document,
                "label": id_type_label(document.id_type),
                "has_photo": document.id_type in PHOTO_IDS,
                "review": review,
                "form": form or IdentityReviewForm(document_id=document.pk),
            }
        )
    shown = bool(documents) or case.status in PREPARATION_STATES
    # "Before the consult" means nothing once the consult is over or the case has ended: the
    # IDs and their checks stay, as the record of who was checked.
    items = selectors.readiness_checklist(case) if shown and case.status in OPEN_STATES else []
    return {
        "identity_shown": shown,
        "id_rows": rows,
        "readiness_items": [(state, ITEM_LABELS[state.item]) for state in items],
        "id_type_labels": [(t, ID_TYPE_LABELS[t], t in PHOTO_IDS) for t in IdType],
    }
