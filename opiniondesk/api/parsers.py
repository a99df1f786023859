"""JSON parsers of the public API: any malformed body is a 400 (ParseError), never a 500."""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, closed against the bodies it lets through as server errors.

    DRF only turns ValueError into a ParseError. Nesting deeper than the C scanner allows
    raises RecursionError, and a lone surrogate escape ("\\ud800") parses but cannot be encoded
    again when an error message or an unknown key echoes it, so the response itself fails.
    A charset naming a codec that is no text encoding (rot13, zlib) is refused here too.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            text = stream.read().decode(encoding)
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
