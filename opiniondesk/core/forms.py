"""Every form's text input, the one way (SPEC §13): normalised as it is read, and never cut.

`FORM_RENDERER` names `FormRenderer`, so every form of the project (allauth's and the admin's
too) reads its fields through `TypedBoundField`:

- what was typed is normalised by the field's kind (`opiniondesk.core.typed`) before the field
  checks it, so ０９０－１２３４－５６７８ is accepted and stored as 090-1234-5678;
- a field with a maximum length loses the HTML `maxlength` (a browser cuts pasted text to it
  without a word) and shows a counter instead (static/js/char-count.js keeps it current);
  the server refuses longer text with a message that says how long it is.

A field's kind comes from `typed_as(field, kind)`, else from what the input tells the browser
(type="email", type="tel", autocomplete="username"), else from the field: text for a CharField,
a code for numbers and dates typed as text. Passwords, choices, files and hidden inputs are
read as sent.
"""

import re
from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator
from django.forms.boundfield import BoundField
from django.forms.models import ModelChoiceIterator
from django.forms.renderers import DjangoTemplates
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from opiniondesk.core.typed import Kind, normalise

PHONE = re.compile(r"^0[0-9]{1,4}-?[0-9]{1,4}-?[0-9]{3,4}$")
POSTAL = re.compile(r"^[0-9]{3}-[0-9]{4}$")

_UNTOUCHED = (
    forms.PasswordInput,
    forms.HiddenInput,
    forms.CheckboxInput,
    forms.Select,
    forms.SelectMultiple,
    forms.RadioSelect,
    forms.FileInput,
)
_BY_INPUT_TYPE = {"email": Kind.EMAIL, "tel": Kind.PHONE}
_BY_AUTOCOMPLETE = {"username": Kind.EMAIL, "email": Kind.EMAIL, "postal-code": Kind.POSTAL}


class TooLong(MaxLengthValidator):
    """Over the limit: refused with both numbers, never cut."""

    message = _(
        "Please shorten this to %(limit_value)d characters or fewer (it has %(show_value)d). "
        "Nothing has been cut."
    )


def typed_as(field: forms.Field, kind: Kind) -> None:
    """Read this field's input as `kind`."""
    field.typed_as = kind  # type: ignore[attr-defined]


def kind_of(field: forms.Field, widget: forms.Widget | None = None) -> Kind | None:
    """The kind a field's input is read as; None for input read as sent."""
    widget = widget or field.widget
    explicit: Kind | None = getattr(field, "typed_as", None)
    if explicit is not None:
        return explicit
    if isinstance(widget, _UNTOUCHED) or isinstance(field, forms.FileField):
        return None
    if isinstance(field, forms.EmailField):
        return Kind.EMAIL
    by_type = _BY_INPUT_TYPE.get(getattr(widget, "input_type", ""))
    if by_type is not None:
        return by_type
    by_autocomplete = _BY_AUTOCOMPLETE.get(str(widget.attrs.get("autocomplete", "")))
    if by_autocomplete is not None:
        return by_autocomplete
    if isinstance(field, forms.CharField):
        return Kind.TEXT
    return Kind.CODE


def _normalised(value: Any, kind: Kind) -> Any:
    if isinstance(value, str):
        return normalise(value, kind)
    if isinstance(value, list):  # a MultiWidget's parts (the birth date's year box)
        return [_normalised(part, Kind.CODE) for part in value]
    return value


def limit_of(field: forms.Field) -> int | None:
    """The maximum length of a text input, shown with a counter. Phone numbers, codes and
    e-mail addresses have a format check that says more than a count would."""
    if not isinstance(field.widget, (forms.TextInput, forms.Textarea)):
        return None
    if kind_of(field) not in (Kind.TEXT, Kind.ADDRESS):
        return None
    return getattr(field, "max_length", None)


def phone_field(field: forms.Field) -> None:
    """A Japanese phone number, typed in any width; the number keypad on phones."""
    typed_as(field, Kind.PHONE)
    field.validators.append(_phone)
    field.widget.input_type = "tel"  # type: ignore[attr-defined]
    field.widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})


def _phone(value: str) -> None:
    if value and not PHONE.match(value):
        raise forms.ValidationError(
            _("Please enter a Japanese phone number, for example 03-1234-5678 or 090-1234-5678.")
        )


def postal_code_field(field: forms.Field) -> None:
    """A postal code, typed in any width, with or without 〒 and the hyphen; kept as 123-4567."""
    typed_as(field, Kind.POSTAL)
    field.validators.append(_postal_code)
    field.widget.attrs.setdefault("inputmode", "numeric")


def _postal_code(value: str) -> None:
    if value and not POSTAL.match(value):
        raise forms.ValidationError(_("Please enter the postal code as 123-4567."))


def address_field(field: forms.Field) -> None:
    """An address: digits and hyphens in one form (本郷７ー３ー１ is 本郷7-3-1)."""
    typed_as(field, Kind.ADDRESS)


def _listed(choices: ModelChoiceIterator) -> list[tuple[Any, Any]]:
    """A ModelChoiceField's options, read once. Django runs its query once to decide on
    `required` and again for the options, each time through a server-side cursor on PostgreSQL
    (which a pooler in transaction mode refuses); a plain query, kept for this form."""
    empty = [("", choices.field.empty_label)] if choices.field.empty_label is not None else []
    return empty + [choices.choice(obj) for obj in choices.queryset]


class TypedBoundField(BoundField):
    def __init__(self, form: forms.BaseForm, field: forms.Field, name: str) -> None:
        super().__init__(form, field, name)
        if kind_of(field) is not None:
            # A browser cuts pasted text to `maxlength` without a word: the server says instead.
            field.widget.attrs.pop("maxlength", None)
        # The form's own copy of the field: Django's message replaced by one that says more.
        field.validators = [
            TooLong(v.limit_value) if type(v) is MaxLengthValidator else v for v in field.validators
        ]

    @property
    def data(self) -> Any:
        kind = kind_of(self.field)
        value = super().data
        return value if kind is None else _normalised(value, kind)

    def build_widget_attrs(
        self, attrs: dict[str, Any], widget: forms.Widget | None = None
    ) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        limit = limit_of(self.field)
        if limit is not None and widget in (None, self.field.widget):
            attrs["data-limit"] = limit
            # The counter's text is announced with the input.
            described = attrs.get("aria-describedby") or self.field.widget.attrs.get(
                "aria-describedby"
            )
            attrs["aria-describedby"] = " ".join(filter(None, [described, self.count_id]))
        return attrs

    @property
    def count_id(self) -> str:
        return f"{self.field.widget.attrs.get('id') or self.auto_id or self.html_name}-count"

    def as_widget(
        self, widget: forms.Widget | None = None, attrs: Any = None, only_initial: bool = False
    ) -> SafeString:
        choices = getattr(self.field.widget, "choices", None)
        if isinstance(choices, ModelChoiceIterator):
            self.field.widget.choices = _listed(choices)
        html = super().as_widget(widget, attrs, only_initial)
        limit = limit_of(self.field)
        if limit is None or widget not in (None, self.field.widget):
            return html
        counter = render_to_string(
            "core/_char_count.html", {"count_id": self.count_id, "limit": limit}
        )
        return mark_safe(html + counter)  # noqa: S308 - both rendered and escaped by templates


class FormRenderer(DjangoTemplates):
    """Django's renderer, reading every field through `TypedBoundField`.

    The widgets are printed by templates of our own that inline what Django's include (a text
    input is text.html → input.html → attrs.html; a select one include per option): the same
    markup byte for byte (core/tests/test_form_renderer.py), about a fifth less time for the
    work queue's filter form (~90 options), and ~50 fewer template renders on a case page.
    """

    bound_field_class = TypedBoundField
    overrides = {
        "django/forms/widgets/select.html": "core/forms/select.html",
        "django/forms/widgets/textarea.html": "core/forms/textarea.html",
        "django/forms/widgets/radio_option.html": "core/forms/input_option.html",
        "django/forms/widgets/checkbox_option.html": "core/forms/input_option.html",
        **{
            f"django/forms/widgets/{name}.html": "core/forms/input.html"
            for name in [
                "checkbox",
                "color",
                "date",
                "datetime",
                "email",
                "file",
                "hidden",
                "number",
                "password",
                "search",
                "tel",
                "text",
                "time",
                "url",
            ]
        },
    }

    def get_template(self, template_name: str) -> Any:
        return super().get_template(self.overrides.get(template_name, template_name))
