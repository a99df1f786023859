"""The consult record and the fee through the authenticated API (issue #13), for the staff roles
that see them on the staff pages, by session or API token.

- the consult: coordinators and the department's specialists see all of it; billing staff the
  times and minutes, not the chat or the notes (data minimisation, as on their pages);
- the fee: coordinators and billing staff read it; billing staff record it paid at the hospital,
  waive it or refund it through opiniondesk.billing.services, which check the role and the
  charge's state again under a row lock. A refusal is a 400 (the field at fault) or a 409 (the
  charge's state now), and changes nothing.
"""

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.vocabulary import Scope
from opiniondesk.api import examples
from opiniondesk.api import record_serializers as s
from opiniondesk.api.auth import scoped
from opiniondesk.api.cases import (
    BAD_INPUT,
    DENIED,
    SESSION,
    _audit_read,
    _case,
    _refuse,
    _valid,
)
from opiniondesk.api.errors import Conflict, ErrorSerializer
from opiniondesk.api.parsers import StrictJSONParser
from opiniondesk.billing import services as billing
from opiniondesk.billing.errors import BillingError
from opiniondesk.billing.models import Charge
from opiniondesk.cases.models import Case
from opiniondesk.consults.selectors import consult_of

CONSULT_READERS = (Role.COORDINATOR, Role.SPECIALIST, Role.BILLING_CLERK)
# Who sees the chat and the specialist's notes: the roles whose case page shows them.
CLINICAL_READERS = (Role.COORDINATOR, Role.SPECIALIST)
CHARGE_READERS = (Role.COORDINATOR, Role.BILLING_CLERK)
# Billing's refusals about a field of the body (400); the others are about the charge now (409),
# a refund larger than what is left to refund among them.
FIELD_CODES = {"method", "reason", "idempotency_key"}
UNAUTHENTICATED = OpenApiResponse(
    ErrorSerializer,
    description="No credentials, an API token that is unknown, revoked or expired, or a "
    "session that has ended.",
)
MISSING = OpenApiResponse(
    ErrorSerializer,
    description="No such case, not yours to see, or nothing of this kind for it yet.",
)
BILLING_CONFLICT = OpenApiResponse(
    s.BillingConflictSerializer,
    description="Not possible in the charge's state now (settled, with the card company...); "
    "nothing was changed. `detail` says why in the user's language.",
)


@extend_schema(
    responses={
        200: s.ConsultSerializer,
        401: UNAUTHENTICATED,
        403: DENIED,
        404: MISSING,
    },
    operation_id="cases_consult_retrieve",
    summary="The consult record: times, review and call seconds, billable minutes, who was "
    "present, how it ended",
    description="Coordinators and the department's specialists also see the chat and the "
    f"specialist's notes; billing staff see them as null. {SESSION}",
    tags=["consults"],
    examples=[OpenApiExample("A consult ended by the specialist", value=examples.CONSULT_EXAMPLE)],
)
@scoped(Scope.CONSULTS_READ)
@api_view(["GET"])
def case_consult(request: Request, case_id: int) -> Response:
    case = _case(request, case_id)
    if request.user.role not in CONSULT_READERS:
        _refuse(request, case, "consult")
    consult = consult_of(case)
    if consult is None:
        raise NotFound(_("This case has no consult yet."))
    _audit_read(request, case, "consult")
    context = {"clinical": request.user.role in CLINICAL_READERS}
    return Response(s.ConsultSerializer(consult, context=context).data)


def _charge(request: Request, case: Case) -> Charge:
    charge = (
        Charge.objects.filter(case=case)
        .select_related("schedule", "settled_by", "card")
        .prefetch_related("attempts", "refunds__made_by", "receipts__corrects")
        .first()
    )
    if charge is None:
        raise NotFound(_("This case has no fee yet."))
    return charge


def _shown(request: Request, case: Case) -> Response:
    charge = _charge(request, case)
    context = {"refundable": billing.refundable(charge)}
    return Response(s.ChargeSerializer(charge, context=context).data)


@extend_schema(
    responses={200: s.ChargeSerializer, 401: UNAUTHENTICATED, 403: DENIED, 404: MISSING},
    operation_id="cases_charge_retrieve",
    summary="The fee: its state, amounts, tier and minutes, the tries at the card company, "
    "refunds and receipts",
    description="Coordinators and billing staff. No card number, provider reference or key "
    f"is ever shown. {SESSION}",
    tags=["charges"],
    examples=[OpenApiExample("A fee paid at the hospital", value=examples.CHARGE_EXAMPLE)],
)
@scoped(Scope.CHARGES_READ)
@api_view(["GET"])
def case_charge(request: Request, case_id: int) -> Response:
    case = _case(request, case_id)
    if request.user.role not in CHARGE_READERS:
        _refuse(request, case, "charge")
    response = _shown(request, case)
    _audit_read(request, case, "charge")
    return response


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    pattern=r"^[A-Za-z0-9._:-]{1,64}$",
    description="Optional, chosen by the calling system for this refund: sending the same "
    "request again with the same key (after a timeout) answers with the refund already made "
    "instead of refunding twice; the same key with another amount or reason is a 409.",
)


def _action(
    body: type[Any],
    example: dict[str, Any],
    *,
    operation_id: str,
    summary: str,
    ok: int,
    parameters: list[OpenApiParameter] | None = None,
) -> Any:
    return extend_schema(
        request=body,
        parameters=parameters,
        responses={
            ok: s.ChargeSerializer,
            400: BAD_INPUT,
            401: UNAUTHENTICATED,
            403: DENIED,
            404: MISSING,
            409: BILLING_CONFLICT,
        },
        operation_id=operation_id,
        summary=summary,
        description="Billing staff only; answers with the fee as it is now. Session writes "
        f"send the `X-CSRFToken` header. {SESSION}",
        tags=["charges"],
        examples=[OpenApiExample("Body", value=example, request_only=True)],
    )


def _perform(
    request: Request, case_id: int, body: type[Any], act: Callable[[Charge, dict[str, Any]], Any]
) -> Response:
    case = _case(request, case_id)
    if request.user.role != Role.BILLING_CLERK:
        _refuse(request, case, "charge action")
    charge = _charge(request, case)
    data = _valid(body, request.data)
    try:
        act(charge, data)
    except BillingError as exc:
        if exc.code in FIELD_CODES:
            raise ValidationError({exc.code: [str(exc.message)]}) from None
        state = Charge.objects.values_list("state", flat=True).get(pk=charge.pk)
        raise Conflict({"detail": str(exc.message), "code": exc.code, "state": state}) from None
    return _shown(request, case)


@_action(
    s.CollectSerializer,
    examples.COLLECT_EXAMPLE,
    operation_id="cases_charge_collect",
    summary="Record the fee as paid at the hospital (cash, card terminal, bank transfer): "
    "issues the receipt",
    ok=200,
)
@scoped(Scope.CHARGES_READ, Scope.CHARGES_WRITE)
@api_view(["POST"])
@parser_classes([StrictJSONParser])
def case_charge_collect(request: Request, case_id: int) -> Response:
    return _perform(
        request,
        case_id,
        s.CollectSerializer,
        lambda charge, data: billing.collect(
            charge_id=charge.pk, actor=request.user, method=data["method"], request=request
        ),
    )


@_action(
    s.WaiveSerializer,
    examples.WAIVE_EXAMPLE,
    operation_id="cases_charge_waive",
    summary="Waive the fee, with a reason",
    ok=200,
)
@scoped(Scope.CHARGES_READ, Scope.CHARGES_WRITE)
@api_view(["POST"])
@parser_classes([StrictJSONParser])
def case_charge_waive(request: Request, case_id: int) -> Response:
    return _perform(
        request,
        case_id,
        s.WaiveSerializer,
        lambda charge, data: billing.waive(
            charge_id=charge.pk, actor=request.user, reason=data["reason"], request=request
        ),
    )


@_action(
    s.RefundCreateSerializer,
    examples.REFUND_EXAMPLE,
    operation_id="cases_charge_refund",
    summary="Refund all or part of a paid fee, with a reason: through the card company for a "
    "card, recorded for money given back at the desk; a corrected receipt replaces the last. "
    "A refund the card company refuses is listed as failed with its words",
    ok=201,
    parameters=[IDEMPOTENCY_KEY],
)
@scoped(Scope.CHARGES_READ, Scope.CHARGES_WRITE)
@api_view(["POST"])
@parser_classes([StrictJSONParser])
def case_charge_refund(request: Request, case_id: int) -> Response:
    response = _perform(
        request,
        case_id,
        s.RefundCreateSerializer,
        lambda charge, data: billing.refund(
            charge_id=charge.pk,
            actor=request.user,
            amount=data["amount"],
            reason=data["reason"],
            request=request,
            client_key=request.headers.get("Idempotency-Key", ""),
        ),
    )
    response.status_code = http.HTTP_201_CREATED
    return response
