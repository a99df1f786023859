"""The API's error answers: always JSON, `{"detail": "..."}` (or the fields at fault for a 400).

DRF answers the errors raised in its views. What happens before a view runs, or outside DRF
(no route under /api/, a body too large for Django, a crash), goes through Django's error
handlers (config/urls.py), which answer JSON under /api/ and the HTML pages elsewhere."""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.views import exception_handler as drf_exception_handler

from opiniondesk.api.parsers import PayloadTooLarge

API_PREFIX = "/api/"


class Conflict(APIException):
    """The request no longer fits the resource's state (another user changed it first)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The case has changed; this action no longer applies.")
    default_code = "conflict"


class PreconditionFailed(APIException):
    """An If-Match header named another version of the resource (RFC 9110 §13.1.1)."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy("The case has changed since you loaded it.")
    default_code = "precondition_failed"


def exception_handler(exc, context):  # type: ignore[no-untyped-def]
    return drf_exception_handler(exc, context)


# The shapes of the OpenAPI document (one component each, api/schema.py adds them to every
# operation where they apply).


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in the user's language.")


class ValidationErrorSerializer(serializers.Serializer):
    # Stands for the answer of a 400: mapped by ValidationErrorScheme below. (A comment, not a
    # docstring: drf-spectacular would publish a docstring as the component's description.)
    pass


class ValidationErrorScheme(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """The fields at fault, each with its messages (`{"amount": ["..."]}`), nested for a nested
    object (`{"patient": {"birth_date": ["..."]}}`), by position for a list
    (`{"slots": {"0": {...}}}`); rules across fields under `non_field_errors`; a body that is
    not JSON gets `{"detail": "..."}`."""

    target_class = ValidationErrorSerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        return {
            "type": "object",
            "description": " ".join((self.__doc__ or "").split()),
            "additionalProperties": {
                "anyOf": [
                    {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
                    {"type": "object"},
                    {"type": "string"},
                ]
            },
            "minProperties": 1,
        }


# Django's error handlers (handler400, handler403, handler404, handler500 in config/urls.py).


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _answer(detail: str, status_code: int) -> JsonResponse:
    return JsonResponse(
        {"detail": detail}, status=status_code, json_dumps_params={"ensure_ascii": False}
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return _answer(str(PayloadTooLarge.default_detail), 413)
    return _answer(_("The request is malformed."), 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return _answer(_("You do not have permission to perform this action."), 403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return _answer(_("Not found."), 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return _server_error_page(request)
    return _answer(_("The server failed; the request was not completed."), 500)


def _server_error_page(request: HttpRequest) -> HttpResponse:
    """The site's 500 page in its layout (Django's own handler renders it without the request,
    so without the layout's context); if even that fails, a plain page that cannot."""
    try:
        return render(request, "500.html", status=500)
    except Exception:  # the error page must answer whatever broke
        phone = escape(settings.HOSPITAL["phone"])
        return HttpResponse(
            "<!doctype html><meta charset=utf-8><title>Error</title>"
            "<h1>システムで問題が発生しました / Something went wrong on our side</h1>"
            f"<p>しばらくしてからもう一度お試しください。お電話: {phone}</p>",
            status=500,
        )
