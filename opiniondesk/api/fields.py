"""Strict JSON fields: a wrong JSON type is malformed input, never silently coerced."""

import re
from datetime import date, datetime
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opiniondesk.core.serializer_fields import TypedCharField

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2099, 12, 31)  # the national-holiday library's last year
# Only the calendar form: Python's ISO parser also takes 20261125, 2026-W48-3 and full-width digits.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What the OpenAPI document says the fields take, exactly what they accept: a day that exists in
# 1900-2099 (29 February in leap years only), with a time and its offset for a date and time.
_DAY = (
    r"(19|20)[0-9]{2}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)"
    r"|(0[13578]|1[02])-31)|(19(0[48]|[2468][048]|[13579][26])|20([02468][048]|[13579][26]))-02-29"
)
_OFFSET = r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
DOCUMENTED_DATE = rf"^({_DAY})$"
DOCUMENTED_DATETIME = (
    rf"^({_DAY})T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{{1,6}})?)?{_OFFSET}$"
)
HOUR_MINUTE = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_internal_value(self, data: object) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": _("Must be a whole number.")}

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


NO_NUL = RegexValidator(
    r"^[^\x00]*$",
    _("Must not contain NUL characters (U+0000)."),
    code="null_characters_not_allowed",
)


class StrictCharField(TypedCharField):
    """A JSON string, normalised as a form normalises it (`kind`, text unless given)."""

    default_error_messages = {"invalid": _("Must be a string.")}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # DRF refuses NUL characters; as a pattern the OpenAPI document says so too (a field
        # with a pattern of its own excludes them there).
        if not any(isinstance(v, RegexValidator) for v in self.validators):
            self.validators = [
                v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
            ] + [NO_NUL]

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "format": "date", "pattern": DOCUMENTED_DATE})
class StrictDateField(serializers.DateField):
    """An ISO date string (YYYY-MM-DD) between 1900 and 2099."""

    default_error_messages = {
        "not_string": _("Must be a date string in the form YYYY-MM-DD."),
        "out_of_range": _("Must be between 1900-01-01 and 2099-12-31."),
    }

    def __init__(self, **kwargs: object) -> None:
        super().__init__(input_formats=["iso-8601"], **kwargs)  # type: ignore[arg-type]

    def to_internal_value(self, value: object) -> date:
        if not isinstance(value, str):
            self.fail("not_string")
        if not ISO_DATE.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        parsed: date = super().to_internal_value(value)
        if not EARLIEST_DATE <= parsed <= LATEST_DATE:
            self.fail("out_of_range")
        return parsed


# The extended ISO 8601 form with seconds optional and the offset required (Z or ±hh:mm).
ISO_DATETIME = re.compile(
    rf"[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}(\.[0-9]{{1,6}})?)?{_OFFSET}"
)


# No `format: date-time`: that one needs the seconds, which may be left out here (10:30+09:00).
@extend_schema_field({"type": "string", "pattern": DOCUMENTED_DATETIME})
class StrictDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time with its UTC offset (2026-11-25T10:30:00+09:00).

    Without an offset the moment is ambiguous, so it is malformed rather than read as JST.
    """

    default_error_messages = {
        "not_string": _("Must be a date and time string such as 2026-11-25T10:30:00+09:00."),
        "invalid": _("Must be ISO 8601 with a UTC offset, such as 2026-11-25T10:30:00+09:00."),
        "out_of_range": _("Must be between 1900-01-01 and 2099-12-31."),
    }

    def to_internal_value(self, value: object) -> datetime:
        if not isinstance(value, str):
            self.fail("not_string")
        if not ISO_DATETIME.fullmatch(value):
            self.fail("invalid")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:  # month 13, hour 25, an offset of a day or more
            self.fail("invalid")
        if not EARLIEST_DATE <= parsed.date() <= LATEST_DATE:
            self.fail("out_of_range")
        return parsed


@extend_schema_field({"type": "string", "pattern": HOUR_MINUTE, "example": "14:00"})
class HourMinuteField(serializers.TimeField):
    """A time of day sent as HH:MM (14:00): no seconds, so not an ISO `time` in the document."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(format="%H:%M", **kwargs)  # type: ignore[arg-type]
