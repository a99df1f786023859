"""The online consult's pages: the patient's waiting room and call, the specialist's room and
their list of today's consults, and a fresh join token for a page that reconnects.

The pages pass their configuration to `static/consults/room.js` with `json_script`; the script
talks to `consumers.ConsultConsumer`. No personal data leaves these views unaudited.
"""

from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from opiniondesk.accounts.models import Role, User
from opiniondesk.accounts.permissions import role_required
from opiniondesk.audit.services import audit_read
from opiniondesk.cases.access import case_for_request, patient_case_for_request
from opiniondesk.cases.models import Case
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.consults import clock, selectors, services
from opiniondesk.consults.consumers import join_token
from opiniondesk.consults.errors import ConsultError
from opiniondesk.consults.models import Consult, Side
from opiniondesk.consults.wording import room_texts
from opiniondesk.core.ice import consult_ice_servers
from opiniondesk.core.time import JST, jst_today
from opiniondesk.scheduling.models import Booking


def _ice(consult: Consult, user: User) -> dict[str, Any]:
    """The ICE servers with a TURN credential of this participant's own (asked for again on
    every reconnection: it expires), and whether the call must go through the relay."""
    return {
        "iceServers": consult_ice_servers(
            consult_id=consult.pk, user_id=user.pk, now=timezone.now()
        ),
        "iceTransportPolicy": "relay" if settings.WEBRTC_RELAY_ONLY else "all",
        "iceRenewMs": settings.WEBRTC_TURN_TTL_SECONDS * 1000 // 2,
    }


def _config(request: HttpRequest, consult: Consult, side: Side) -> dict[str, Any]:
    return {
        "consultId": consult.pk,
        "side": side.value,
        "wsPath": f"/ws/consults/{consult.pk}/",
        "token": join_token(consult.pk, request.user.pk),
        "tokenUrl": reverse("consult-token", args=[consult.pk]),
        **_ice(consult, request.user),
        "heartbeatMs": 10_000,
        "warnBoundaryMinutes": settings.CONSULT_WARN_BEFORE_BOUNDARY_MINUTES,
        "warnEndMinutes": settings.CONSULT_WARN_BEFORE_END_MINUTES,
    }


def _room_context(request: HttpRequest, case: Case, consult: Consult) -> dict[str, Any]:
    booking = consult.booking
    now = timezone.now()
    state = clock.room_state(
        now=now,
        starts_at=booking.starts_at,
        open_before_minutes=settings.CONSULT_ROOM_OPENS_MINUTES,
    )
    return {
        "case": case,
        "consult": consult,
        "booking": booking,
        "specialist": consult.specialist,
        "department": booking.department,
        "room_open": state is clock.Room.OPEN,
        "opens_at": booking.starts_at - timedelta(minutes=settings.CONSULT_ROOM_OPENS_MINUTES),
        "texts": room_texts(),
    }


@login_required
@never_cache
def patient_room(request: HttpRequest, case_id: int) -> HttpResponse:
    """The waiting room and the call, for the patient or the family member who applied."""
    case = patient_case_for_request(request, case_id)
    if case.mode != Mode.ONLINE:
        messages.info(request, room_texts()["in_person"])
        return redirect("case-detail", case.pk)
    try:
        consult = services.consult_open(case=case)
    except ConsultError as exc:
        messages.info(request, exc.message)
        return redirect("case-detail", case.pk)
    audit_read(request, case, obj=consult, page="consult room")
    context = _room_context(request, case, consult)
    names = [case.patient_name, *(f"{p.family_name} {p.given_name}" for p in case.proxies.all())]
    context["config"] = _config(request, consult, Side.PATIENT) | {
        "roomOpen": context["room_open"],
        "opensAt": context["opens_at"].isoformat(),
        "present": list(dict.fromkeys(name for name in names if name.strip())),
        "caseUrl": reverse("case-detail", args=[case.pk]),
    }
    return render(request, "consults/room.html", context)


@role_required(Role.SPECIALIST)
@never_cache
def specialist_room(request: HttpRequest, case_id: int) -> HttpResponse:
    """The booked specialist's room: who is waiting, the call, the notes."""
    case = case_for_request(request, case_id)
    try:
        consult = services.consult_open(case=case)
    except ConsultError as exc:
        messages.info(request, exc.message)
        return redirect("staff-case", case.pk)
    if consult.specialist_id != request.user.pk or consult.mode != Mode.ONLINE:
        raise PermissionDenied
    audit_read(request, case, obj=consult, page="consult room")
    context = _room_context(request, case, consult)
    specialist = request.user.get_full_name() or request.user.get_username()
    context["config"] = _config(request, consult, Side.HOSPITAL) | {
        "roomOpen": True,
        "present": [specialist],
        "caseUrl": reverse("staff-case", args=[case.pk]),
        "notes": consult.notes,
    }
    return render(request, "consults/staff/room.html", context)


@login_required
@require_safe
@never_cache
def token(request: HttpRequest, consult_id: int) -> JsonResponse:
    """A fresh join token and TURN credential for a page that reconnects (both expire)."""
    consult = Consult.objects.select_related("case").filter(pk=consult_id).first()
    if consult is None:
        raise Http404
    case_for_request(request, consult.case_id)  # 404 and audited when not the user's
    if services.side_of(request.user, consult) is None:
        raise Http404
    return JsonResponse(
        {"token": join_token(consult.pk, request.user.pk)} | _ice(consult, request.user)
    )


@role_required(Role.SPECIALIST)
@never_cache
def lobby(request: HttpRequest) -> HttpResponse:
    """Today's consults of the signed-in specialist: who is waiting, in which room."""
    start = datetime.combine(jst_today(), time(), tzinfo=JST)
    bookings = list(
        Booking.objects.filter(
            specialist=request.user,
            cancelled_at__isnull=True,
            starts_at__gte=start,
            starts_at__lt=start + timedelta(days=1),
        )
        .select_related("case", "department")
        .order_by("starts_at", "pk")
    )
    consults = {c.booking_id: c for c in Consult.objects.filter(booking__in=bookings)}
    now = timezone.now()
    rows = [
        {
            "booking": booking,
            "case": booking.case,
            "consult": consults.get(booking.pk),
            "waiting": booking.pk in consults
            and consults[booking.pk].patient_connected(now, selectors.STALE_AFTER),
        }
        for booking in bookings
    ]
    audit_read(request, page="consult lobby", cases=[row["case"].pk for row in rows])
    return render(
        request,
        "consults/staff/lobby.html",
        {"rows": rows, "config": {"wsPath": "/ws/consults/lobby/"}, "texts": room_texts()},
    )
