"""Closed forms drawn only when opened, so that a long page (the staff case page) does not draw
a dozen forms nobody opens.

`{% form_shown "refer" form suggested as shown %}` is true when the page was asked for with
`?open=refer`, when `form` failed and is shown again with its errors, or when "refer" is the
action the page suggests (open from the start). Otherwise the page holds
`core/_lazy_form.html` in the closed `<details>`: htmx replaces it with the form, cut from the
page asked for with `?open=…`, when the details opens; without JavaScript it is a link to
that page."""

from django import forms, template

register = template.Library()

OPEN = "open"  # the query parameter naming the forms drawn open


@register.simple_tag(takes_context=True)
def form_shown(
    context: template.Context, name: str, form: forms.Form | None = None, suggested: str = ""
) -> bool:
    request = context.get("request")
    asked = request is not None and name in request.GET.getlist(OPEN)
    return asked or (form is not None and form.is_bound) or suggested == name
