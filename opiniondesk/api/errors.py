from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(APIException):
    """The request no longer fits the resource's state (another user changed it first)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The case has changed; this action no longer applies.")
    default_code = "conflict"


def exception_handler(exc, context):  # type: ignore[no-untyped-def]
    return drf_exception_handler(exc, context)
