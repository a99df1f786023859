"""Form fields the application asks with, shared by the wizard and the public self-check."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opiniondesk.cases.kinship import Line, Relation, kinship
from opiniondesk.public.wording import RELATION_NAMES

EARLIEST_BIRTH_YEAR = 1900

YES, NO = "yes", "no"


def yes_no(question: Any, *, yes: Any = None, no: Any = None, **kwargs: Any) -> forms.Field:
    """A required yes/no question answered with two large radio buttons."""
    return forms.TypedChoiceField(
        label=question,
        choices=[(YES, yes or _("Yes")), (NO, no or _("No"))],
        coerce=lambda value: value == YES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose yes or no.")},
        **kwargs,
    )


def relation_choices() -> list[tuple[Any, Any]]:
    """The relations grouped as a person thinks of them, each with its degree (親等)."""
    groups: dict[Line, list[tuple[str, Any]]] = {line: [] for line in Line}
    for relation in Relation:
        kin = kinship(relation)
        label = RELATION_NAMES[relation]
        if kin.degree is not None:
            template = _("%(relation)s (in-law, degree %(degree)s)")
            if kin.line is Line.BLOOD:
                template = _("%(relation)s (degree %(degree)s)")
            label = template % {"relation": label, "degree": kin.degree}
        groups[kin.line].append((relation.value, label))
    for line in (Line.BLOOD, Line.IN_LAW):
        groups[line].sort(key=lambda choice: kinship(Relation(choice[0])).degree or 0)
    return [
        ("", _("Please choose")),
        (_("The patient"), groups[Line.SELF]),
        (_("Spouse"), groups[Line.SPOUSE]),
        (_("Blood relatives"), groups[Line.BLOOD]),
        (_("Relatives by marriage"), groups[Line.IN_LAW]),
        (_("Others"), groups[Line.NONE]),
    ]


class BirthDateWidget(forms.MultiWidget):
    """Year, month and day as three boxes: the way Japanese forms ask for a birth date."""

    template_name = "public/widgets/birth_date.html"

    def __init__(self) -> None:
        months = [("", "–")] + [(m, str(m)) for m in range(1, 13)]
        days = [("", "–")] + [(d, str(d)) for d in range(1, 32)]
        super().__init__(
            widgets=[
                forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
                forms.Select(choices=months),
                forms.Select(choices=days),
            ]
        )

    def decompress(self, value: date | None) -> list[int | None]:
        return [value.year, value.month, value.day] if value else [None, None, None]

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        units = [_("Year"), _("Month"), _("Day")]
        context["widget"]["parts"] = list(zip(context["widget"]["subwidgets"], units, strict=True))
        return context


class BirthDateField(forms.MultiValueField):
    widget = BirthDateWidget
    default_error_messages = {
        # Also when only a part is missing: all three parts are required.
        "required": _("Please enter the patient's date of birth (year, month and day)."),
        "impossible": _("This date does not exist. Please check the month and day."),
    }

    def __init__(self, **kwargs: Any) -> None:
        year_error = _("Please enter the year in four digits, for example 1950.")
        fields = (
            forms.IntegerField(
                error_messages={
                    "invalid": year_error,
                    "min_value": year_error,
                    "max_value": year_error,
                },
                min_value=EARLIEST_BIRTH_YEAR,
                max_value=9999,
            ),
            forms.IntegerField(min_value=1, max_value=12),
            forms.IntegerField(min_value=1, max_value=31),
        )
        super().__init__(fields=fields, require_all_fields=True, **kwargs)

    def compress(self, data_list: Sequence[int]) -> date | None:
        if not data_list:
            return None
        year, month, day = data_list
        try:
            return date(year, month, day)
        except ValueError:
            raise forms.ValidationError(
                self.error_messages["impossible"], code="impossible"
            ) from None
