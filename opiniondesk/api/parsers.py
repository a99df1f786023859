"""JSON on the wire: parsers for which any malformed body is a 400 (ParseError), never a 500,
and a content negotiation that answers JSON whatever the client accepts."""

from typing import Any

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status
from rest_framework.exceptions import APIException, NotAcceptable, ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.utils import json


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "payload_too_large"


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, closed against the bodies it lets through as server errors.

    DRF only turns ValueError into a ParseError. Nesting deeper than the C scanner allows
    raises RecursionError, and a lone surrogate escape ("\\ud800") parses but cannot be encoded
    again when an error message or an unknown key echoes it, so the response itself fails.
    A charset naming a codec that is no text encoding (rot13, zlib) is refused here too.
    DRF reads the body from the request's stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    check of `request.body`: the limit is kept here, a larger body is a 413.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise PayloadTooLarge()
        try:
            text = body.decode(encoding)
        except (LookupError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            raise ParseError(_("JSON parse error - %s") % exc) from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %s") % exc) from None
        except RecursionError:
            raise ParseError(_("JSON parse error - nested too deeply.")) from None
        if not _encodable(data):
            raise ParseError(_("JSON parse error - a string holds an unpaired surrogate."))
        return data


class AnyJSONParser(StrictJSONParser):
    """Reads the body as JSON whatever Content-Type says, so bad input is a 400, not a 415."""

    media_type = "*/*"


def _encodable(data: Any) -> bool:
    """Every key and string in `data` is valid Unicode (walked without recursion)."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


class JSONWhateverAccepted(DefaultContentNegotiation):
    """The view's first renderer when none matches Accept: a browser asking for text/html gets
    the JSON answer (its 400 with the fields at fault, say), not a 406. An empty ?format= is an
    unknown format (404), as the document's enum of formats says, not the default."""

    def select_renderer(self, request, renderers, format_suffix=None):  # type: ignore[no-untyped-def]
        if request.query_params.get(self.settings.URL_FORMAT_OVERRIDE) == "":
            raise Http404
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type
