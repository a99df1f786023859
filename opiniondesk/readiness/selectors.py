"""What a case still needs before its consult, read from the database for the pure rules."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opiniondesk.billing.models import CardOnFile
from opiniondesk.billing.providers import takes_cards
from opiniondesk.cases.models import Case
from opiniondesk.cases.wizard_rules import applies_for_family
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.core.time import jst_today
from opiniondesk.core.tokens import token_hash
from opiniondesk.documents.models import Document, DocumentKind
from opiniondesk.readiness import rules
from opiniondesk.readiness.errors import InvitationProblem
from opiniondesk.readiness.models import (
    ConsentForm,
    ConsentSignature,
    DeviceCheck,
    PatientInvitation,
    PatientPrivacyAcceptance,
)


def id_documents(case: Case) -> QuerySet[Document]:
    return id_documents_of([case.pk])


def id_documents_of(case_ids: Iterable[int]) -> QuerySet[Document]:
    return (
        Document.objects.filter(case_id__in=list(case_ids), kind=DocumentKind.PATIENT_ID)
        .select_related("identity_review")
        .order_by("uploaded_at", "pk")
    )


def _review_of(document: Document) -> bool | None:
    review = getattr(document, "identity_review", None)
    return None if review is None else review.verified


def identity_state(case: Case) -> rules.IdentityState:
    return rules.identity_state(
        rules.IdReview(doc.id_type, _review_of(doc)) for doc in id_documents(case)
    )


def current_consent_form() -> ConsentForm | None:
    return ConsentForm.objects.filter(effective_from__lte=jst_today()).first()


def consent_signature(case: Case) -> ConsentSignature | None:
    form = current_consent_form()
    if form is None:
        return None
    return ConsentSignature.objects.filter(case=case, form=form).select_related("form").first()


def device_check_passed(case: Case) -> bool:
    return DeviceCheck.objects.filter(
        case=case, camera_ok=True, microphone_ok=True, connection_ok=True
    ).exists()


def patient_privacy_acceptance(case: Case) -> PatientPrivacyAcceptance | None:
    """The patient's own acceptance of the privacy policy, by the account linked as theirs."""
    account = case.patient_account_id_effective
    if account is None:
        return None
    return (
        PatientPrivacyAcceptance.objects.filter(case=case, accepted_by_id=account)
        .select_related("policy")
        .first()
    )


def readiness_facts(case: Case) -> rules.Facts:
    return snapshot(case).facts


def readiness_checklist(case: Case) -> list[rules.ItemState]:
    return rules.checklist(readiness_facts(case))


@dataclass(frozen=True)
class Snapshot:
    """Everything the patient's checklist reads of one case, so a list of cases can be read in
    a fixed number of queries (the dashboard) instead of several per case."""

    facts: rules.Facts
    invitation_open: bool
    card: CardOnFile | None


def snapshot(case: Case) -> Snapshot:
    return snapshots([case])[case.pk]


def snapshots(cases: Sequence[Case]) -> dict[int, Snapshot]:
    """The checklist's facts of `cases`, in seven queries whatever their number."""
    ids = [case.pk for case in cases]
    reviews: dict[int, list[rules.IdReview]] = defaultdict(list)
    for doc in id_documents_of(ids):
        reviews[doc.case_id].append(rules.IdReview(doc.id_type, _review_of(doc)))
    form = current_consent_form()
    signatures = ConsentSignature.objects.filter(case_id__in=ids, form=form)
    signed = set(signatures.values_list("case_id", flat=True) if form is not None else ())
    cards = {}
    for card in CardOnFile.objects.filter(case_id__in=ids, removed_at__isnull=True):
        cards.setdefault(card.case_id, card)  # the newest, as live_card() reads it
    checked = set(
        DeviceCheck.objects.filter(
            case_id__in=ids, camera_ok=True, microphone_ok=True, connection_ok=True
        ).values_list("case_id", flat=True)
    )
    invited = set(
        PatientInvitation.objects.filter(
            case_id__in=ids,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).values_list("case_id", flat=True)
    )
    privacy_accepted = set(
        PatientPrivacyAcceptance.objects.filter(case_id__in=ids).values_list(
            "case_id", "accepted_by_id"
        )
    )
    cards_required = takes_cards()
    return {
        case.pk: Snapshot(
            facts=rules.Facts(
                mode=Mode(case.mode) if case.mode else Mode.ONLINE,
                patient_account_linked=case.patient_account_id_effective is not None,
                applied_by_family=applies_for_family(case.applicant_relation),
                # By the account linked as the patient's (patient_privacy_acceptance)
                patient_accepted_privacy=(case.pk, case.patient_account_id_effective)
                in privacy_accepted,
                identity=rules.identity_state(reviews[case.pk]),
                consent_signed=case.pk in signed,
                payment_method_required=cards_required,
                payment_method_saved=case.pk in cards,
                device_check_passed=case.pk in checked,
            ),
            invitation_open=case.pk in invited,
            card=cards.get(case.pk),
        )
        for case in cases
    }


def invitation_for_token(token: str) -> PatientInvitation:
    """The invitation behind a link, if it can still be accepted."""
    invitation = (
        PatientInvitation.objects.select_related("case")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise InvitationProblem(_("This invitation link is not valid. Please ask for a new one."))
    if invitation.accepted_at is not None:
        raise InvitationProblem(_("This invitation has already been used."))
    if invitation.expires_at <= timezone.now():
        raise InvitationProblem(_("This invitation has expired. Please ask for a new one."))
    return invitation


def open_invitation(case: Case) -> PatientInvitation | None:
    """The invitation sent to the patient that can still be accepted, if any."""
    return PatientInvitation.objects.filter(
        case=case,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()
