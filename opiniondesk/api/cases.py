"""Authenticated case endpoints (issue #4): the pages' access rules and services, as JSON.

A case the user may not see is a 404, as if it did not exist, and the attempt is audited
(DENIED); every read of a case is audited (READ) with the source address. Writes go through
the named services of cases.screening and cases.services, which check the role and the
lifecycle table again under a row lock.
"""

import hashlib
from collections.abc import Callable
from typing import Any, NoReturn

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status as http
from rest_framework.decorators import api_view, parser_classes, renderer_classes
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from opiniondesk.accounts.models import Role, User
from opiniondesk.accounts.vocabulary import Scope
from opiniondesk.api import case_serializers as s
from opiniondesk.api.auth import scoped
from opiniondesk.api.errors import (
    Conflict,
    ErrorSerializer,
    PreconditionFailed,
    ValidationErrorSerializer,
)
from opiniondesk.api.parsers import StrictJSONParser
from opiniondesk.audit.services import audit_denied, audit_read
from opiniondesk.cases import screening, workflow
from opiniondesk.cases.access import case_for_request
from opiniondesk.cases.applications import missing_answers
from opiniondesk.cases.keyset import cursor_encode, keyset_page
from opiniondesk.cases.lifecycle import actor_of, case_lock
from opiniondesk.cases.models import Case, PhoneOutcome
from opiniondesk.cases.selectors import (
    case_verdict,
    cases_counted,
    cases_visible_to,
    documents_visible_to,
    open_document_request,
)
from opiniondesk.cases.staff_forms import MODE_REFUSALS
from opiniondesk.cases.workflow import SCHEDULING_STATES, Actor, Status
from opiniondesk.catalog.models import Department, Disease
from opiniondesk.catalog.selectors import departments_public
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.consults.selectors import review_seconds
from opiniondesk.core.time import jst_today
from opiniondesk.desk import services as desk
from opiniondesk.interop.fhir_export import case_bundle

TAGS = ["cases"]
SESSION = (
    "Signed-in session (cookie `sessionid`); staff also need their second factor (TOTP), "
    "otherwise 403. Or a staff API token (`Authorization: Bearer`) with the scope named in "
    "`x-token-scope`: a bad token is 401, a missing scope 403."
)
CSRF_HEADER = OpenApiParameter(
    "X-CSRFToken",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The value of the `csrftoken` cookie: session-authenticated writes need it "
    "(a request with an API token sends none).",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The case's ETag (from GET /api/v1/cases/{case_id}): if the case changed since, "
    "the answer is 412 and nothing is changed.",
)


def etag_header(status: int) -> OpenApiParameter:
    return OpenApiParameter(
        "ETag",
        str,
        OpenApiParameter.HEADER,
        required=True,
        response=[status],
        description="The version of the case's state (status, when it last changed, revision of "
        "the application): send it back in If-Match with a transition.",
    )


DENIED = OpenApiResponse(ErrorSerializer, description="Not signed in, or not allowed.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such case, or not yours to see.")
BAD_INPUT = OpenApiResponse(ValidationErrorSerializer, description="The fields at fault.")


CASE_PAGE_SIZE = 25


def _valid(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _case(request: Request, case_id: int) -> Case:
    """The case if this user may see it; otherwise 404, and the attempt is audited."""
    try:
        return case_for_request(request, case_id, method=request.method)
    except Http404:
        raise NotFound(_("No such case.")) from None


def _refuse(request: Request, case: Case, why: str) -> NoReturn:
    audit_denied(
        request, case_id=case.pk, obj=case, path=request.path, method=request.method, why=why
    )
    raise PermissionDenied(_("Your role may not do this."))


def _audit_read(request: Request, case: Case, what: str) -> None:
    audit_read(request, case, api=what)


def case_etag(case: Case) -> str:
    """A strong ETag of the case's state: it changes with every transition and every saved
    correction of the application."""
    changed = case.status_changed_at.isoformat() if case.status_changed_at else ""
    state = f"{case.pk}:{case.status}:{changed}:{case.revision}"
    return '"' + hashlib.sha256(state.encode()).hexdigest()[:32] + '"'


def _check_preconditions(
    request: Request, case: Case, target: Status, expected: str | None
) -> None:
    """With the case locked: the caller's If-Match and expected status must still hold."""
    if_match = request.headers.get("If-Match")
    if if_match is not None:
        tags = [tag.strip() for tag in if_match.split(",")]
        if "*" not in tags and case_etag(case) not in tags:
            raise PreconditionFailed(
                {
                    "detail": _("The case has changed since you loaded it."),
                    "code": "precondition_failed",
                    "status": case.status,
                    "to": target.value,
                    "etag": case_etag(case),
                }
            )
    if expected is not None and expected != case.status:
        raise Conflict(
            {
                "detail": _("This case is %(status)s now, not %(expected)s: someone else moved it.")
                % {"status": case.status, "expected": expected},
                "code": "status_changed",
                "status": case.status,
                "to": target.value,
            }
        )


def _acting_as(user: User, case: Case) -> Actor | None:
    # actor_of() calls anyone without a workflow role "system"; through the API nobody is.
    actor = actor_of(user, case)
    return None if actor is Actor.SYSTEM else actor


# Moves out of SCHEDULING_STATES belong to the scheduling endpoints (api/scheduling.py): a
# coordinator's offered → accepted is taking the dates back, not a department's acceptance.


def _allowed_targets(user: User, case: Case) -> list[Status]:
    actor = _acting_as(user, case)
    current = Status(case.status)
    return [
        t
        for t in s.TARGETS
        if actor
        and workflow.allowed(current, t, actor)
        and (current not in SCHEDULING_STATES or t is Status.WITHDRAWN)
    ]


def _may_ever(actor: Actor | None, target: Status) -> bool:
    """Whether this role takes part in `target` at all (from the right state, later)."""
    return actor is not None and any(
        workflow.allowed(state, target, actor) for state in Status if state not in SCHEDULING_STATES
    )


def _names_for(viewer: User) -> Callable[[User | None], str | None]:
    """Staff see who did what; an applicant sees only their own name."""

    def shown(user: User | None) -> str | None:
        if user is None or not (viewer.is_hospital_staff or user.pk == viewer.pk):
            return None
        return user.get_username()

    return shown


@extend_schema(
    parameters=[s.CaseListQuerySerializer],
    operation_id="cases_list",
    responses={
        200: s.CasePageSerializer,
        400: BAD_INPUT,
        403: DENIED,
        404: OpenApiResponse(ErrorSerializer, description="No such page."),
    },
    summary="The cases this user may see",
    description=f"Newest first, {CASE_PAGE_SIZE} a page unless `page_size` says; "
    "`next` and `previous` link the pages around by `cursor`. Patients see their own "
    "applications, coordinators every sent one, specialists those referred to their "
    f"departments, billing clerks those past the consult; administrators none. {SESSION}",
    tags=TAGS,
)
@scoped(Scope.CASES_READ)
@api_view(["GET"])
def case_list(request: Request) -> Response:
    params = {key: value for key, value in request.query_params.items() if key != "format"}
    query = _valid(s.CaseListQuerySerializer, params)
    cases = cases_visible_to(request.user).select_related("department", "disease")
    department_id: int | None = None
    if "status" in query:
        cases = cases.filter(status=query["status"])
    if "department" in query:
        department = Department.objects.filter(code=query["department"]).first()
        department_id = department.pk if department else 0
        cases = cases.filter(department_id=department_id)
    if "mode" in query:
        cases = cases.filter(mode=query["mode"])
    count = cases_counted(
        user=request.user,
        states=frozenset({Status(query["status"])}) if "status" in query else None,
        department_id=department_id,
        mode=query.get("mode", ""),
    )
    if count is None:
        count = cases.count()
    size = query.get("page_size", CASE_PAGE_SIZE)
    url = request.build_absolute_uri()
    links: dict[str, str | None] = {"next": None, "previous": None}
    if "page" in query:  # by number: an OFFSET, as before cursors
        number = query["page"]
        if number > 1 and (number - 1) * size >= count:
            raise NotFound(_("No such page."))
        rows = list(cases.order_by("-created_at", "-pk")[(number - 1) * size : number * size])
        if number * size < count:
            links["next"] = replace_query_param(url, "page", number + 1)
        if number > 1:
            links["previous"] = replace_query_param(url, "page", number - 1)
    else:
        page = keyset_page(
            cases, key="created_at", descending=True, cursor=query.get("cursor"), size=size
        )
        rows = list(page.items)
        for name, cursor in (("next", page.next), ("previous", page.previous)):
            if cursor is not None:
                links[name] = replace_query_param(url, "cursor", cursor_encode(cursor))
    # One audit row for the page: it names every case whose data was shown.
    audit_read(request, api="case_list", cases=[case.pk for case in rows])
    data = s.CaseSummarySerializer(rows, many=True, context={"today": jst_today()}).data
    return Response({"count": count, **links, "results": data})


@extend_schema(
    responses={200: s.CaseDetailSerializer, 403: DENIED, 404: NOT_FOUND},
    parameters=[etag_header(200)],
    operation_id="cases_retrieve",
    summary="One case: the application, its eligibility now, and the hospital's answers",
    description=SESSION,
    tags=TAGS,
)
@scoped(Scope.CASES_READ)
@api_view(["GET"])
def case_detail(request: Request, case_id: int) -> Response:
    case = _case(request, case_id)
    _audit_read(request, case, "case")
    incomplete = missing_answers(case)
    context = {
        "today": jst_today(),
        "incomplete_steps": incomplete,
        "verdict": None if incomplete else case_verdict(case),
        "open_document_request": open_document_request(case),
        "review_seconds": review_seconds(case),
        "allowed_transitions": _allowed_targets(request.user, case),
    }
    return Response(
        s.CaseDetailSerializer(case, context=context).data, headers={"ETag": case_etag(case)}
    )


@extend_schema(
    responses={200: s.DocumentSerializer(many=True), 403: DENIED, 404: NOT_FOUND},
    operation_id="cases_documents_list",
    summary="The case's documents: metadata and a link to each file, never the bytes",
    description=SESSION,
    tags=TAGS,
)
@scoped(Scope.CASES_READ)
@api_view(["GET"])
def case_documents(request: Request, case_id: int) -> Response:
    case = _case(request, case_id)
    _audit_read(request, case, "documents")

    def file_url(document: Any) -> str:
        return request.build_absolute_uri(reverse("document-file", args=[document.pk]))

    documents = documents_visible_to(request.user, case)
    return Response(s.DocumentSerializer(documents, many=True, context={"file_url": file_url}).data)


TRANSITION_BODY = PolymorphicProxySerializer(
    component_name="NewTransition",
    serializers={target.value: body for target, body in s.TRANSITION_BODIES.items()},
    resource_type_field_name="to",
)


@extend_schema(
    methods=["GET"],
    responses={200: s.TransitionSerializer(many=True), 403: DENIED, 404: NOT_FOUND},
    operation_id="cases_transitions_list",
    summary="The case's history of state changes, oldest first",
    description=SESSION,
    tags=TAGS,
)
@extend_schema(
    methods=["POST"],
    parameters=[CSRF_HEADER, IF_MATCH, etag_header(201)],
    request=TRANSITION_BODY,
    operation_id="cases_transitions_create",
    responses={
        201: s.TransitionSerializer,
        400: BAD_INPUT,
        403: DENIED,
        404: NOT_FOUND,
        409: OpenApiResponse(
            s.ConflictSerializer,
            description="Not possible from the case's state now (e.g. someone acted first), or "
            "the case is no longer in `expected_status`; nothing was changed.",
        ),
        412: OpenApiResponse(
            s.PreconditionFailedSerializer,
            description="If-Match named another version of the case; nothing was changed.",
        ),
    },
    summary="Move the case on: screen, request documents, reject, refer, accept, decline, withdraw",
    description="`to` names the new state and decides which other fields the body has. "
    "Coordinators screen, request documents, reject, refer and withdraw on the applicant's "
    "request; specialists of the case's department accept or decline; the applicant may "
    f"withdraw. A role that never does this is refused with 403. {SESSION}",
    tags=TAGS,
)
@scoped(Scope.CASES_READ, Scope.CASES_WRITE)
@api_view(["GET", "POST"])
@parser_classes([StrictJSONParser])
def case_transitions(request: Request, case_id: int) -> Response:
    case = _case(request, case_id)
    context = {"show_user": _names_for(request.user)}
    if request.method == "POST":
        row = _move(request, case)
        case.refresh_from_db()
        return Response(
            s.TransitionSerializer(row, context=context).data,
            status=http.HTTP_201_CREATED,
            headers={"ETag": case_etag(case)},
        )
    _audit_read(request, case, "transitions")
    rows = case.transitions.select_related("actor")
    return Response(s.TransitionSerializer(rows, many=True, context=context).data)


def _move(request: Request, case: Case) -> Any:
    target = Status(_valid(s.TransitionToSerializer, request.data)["to"])
    if not _may_ever(_acting_as(request.user, case), target):
        _refuse(request, case, f"transition to {target.value}")
    data = _valid(s.TRANSITION_BODIES[target], request.data)
    try:
        with transaction.atomic():
            _check_preconditions(request, case_lock(case.pk), target, data.get("expected_status"))
            PERFORM[target](request, case.pk, data)
            # Still ours: the service locked the case row until this transaction ends.
            return case.transitions.order_by("-pk").first()
    except workflow.InvalidTransition as exc:
        detail = _("This case is %(status)s now; it cannot move to %(to)s.") % {
            "status": exc.current.value,
            "to": target.value,
        }
        raise Conflict(
            {
                "detail": detail,
                "code": "invalid_transition",
                "status": exc.current.value,
                "to": target.value,
            }
        ) from None
    except screening.NotAllowed:
        case.refresh_from_db(fields=["status"])
        raise Conflict(
            {
                "detail": _("You may not do this to this case now."),
                "code": "not_allowed",
                "status": case.status,
                "to": target.value,
            }
        ) from None


def _start_screening(request: Request, case_id: int, data: dict[str, Any]) -> None:
    screening.case_start_screening(case_id=case_id, actor=request.user, request=request)


def _request_documents(request: Request, case_id: int, data: dict[str, Any]) -> None:
    screening.case_request_documents(
        case_id=case_id,
        actor=request.user,
        items=data["items"],
        message=data["message"],
        due_date=data["due_date"],
        request=request,
    )


def _reject(request: Request, case_id: int, data: dict[str, Any]) -> None:
    screening.case_reject(
        case_id=case_id,
        actor=request.user,
        reasons=data["reasons"],
        note=data.get("note", ""),
        request=request,
    )


def _refer(request: Request, case_id: int, data: dict[str, Any]) -> None:
    department = departments_public().filter(code=data["department"]).first()
    if department is None:
        raise ValidationError({"department": [_("No such department accepts referrals.")]})
    mode = Case.objects.values_list("mode", flat=True).get(pk=case_id)
    if mode and mode not in department.modes:
        raise ValidationError({"department": [str(MODE_REFUSALS[Mode(mode)])]})
    disease = _referral_disease(case_id, department, data.get("disease"))
    screening.case_refer(
        case_id=case_id, actor=request.user, department=department, disease=disease, request=request
    )


def _referral_disease(case_id: int, department: Department, code: str | None) -> Disease:
    """The disease named, or the case's own when it is one of the department's."""
    if code:
        disease = department.diseases.filter(code=code).first()
        if disease is None:
            raise ValidationError({"disease": [_("Not a disease of this department.")]})
        return disease
    own = Disease.objects.filter(cases__pk=case_id, department=department).first()
    if own is None:
        raise ValidationError({"disease": [_("Please choose the disease.")]})
    return own


def _accept(request: Request, case_id: int, data: dict[str, Any]) -> None:
    screening.case_accept(
        case_id=case_id,
        actor=request.user,
        planned_minutes=data["planned_minutes"],
        request=request,
    )


def _decline(request: Request, case_id: int, data: dict[str, Any]) -> None:
    screening.case_decline(
        case_id=case_id, actor=request.user, reason=data["reason"], request=request
    )


def _withdraw(request: Request, case_id: int, data: dict[str, Any]) -> None:
    desk.case_withdraw(
        case_id=case_id, actor=request.user, reason=data.get("reason", ""), request=request
    )


PERFORM: dict[Status, Callable[[Request, int, dict[str, Any]], None]] = {
    Status.SCREENING: _start_screening,
    Status.AWAITING_DOCUMENTS: _request_documents,
    Status.REJECTED: _reject,
    Status.REFERRED: _refer,
    Status.ACCEPTED: _accept,
    Status.DECLINED: _decline,
    Status.WITHDRAWN: _withdraw,
}


@extend_schema(
    methods=["GET"],
    responses={200: s.PhoneLogSerializer(many=True), 403: DENIED, 404: NOT_FOUND},
    operation_id="cases_phone_logs_list",
    summary="The hospital's calls to the applicant (hospital staff only)",
    description=SESSION,
    tags=TAGS,
)
@extend_schema(
    methods=["POST"],
    parameters=[CSRF_HEADER],
    request=s.PhoneLogCreateSerializer,
    operation_id="cases_phone_logs_create",
    responses={201: s.PhoneLogSerializer, 400: BAD_INPUT, 403: DENIED, 404: NOT_FOUND},
    summary="Record a call to the applicant (coordinators only)",
    description=SESSION,
    tags=TAGS,
)
@scoped(Scope.CASES_READ, Scope.CASES_WRITE)
@api_view(["GET", "POST"])
@parser_classes([StrictJSONParser])
def case_phone_logs(request: Request, case_id: int) -> Response:
    case = _case(request, case_id)
    if not request.user.is_hospital_staff:
        _refuse(request, case, "phone logs")
    if request.method == "POST":
        if request.user.role != Role.COORDINATOR:
            _refuse(request, case, "phone log create")
        data = _valid(s.PhoneLogCreateSerializer, request.data)
        log = screening.phone_log_create(
            case_id=case.pk,
            actor=request.user,
            called_at=data["called_at"],
            number=data["number"],
            outcome=PhoneOutcome(data["outcome"]),
            notes=data.get("notes", ""),
            request=request,
        )
        return Response(s.PhoneLogSerializer(log).data, status=http.HTTP_201_CREATED)
    _audit_read(request, case, "phone_logs")
    logs = case.phone_logs.select_related("called_by")
    return Response(s.PhoneLogSerializer(logs, many=True).data)


class FHIRJSONRenderer(JSONRenderer):
    """FHIR's JSON media type (R4: `application/fhir+json`), UTF-8 and unescaped."""

    media_type = "application/fhir+json"
    format = "fhir"
    ensure_ascii = False


@extend_schema(
    responses={
        200: OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="A FHIR R4 (4.0.1) Bundle of type `collection`: Patient, RelatedPerson, "
            "the referring Practitioner, PractitionerRole and Organization, ServiceRequest, "
            "Appointment, Encounter, a DocumentReference per document (a link to the file, "
            "never its bytes), Consent, ChargeItem and Invoice. References within the Bundle "
            "are `urn:uuid:` full URLs.",
        ),
        403: DENIED,
        404: NOT_FOUND,
    },
    operation_id="cases_fhir_retrieve",
    summary="The case as a FHIR R4 Bundle (coordinators only)",
    description="Served as `application/fhir+json` (or `application/json` when asked for). "
    "Every export is audited as a download of the case's data. "
    f"Coordinators only; other roles that see the case get 403. {SESSION}",
    tags=TAGS,
)
@scoped(Scope.CASES_READ)
@api_view(["GET"])
@renderer_classes([FHIRJSONRenderer, JSONRenderer])
def case_fhir(request: Request, case_id: int) -> Response:
    case = _case(request, case_id)
    if request.user.role != Role.COORDINATOR:
        _refuse(request, case, "fhir export")
    audit_read(request, case, download=True, api="fhir")
    return Response(case_bundle(case))
