"""Disclosure requests (開示請求, SPEC §11.15): asked by the patient's side, exported and
fulfilled by a coordinator. Every write audited in its transaction; every export audited as a
download."""

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases.lifecycle import actor_of, case_lock
from opiniondesk.cases.workflow import Actor, Status
from opiniondesk.interop.errors import DisclosureError
from opiniondesk.interop.models import Delivery, DisclosureRequest, Wanted

DETAILS_MAX = 1000


@transaction.atomic
def disclosure_request_create(
    *,
    case_id: int,
    actor: User,
    wanted: str,
    details: str,
    delivery: str,
    request: HttpRequest | None = None,
) -> DisclosureRequest:
    """The applicant or the patient's own account asks for the record of their case."""
    case = case_lock(case_id)
    if actor_of(actor, case) is not Actor.APPLICANT:
        raise DisclosureError(_("Only the patient or the applicant may ask for this."), "actor")
    if case.status == Status.DRAFT:
        raise DisclosureError(_("This application has not been sent yet."), "state")
    details = details.strip()
    if wanted not in Wanted.values:
        raise DisclosureError(_("Choose what you would like to receive."), "wanted")
    if delivery not in Delivery.values:
        raise DisclosureError(_("Choose how you would like to receive it."), "delivery")
    if wanted == Wanted.PART and not details:
        raise DisclosureError(_("Please describe which part of the record you need."), "details")
    if len(details) > DETAILS_MAX:
        raise DisclosureError(
            _("Please keep the details under %(n)d characters.") % {"n": DETAILS_MAX}, "details"
        )
    if DisclosureRequest.objects.filter(case=case, fulfilled_at__isnull=True).exists():
        raise DisclosureError(
            _("Your earlier request is still being prepared; we will contact you."), "open"
        )
    disclosure = DisclosureRequest.objects.create(
        case=case,
        requested_by=actor,
        requested_at=timezone.now(),
        wanted=wanted,
        details=details,
        delivery=delivery,
    )
    _audit(AuditAction.CREATE, disclosure, actor, request, wanted=wanted, delivery=delivery)
    return disclosure


def _coordinator(actor: User) -> None:
    if actor.role != Role.COORDINATOR:
        raise DisclosureError(_("Only a coordinator may do this."), "actor")


def disclosure_exported(
    *, request_id: int, actor: User, kind: str, request: HttpRequest | None = None
) -> DisclosureRequest:
    """A coordinator takes the record out for a request (`kind`: "pdf" or "fhir"): audited
    as a download of the case's data."""
    _coordinator(actor)
    disclosure = DisclosureRequest.objects.select_related("case").get(pk=request_id)
    _audit(AuditAction.DOWNLOAD, disclosure, actor, request, export=kind)
    return disclosure


@transaction.atomic
def disclosure_fulfil(
    *,
    request_id: int,
    actor: User,
    delivered_via: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> DisclosureRequest:
    """A coordinator records that the record was handed over: who, when and how."""
    _coordinator(actor)
    disclosure = DisclosureRequest.objects.select_for_update().get(pk=request_id)
    if not disclosure.is_open:
        raise DisclosureError(_("This request was already fulfilled."), "state")
    if delivered_via not in Delivery.values:
        raise DisclosureError(_("Choose how the record was handed over."), "delivered_via")
    note = note.strip()
    if len(note) > DETAILS_MAX:
        raise DisclosureError(
            _("Please keep the note under %(n)d characters.") % {"n": DETAILS_MAX}, "note"
        )
    disclosure.fulfilled_at, disclosure.fulfilled_by = timezone.now(), actor
    disclosure.delivered_via, disclosure.fulfilment_note = delivered_via, note
    disclosure.save(
        update_fields=["fulfilled_at", "fulfilled_by", "delivered_via", "fulfilment_note"]
    )
    _audit(AuditAction.UPDATE, disclosure, actor, request, fulfilled=delivered_via)
    return disclosure


def _audit(
    action: AuditAction,
    disclosure: DisclosureRequest,
    actor: User,
    request: HttpRequest | None,
    **detail: Any,
) -> None:
    audit_record(
        action=action,
        user=actor,
        request=request,
        case_id=disclosure.case_id,
        obj=disclosure,
        detail={"disclosure": disclosure.pk, **detail},
    )
