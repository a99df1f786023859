"""The API's text input, read as the forms read it (SPEC §13): `opiniondesk.core.typed` by kind,
and never cut.

A `TypedCharField` checks what was sent against what the OpenAPI document says (its pattern and
maxLength apply to the string as sent, trimmed as DRF trims it), then stores it normalised by
its kind, as `opiniondesk.core.forms` does for a form: ０９０－１２３４－５６７８ is kept as
090-1234-5678. Too long, before or after normalising (NFKC can lengthen: ㍻ is 平成), it is
refused with the forms' message, under the field's name in the 400.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator
from rest_framework import serializers
from rest_framework.fields import empty, get_error_detail

from opiniondesk.core.forms import TooLong
from opiniondesk.core.typed import DASHES, Kind, normalise

# A phone number as people type it, in either width, for the document's pattern: what the
# normaliser turns into digits, "-", "(", ")", " " and "+" (typed.phone then joins the groups).
_DIGIT = "0-9０-９"
_SEPARATOR = f" \u3000()（）\\-－﹣{DASHES}ーｰ"
PHONE_AS_TYPED = rf"^[+＋]?[{_DIGIT}][{_DIGIT}{_SEPARATOR}]{{1,18}}\Z"


class TypedCharField(serializers.CharField):
    """A string of a kind (`Kind.TEXT` unless given), normalised once it has been checked."""

    def __init__(self, *, kind: Kind = Kind.TEXT, **kwargs: Any) -> None:
        self.kind = kind
        super().__init__(**kwargs)
        # The forms' message: both numbers, and that nothing was cut.
        self.validators = [
            TooLong(v.limit_value) if type(v) is MaxLengthValidator else v for v in self.validators
        ]

    def run_validation(self, data: Any = empty) -> Any:
        value = super().run_validation(data)  # as sent: the document's pattern and maxLength
        if not isinstance(value, str):
            return value  # None, where allowed
        value = normalise(value, self.kind)
        if self.max_length is not None:
            try:
                TooLong(self.max_length)(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(get_error_detail(exc)) from exc
        return value
