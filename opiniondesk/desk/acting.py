"""The one way a staff case page's action runs: validate, check that nothing moved since the
page was shown, call one service, then redirect to the page or redraw it with the errors."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from opiniondesk.cases.lifecycle import InvalidTransition, case_lock
from opiniondesk.cases.models import Case
from opiniondesk.cases.screening import NotAllowed
from opiniondesk.cases.wording import STAFF_CONFLICT, STAFF_NOT_CHANGED
from opiniondesk.consults.errors import ConsultError
from opiniondesk.readiness.errors import ReadinessError
from opiniondesk.records.errors import RecordsError
from opiniondesk.scheduling.services import SchedulingError

Data = dict[str, Any]
# What the services refuse with words for the user: shown on the form that was sent.
REFUSALS = (SchedulingError, ReadinessError, ConsultError, RecordsError)


class Moved(Exception):
    """The case (or its offer or booking) changed since the page was shown."""


def locked_status(case: Case) -> str:
    """The case's status, its row locked until the action's transaction ends."""
    return case_lock(case.pk).status


def status_unchanged(case: Case, data: Data) -> bool:
    """The usual check: the case is still in the state the page showed (`seen_status`)."""
    return locked_status(case) == data["seen_status"]


def act(
    request: HttpRequest,
    case: Case,
    form: forms.Form,
    *,
    change: Callable[[Data], Any],
    done: str | Callable[[Data], str],
    redraw: Callable[[dict[str, forms.Form]], HttpResponse],
    unchanged: Callable[[Case, Data], bool] | None = None,
    anchor: str = "",
) -> HttpResponse:
    """Run one change; any refusal changes nothing and is said on the page.

    `unchanged` runs in the action's transaction and locks what it reads, so nobody can move
    the case between the check and the service; `redraw` shows the page again with `form`.
    """
    if not form.is_valid():
        messages.error(request, STAFF_NOT_CHANGED)
        return redraw({form.key: form})  # type: ignore[attr-defined]
    data = form.cleaned_data
    page = reverse("staff-case", args=[case.pk]) + (f"#{anchor}" if anchor else "")
    try:
        with transaction.atomic():
            if unchanged is not None and not unchanged(case, data):
                raise Moved
            change(data)
    except (Moved, InvalidTransition, NotAllowed):
        messages.error(request, STAFF_CONFLICT)
        return redirect(page)
    except REFUSALS as exc:
        form.add_error(None, exc.message)
        messages.error(request, STAFF_NOT_CHANGED)
        return redraw({form.key: form})  # type: ignore[attr-defined]
    messages.success(request, done(data) if callable(done) else done)
    return redirect(page)
