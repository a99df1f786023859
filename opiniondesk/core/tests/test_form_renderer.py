"""The project's form renderer (core/forms.py) prints every widget as Django does, cheaper: its
own templates (no include per input, attribute list or option) and a ModelChoiceField's options
read with one plain query (Django runs it twice, through server-side cursors on PostgreSQL)."""

import pytest
from django import forms
from django.db import connection
from django.forms.renderers import DjangoTemplates
from django.test.utils import CaptureQueriesContext

from opiniondesk.catalog.models import Department, Disease
from opiniondesk.core.forms import FormRenderer


class Choices(forms.Form):
    plain = forms.ChoiceField(choices=[("a", "A & B"), ("b", "B")])
    grouped = forms.ChoiceField(
        choices=[("", "—"), ("Fruit", [("1", "Apple"), ("2", "Pear")]), ("3", "Other")],
        required=False,
    )
    many = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y"), ("z", "Z")])
    attributed = forms.ChoiceField(
        choices=[("1", "One")], widget=forms.Select(attrs={"data-x": "1", "class": "wide"})
    )


class Inputs(forms.Form):
    text = forms.CharField(widget=forms.TextInput(attrs={"autocomplete": "off", "x": True}))
    email = forms.EmailField(required=False)
    number = forms.IntegerField(widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(format="%H:%M"))
    at = forms.DateTimeField(required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    password = forms.CharField(widget=forms.PasswordInput(render_value=True))
    url = forms.URLField(required=False)
    search = forms.CharField(widget=forms.SearchInput, required=False)
    tel = forms.CharField(widget=forms.TelInput, required=False)
    color = forms.CharField(widget=forms.ColorInput, required=False)
    file = forms.FileField(required=False)
    tick = forms.BooleanField(required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "disabled": False}))
    radio = forms.ChoiceField(widget=forms.RadioSelect, choices=[("1", "One"), ("2", "<Two>")])
    boxes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, choices=[("a", "A"), ("b", "B & C")]
    )


INPUTS = {
    "text": 'say "<hi>" & bye',
    "number": "12",
    "day": "2026-12-04",
    "time": "09:30",
    "hidden": "h'1",
    "password": "secret",
    "tick": "on",
    "notes": "line one\n<b>two</b>",
    "radio": "2",
    "boxes": ["a", "b"],
}


@pytest.mark.parametrize("data", [None, INPUTS, {"text": "x" * 300}])
def test_every_input_is_printed_as_django_prints_it(data):
    ours, django = both(Inputs, data)
    assert ours == django
    assert ours.count("<input") == 18 and "<textarea" in ours
    form = Inputs(data, renderer=FormRenderer())
    for name in ("radio", "boxes"):  # each choice on its own, as public/_group.html prints them
        tags = [choice.tag() for choice in form[name]]
        stock = Inputs(data, renderer=DjangoWidgets())
        assert tags == [choice.tag() for choice in stock[name]]


class Catalog(forms.Form):
    department = forms.ModelChoiceField(
        queryset=Department.objects.all(), empty_label="All departments"
    )
    optional = forms.ModelChoiceField(queryset=Department.objects.all(), required=False)
    disease = forms.ModelChoiceField(
        queryset=Disease.objects.select_related("department"), empty_label=None
    )


class DjangoWidgets(FormRenderer):
    """The same renderer with Django's own widget templates (and the same bound fields)."""

    overrides: dict[str, str] = {}


def both(form_class, data=None):
    ours = form_class(data, renderer=FormRenderer()).render()
    django = form_class(data, renderer=DjangoWidgets()).render()
    return ours, django


@pytest.mark.parametrize(
    "data", [None, {"plain": "b", "grouped": "2", "many": ["x", "z"], "attributed": "1"}]
)
def test_selects_are_printed_as_django_prints_them(data):
    ours, django = both(Choices, data)
    assert ours == django
    assert 'data-x="1"' in ours and "A &amp; B" in ours


@pytest.mark.django_db
@pytest.mark.parametrize("bound", [False, True])
def test_a_model_select_reads_its_options_once_with_a_plain_query(bound):
    first, disease = Department.objects.order_by("pk").first(), Disease.objects.first()
    data = {"department": first.pk, "disease": disease.pk} if bound else None

    with CaptureQueriesContext(connection) as ours:
        html = Catalog(data, renderer=FormRenderer()).render()
    with CaptureQueriesContext(connection) as django:
        expected = Catalog(data, renderer=DjangoTemplates()).render()

    assert html == expected
    # One per select (Django's own renderer runs each twice); a bound form also looks up the
    # two chosen rows when it validates.
    assert len(ours) == 3 + (2 if bound else 0)
    assert len(django) > len(ours)
    assert not any("DECLARE" in q["sql"] or "COUNT(" in q["sql"] for q in ours.captured_queries)
    assert f'<option value="{first.pk}"' in html
    assert html.count('<option value=""') == 2 and "All departments" in html  # empty labels
    if bound:
        assert f'<option value="{first.pk}" selected>' in html
