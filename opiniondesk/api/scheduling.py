"""Authenticated scheduling endpoints (issue #5): candidate dates, booking, change, cancel, and
the department calendar, through the same services and access rules as the pages."""

from dataclasses import replace
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.vocabulary import Scope
from opiniondesk.api import scheduling_serializers as s
from opiniondesk.api.auth import scoped
from opiniondesk.api.case_serializers import ConflictSerializer
from opiniondesk.api.cases import (
    BAD_INPUT,
    CSRF_HEADER,
    DENIED,
    NOT_FOUND,
    SESSION,
    _audit_read,
    _case,
    _valid,
)
from opiniondesk.api.errors import Conflict
from opiniondesk.api.parsers import StrictJSONParser
from opiniondesk.audit.services import audit_read
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import InvalidTransition
from opiniondesk.catalog.models import Department
from opiniondesk.readiness.selectors import readiness_checklist
from opiniondesk.scheduling import services
from opiniondesk.scheduling.models import Booking
from opiniondesk.scheduling.selectors import (
    department_slots,
    live_booking,
    open_offer,
    specialists_of,
)
from opiniondesk.scheduling.slots import change_deadline, may_patient_change

TAGS = ["scheduling"]
CONFLICT = OpenApiResponse(
    ConflictSerializer,
    description="Refused by the scheduling rules now (slot taken, deadline passed, wrong state); "
    "nothing was changed. `detail` says why in the user's language.",
)


def _writes(body: type[Any], *, operation_id: str, summary: str, description: str) -> Any:
    """The OpenAPI description shared by the writes: each answers with the new schedule."""
    return extend_schema(
        parameters=[CSRF_HEADER],
        request=body,
        responses={
            201: s.ScheduleSerializer,
            400: BAD_INPUT,
            403: DENIED,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        operation_id=operation_id,
        summary=summary,
        description=description,
        tags=TAGS,
    )


def _schedule(case: Case) -> dict[str, Any]:
    booking = live_booking(case.pk)
    return {
        "planned_minutes": case.planned_minutes,
        "booking": booking,
        "change_deadline": change_deadline(booking.starts_at) if booking else None,
        "patient_may_change": bool(booking)
        and may_patient_change(booking.starts_at, timezone.now()),
        "offer": open_offer(case.pk),
        "history": Booking.objects.filter(case=case)
        .select_related("specialist", "department")
        .order_by("booked_at", "pk"),
        "readiness": readiness_checklist(case),
    }


def _conflict(request: Request, case: Case, exc: Exception) -> Conflict:
    case.refresh_from_db(fields=["status"])
    if isinstance(exc, services.SchedulingError):
        detail, code = str(exc.message), type(exc).__name__
    else:
        detail, code = _("This case is %(status)s now.") % {"status": case.status}, "invalid"
    return Conflict({"detail": detail, "code": code, "status": case.status, "to": case.status})


def _perform(request: Request, case: Case, action: Any) -> Response:
    try:
        with transaction.atomic():
            action()
    except (services.SchedulingError, InvalidTransition) as exc:
        raise _conflict(request, case, exc) from None
    case.refresh_from_db()
    return Response(s.ScheduleSerializer(_schedule(case)).data, status=http.HTTP_201_CREATED)


@extend_schema(
    responses={200: s.ScheduleSerializer, 403: DENIED, 404: NOT_FOUND},
    operation_id="cases_schedule_retrieve",
    summary="The case's booking, its change deadline, the dates offered, and readiness",
    description=SESSION,
    tags=TAGS,
)
@scoped(Scope.SCHEDULE_READ)
@api_view(["GET"])
def case_schedule(request: Request, case_id: int) -> Response:
    case = _case(request, case_id)
    _audit_read(request, case, "schedule")
    return Response(s.ScheduleSerializer(_schedule(case)).data)


@_writes(
    s.OfferCreateSerializer,
    operation_id="cases_offers_create",
    summary="Offer candidate dates (coordinators): held for the case until hold_until",
    description="Each date holds the case's planned_minutes of consecutive slots of one "
    f"specialist; dates may not overlap. Offering again replaces the open round. {SESSION}",
)
@scoped(Scope.SCHEDULE_READ, Scope.SCHEDULE_WRITE)
@api_view(["POST"])
@parser_classes([StrictJSONParser])
def case_offer(request: Request, case_id: int) -> Response:
    case = _case(request, case_id)
    if request.user.role != Role.COORDINATOR:
        raise PermissionDenied(_("Your role may not do this."))
    data = _valid(s.OfferCreateSerializer, request.data)
    slots = [(slot["specialist"], slot["starts_at"]) for slot in data["slots"]]
    return _perform(
        request,
        case,
        lambda: services.offer_create(
            case_id=case.pk,
            actor=request.user,
            slots=slots,
            hold_until=data["hold_until"],
            message=data.get("message", ""),
            request=request,
        ),
    )


@_writes(
    s.BookSerializer,
    operation_id="cases_booking_create",
    summary="Book one of the offered slots (the patient's side, or a coordinator for them)",
    description=SESSION,
)
@scoped(Scope.SCHEDULE_READ, Scope.SCHEDULE_WRITE)
@api_view(["POST"])
@parser_classes([StrictJSONParser])
def case_book(request: Request, case_id: int) -> Response:
    case = _case(request, case_id)
    data = _valid(s.BookSerializer, request.data)
    return _perform(
        request,
        case,
        lambda: services.booking_create(
            case_id=case.pk,
            actor=request.user,
            offered_slot_id=data["offered_slot"],
            request=request,
        ),
    )


@_writes(
    s.ChangeSerializer,
    operation_id="cases_booking_change",
    summary="Move the booking: the patient to another offered date until the day before, "
    "a coordinator to any start where the whole consult fits in free slots, with a reason",
    description=SESSION,
)
@scoped(Scope.SCHEDULE_READ, Scope.SCHEDULE_WRITE)
@api_view(["POST"])
@parser_classes([StrictJSONParser])
def case_booking_change(request: Request, case_id: int) -> Response:
    case = _case(request, case_id)
    data = _valid(s.ChangeSerializer, request.data)
    slot = data.get("slot")
    return _perform(
        request,
        case,
        lambda: services.booking_change(
            case_id=case.pk,
            actor=request.user,
            offered_slot_id=data.get("offered_slot"),
            slot=(slot["specialist"], slot["starts_at"]) if slot else None,
            reason=data.get("reason", ""),
            request=request,
        ),
    )


@_writes(
    s.CancelSerializer,
    operation_id="cases_booking_cancel",
    summary="Cancel the booking: the patient until the day before, a coordinator with a reason",
    description=SESSION,
)
@scoped(Scope.SCHEDULE_READ, Scope.SCHEDULE_WRITE)
@api_view(["POST"])
@parser_classes([StrictJSONParser])
def case_booking_cancel(request: Request, case_id: int) -> Response:
    case = _case(request, case_id)
    data = _valid(s.CancelSerializer, request.data)
    return _perform(
        request,
        case,
        lambda: services.booking_cancel(
            case_id=case.pk, actor=request.user, reason=data.get("reason", ""), request=request
        ),
    )


@extend_schema(
    parameters=[s.SlotQuerySerializer],
    responses={200: s.SlotSerializer(many=True), 400: BAD_INPUT, 403: DENIED},
    operation_id="schedule_slots_list",
    summary="A department's 30-minute slots with their state (coordinators and admins)",
    description="Up to 93 days at a time. A 60-minute consult holds or books two slots. "
    "Coordinators see which case holds or booked a slot; "
    f"administrators only the state. {SESSION}",
    tags=TAGS,
)
@scoped(Scope.SCHEDULE_READ)
@api_view(["GET"])
def schedule_slots(request: Request) -> Response:
    if request.user.role not in (Role.COORDINATOR, Role.ADMIN):
        raise PermissionDenied(_("Your role may not do this."))
    params = {key: value for key, value in request.query_params.items() if key != "format"}
    if "specialist" in params and not params["specialist"].isdigit():
        raise ValidationError({"specialist": [_("Must be a whole number.")]})
    query = _valid(s.SlotQuerySerializer, params)
    department = Department.objects.filter(code=query["department"]).first()
    if department is None:
        raise ValidationError({"department": [_("No such department.")]})
    specialist = None
    if "specialist" in query:
        specialist = specialists_of(department).filter(pk=query["specialist"]).first()
        if specialist is None:
            raise ValidationError({"specialist": [_("Not a specialist of this department.")]})
    slots = department_slots(
        department=department, start=query["start"], end=query["end"], specialist=specialist
    )
    if request.user.role != Role.COORDINATOR:
        slots = [replace(slot, case_id=None) for slot in slots]  # no clinical data for admins
    else:
        shown = sorted({slot.case_id for slot in slots if slot.case_id})
        audit_read(request, api="schedule_slots", cases=shown)
    return Response(s.SlotSerializer(slots, many=True).data)
