"""The written opinion and the disclosures of a case through the authenticated API (issue #13),
for the staff roles that see them on the staff pages, by session or API token.

- the opinion: coordinators and the department's specialists, as on the opinion's staff pages
  (billing staff have no opinion page: they see the fee, not the medical answer). Every version
  is listed, but a draft's text only for the department's specialists, who write it: a draft is
  not yet the hospital's answer, so a coordinator or a hospital system sees that it exists, not
  what it says. Deliveries without the link's token or its hash.
- the PDF: the newest signed version, for the same roles; audited as a download.
- the disclosures: coordinators, who alone handle disclosure requests on the staff pages.

Each read is audited; a role that sees the case but not this is a 403 (audited); a case it
cannot see a 404.
"""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, renderer_classes
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.vocabulary import Scope
from opiniondesk.api import examples
from opiniondesk.api import opinion_serializers as s
from opiniondesk.api.auth import scoped
from opiniondesk.api.cases import DENIED, SESSION, _audit_read, _case, _refuse
from opiniondesk.api.errors import ErrorSerializer
from opiniondesk.api.records import MISSING, UNAUTHENTICATED
from opiniondesk.audit.services import audit_read
from opiniondesk.cases.models import Case
from opiniondesk.interop.selectors import disclosures_of_case
from opiniondesk.opinions import selectors
from opiniondesk.opinions.models import Disclosure, Opinion
from opiniondesk.opinions.pdf import opinion_filename, opinion_pdf

OPINION_READERS = (Role.COORDINATOR, Role.SPECIALIST)
DISCLOSURE_READERS = (Role.COORDINATOR,)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    return response


def _opinion_case(request: Request, case_id: int, what: str) -> Case:
    case = _case(request, case_id)
    if request.user.role not in OPINION_READERS:
        _refuse(request, case, what)
    return case


def _writer(request: Request, case: Case) -> bool:
    """The specialists of the case's department: they write the draft, so they read it."""
    return (
        request.user.role == Role.SPECIALIST
        and request.user.departments.filter(pk=case.department_id).exists()
    )


@extend_schema(
    responses={200: s.OpinionSerializer, 401: UNAUTHENTICATED, 403: DENIED, 404: MISSING},
    operation_id="cases_opinion_retrieve",
    summary="The written opinion: its versions (signed, corrected, the draft) and its "
    "deliveries to the attending physician",
    description="Coordinators and the department's specialists; billing staff get 403. "
    "A signed version's content is shown to both; a draft's content only to the department's "
    "specialists (null for a coordinator). A delivery never shows the link's token. "
    f"404 when no opinion has been started. {SESSION}",
    tags=["opinions"],
    examples=[
        OpenApiExample("A signed opinion, posted; a correction drafted", examples.OPINION_EXAMPLE)
    ],
)
@scoped(Scope.OPINIONS_READ)
@api_view(["GET"])
def case_opinion(request: Request, case_id: int) -> Response:
    case = _opinion_case(request, case_id, "opinion")
    opinion = Opinion.objects.filter(case=case).first()
    if opinion is None:
        raise NotFound(_("This case has no opinion yet."))
    context = {
        "writer": _writer(request, case),
        "versions": selectors.versions(case).order_by("number"),
        "deliveries": selectors.deliveries(case).order_by("created_at", "pk"),
    }
    _audit_read(request, case, "opinion")
    response = Response(s.OpinionSerializer(opinion, context=context).data)
    return _no_store(response)


class JSONFirst(BaseContentNegotiation):
    """Errors in JSON whatever the client accepts; the PDF itself is not a rendered Response."""

    def select_parser(self, request, parsers):  # type: ignore[no-untyped-def]
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):  # type: ignore[no-untyped-def]
        return renderers[0], renderers[0].media_type


@extend_schema(
    responses={
        (200, "application/pdf"): OpenApiResponse(
            OpenApiTypes.BINARY,
            description="The newest signed version as the letter to the attending physician "
            "(セカンドオピニオン回答書, Japanese).",
        ),
        401: UNAUTHENTICATED,
        403: DENIED,
        404: OpenApiResponse(
            ErrorSerializer,
            description="No such case, not yours to see, or no signed version yet.",
        ),
    },
    operation_id="cases_opinion_pdf",
    summary="The signed opinion as PDF",
    description="Coordinators and the department's specialists; billing staff get 403. "
    f"Every download is audited. {SESSION}",
    tags=["opinions"],
)
@scoped(Scope.OPINIONS_READ)
@api_view(["GET"])
@renderer_classes([JSONRenderer])
def case_opinion_pdf(request: Request, case_id: int) -> HttpResponse:
    case = _opinion_case(request, case_id, "opinion pdf")
    version = selectors.latest_signed(case)
    if version is None:
        raise NotFound(_("The opinion is not signed yet."))
    audit_read(request, case, obj=version, download=True, api="opinion pdf")
    response = HttpResponse(opinion_pdf(version), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{opinion_filename(version)}"'
    return _no_store(response)


case_opinion_pdf.cls.content_negotiation_class = JSONFirst


@extend_schema(
    responses={200: s.DisclosuresSerializer, 401: UNAUTHENTICATED, 403: DENIED, 404: MISSING},
    operation_id="cases_disclosures_retrieve",
    summary="The disclosures of a case: the patient's disclosure requests with their time "
    "limit, and each provision of the opinion to a third party",
    description="Coordinators only (they handle disclosure requests); other roles that see "
    f"the case get 403. {SESSION}",
    tags=["disclosures"],
    examples=[
        OpenApiExample("A request fulfilled, the opinion posted", examples.DISCLOSURES_EXAMPLE)
    ],
)
@scoped(Scope.DISCLOSURES_READ)
@api_view(["GET"])
def case_disclosures(request: Request, case_id: int) -> Response:
    case = _case(request, case_id)
    if request.user.role not in DISCLOSURE_READERS:
        _refuse(request, case, "disclosures")
    third_party = Disclosure.objects.filter(case=case).select_related("version", "disclosed_by")
    data = {
        "requests": disclosures_of_case(case),
        "third_party": third_party.order_by("disclosed_at", "pk"),
    }
    _audit_read(request, case, "disclosures")
    return _no_store(Response(s.DisclosuresSerializer(data).data))
