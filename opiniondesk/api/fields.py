"""Strict JSON fields: a wrong JSON type is malformed input, never silently coerced."""

import re
from datetime import date

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2099, 12, 31)  # the national-holiday library's last year
# Only the calendar form: Python's ISO parser also takes 20261125, 2026-W48-3 and full-width digits.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": _("Must be a string.")}

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


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
