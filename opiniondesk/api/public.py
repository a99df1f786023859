"""Public endpoints of SPEC §10: no login, nothing stored."""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    parser_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from opiniondesk.api import serializers as s
from opiniondesk.api.errors import ValidationErrorSerializer
from opiniondesk.api.examples import SPEC_ELIGIBILITY_EXAMPLE
from opiniondesk.api.parsers import AnyJSONParser, StrictJSONParser
from opiniondesk.api.throttles import PublicApiThrottle
from opiniondesk.billing.fees import NoFeeTable, quote, table_in_force
from opiniondesk.billing.selectors import fee_tables
from opiniondesk.cases.selectors import application_from_data, eligibility_verdict
from opiniondesk.catalog.closed_days import closed_days
from opiniondesk.catalog.selectors import departments_public, year_end_closure
from opiniondesk.core.time import jst_today

WEEKDAY_CODES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def public_endpoint(func: Any) -> Any:
    func = authentication_classes([])(func)
    func = permission_classes([])(func)
    func = throttle_classes([PublicApiThrottle])(func)
    return parser_classes([StrictJSONParser, AnyJSONParser])(func)


@extend_schema(
    request=s.EligibilityCheckSerializer,
    responses={200: s.VerdictSerializer, 400: ValidationErrorSerializer},
    summary="Can this application be accepted?",
    description="Applies the eligibility rules (SPEC §3). Nothing is stored.",
    tags=["public"],
    examples=[
        OpenApiExample(
            "A child applies for a parent",
            value=SPEC_ELIGIBILITY_EXAMPLE,
            request_only=True,
        )
    ],
)
@api_view(["POST"])
@public_endpoint
def eligibility_check(request: Request) -> Response:
    data = _valid(s.EligibilityCheckSerializer, request.data)
    today = data.get("as_of") or jst_today()
    if data["patient"]["birth_date"] > today:
        raise ValidationError({"patient": {"birth_date": [_("The birth date is in the future.")]}})
    verdict = eligibility_verdict(application_from_data(data), today=today)
    return Response(
        {
            "eligible": verdict.eligible,
            "reasons": [r.value for r in verdict.reasons],
            "missing_documents": [d.value for d in verdict.missing_documents],
        }
    )


@extend_schema(
    request=s.FeeQuoteSerializer,
    responses={200: s.FeeQuoteResultSerializer, 400: ValidationErrorSerializer},
    summary="Quote the consult fee",
    tags=["public"],
)
@api_view(["POST"])
@public_endpoint
def fee_quote(request: Request) -> Response:
    data = _valid(s.FeeQuoteSerializer, request.data)
    on = data.get("on") or jst_today()
    try:
        table = table_in_force(fee_tables(), on)
    except NoFeeTable:
        raise ValidationError({"on": [_("No fee table is in force on this date.")]}) from None
    q = quote(review_minutes=data["review_minutes"], call_seconds=data["call_seconds"], table=table)
    return Response(
        {
            "billable_minutes": q.billable_minutes,
            "tier": q.tier,
            "amount_jpy": q.amount_jpy,
            "tax_jpy": q.tax_jpy,
            "tax_rate": q.tax_rate_percent / 100,
            "over_limit": q.over_limit,
        }
    )


@extend_schema(
    responses={200: s.DepartmentSerializer(many=True)},
    tags=["public"],
    summary="Departments, their diseases, modes and consult hours",
)
@api_view(["GET"])
@public_endpoint
def departments(request: Request) -> Response:
    return Response([_department(dept) for dept in departments_public()])


@extend_schema(
    parameters=[s.ClosedDaysQuerySerializer],
    responses={200: s.ClosedDaysSerializer, 400: ValidationErrorSerializer},
    summary="Every closed day of a year, with its reason",
    tags=["public"],
)
@api_view(["GET"])
@public_endpoint
def closed_days_of_year(request: Request) -> Response:
    year = _valid(s.ClosedDaysQuerySerializer, request.query_params)["year"]
    days = closed_days(year, year_end=year_end_closure())
    return Response(
        {
            "year": year,
            "closed_days": [
                {"date": c.day.isoformat(), "reason": c.reason.value, "name": c.name} for c in days
            ],
        }
    )


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _department(dept: Any) -> dict[str, Any]:
    return {
        "code": dept.code,
        "name": dept.name,
        "modes": [m.value for m in dept.modes],
        "consult_hours": [
            {
                "weekday": WEEKDAY_CODES[h.weekday],
                "starts_at": h.starts_at.strftime("%H:%M"),
                "ends_at": h.ends_at.strftime("%H:%M"),
            }
            for h in dept.consult_hours.all()
        ],
        "diseases": [{"code": d.code, "name": d.name} for d in dept.diseases.all()],
        "extra_documents": [doc.code for doc in dept.extra_documents.all()],
    }
