"""The patient's device check page (SPEC §6): camera, microphone and the connection to us.

The checks run in the browser (static/readiness/device_check.js); the page posts what it found as
JSON, which is validated strictly here before `device_check_record` stores it.
"""

import json
import re
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from opiniondesk.audit.services import audit_read
from opiniondesk.cases.access import patient_case_for_request
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import PREPARATION_STATES, Status
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.core.ice import device_check_ice_servers
from opiniondesk.readiness.models import DeviceCheck
from opiniondesk.readiness.services import ReadinessError, device_check_record

WS_PATH = "/ws/device-check/"
SLOW_MS = 400  # a median round trip above this still works, but the picture may stutter
MAX_MS = 60_000
MAX_BODY_BYTES = 8 * 1024


@login_required
@never_cache  # the page carries a TURN credential of this user's
def device_check(request: HttpRequest, case_id: int) -> HttpResponse:
    case = patient_case_for_request(request, case_id)
    if case.status not in PREPARATION_STATES:
        if request.method == "POST":
            return _error(_("The device check opens once the department has accepted the case."))
        messages.info(
            request, _("The device check opens once the department has accepted the case.")
        )
        return redirect("case-detail", case.pk)
    if request.method == "POST":
        return _record(request, case)
    audit_read(request, case, page="device_check")
    return render(
        request,
        "readiness/device_check.html",
        {
            "case": case,
            "in_person": case.mode == Mode.IN_PERSON,
            "last_check": DeviceCheck.objects.filter(case=case).first(),
            "config": {
                "wsPath": WS_PATH,
                "postUrl": request.path,
                "slowMs": SLOW_MS,
                # A TURN credential for this case and this user only, expiring soon.
                "iceServers": device_check_ice_servers(
                    case_id=case.pk, user_id=request.user.pk, now=timezone.now()
                ),
            },
            "texts": js_texts(),
        },
    )


def _record(request: HttpRequest, case: Case) -> JsonResponse:
    try:
        result = parse_result(request.body)
    except BadResult as exc:
        return _error(_("The check result could not be read. Please check again."), exc.field)
    try:
        check = device_check_record(
            case_id=case.pk,
            actor=request.user,
            user_agent=request.headers.get("user-agent", ""),
            request=request,
            **result,
        )
    except ReadinessError as exc:
        return _error(str(exc.message), status=409)
    case.refresh_from_db(fields=["status"])
    return JsonResponse(
        {
            "passed": check.passed,
            "camera_ok": check.camera_ok,
            "microphone_ok": check.microphone_ok,
            "connection_ok": check.connection_ok,
            "case_ready": case.status == Status.READY,
            "case_url": reverse("case-detail", args=[case.pk]),
        },
        status=201,
    )


def _error(message: str, field: str = "", status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message, "field": field}, status=status)


# Validation of the posted result. Every field has a type and bounds; unknown keys are refused,
# so what is stored in DeviceCheck.detail is always small and of a known shape.


class BadResult(ValueError):
    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(field)


Check = Callable[[Any], bool]


def _bool(value: Any) -> bool:
    return isinstance(value, bool)


def _int(low: int, high: int) -> Check:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def _number(low: float, high: float) -> Check:
    return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and low <= v <= high


def _one_of(*choices: str) -> Check:
    return lambda v: isinstance(v, str) and v in choices


_CODE = re.compile(r"[A-Za-z_]{1,40}")  # a DOMException name or one of the page's own codes


def _code(value: Any) -> bool:
    return isinstance(value, str) and _CODE.fullmatch(value) is not None


def _list_of(check: Check, most: int) -> Check:
    return lambda v: isinstance(v, list) and len(v) <= most and all(check(item) for item in v)


_PIXELS = _int(0, 20_000)
DETAIL_FIELDS: dict[str, dict[str, Check]] = {
    "camera": {
        "result": _one_of("ok", "failed"),
        "error": _code,
        "width": _PIXELS,
        "height": _PIXELS,
        "dark": _bool,
    },
    "microphone": {
        "result": _one_of("ok", "failed"),
        "error": _code,
        "heard": _bool,
        "peak": _number(0, 1),
    },
    "connection": {
        "result": _one_of("ok", "slow", "failed"),
        "error": _code,
        "pings": _list_of(_int(0, MAX_MS), 10),
        "ice": _list_of(_one_of("host", "srflx", "prflx", "relay"), 4),
        "ice_error": _code,
    },
}


def _check_object(value: Any, fields: dict[str, Check], prefix: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadResult(prefix.rstrip("."))
    for key, item in value.items():
        check = fields.get(key)
        if check is None or not check(item):
            raise BadResult(f"{prefix}{key}")
    return value


def _check_detail(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadResult("detail")
    for part, item in value.items():
        if part not in DETAIL_FIELDS:
            raise BadResult(f"detail.{part}")
        _check_object(item, DETAIL_FIELDS[part], f"detail.{part}.")
    return value


TOP_FIELDS: dict[str, Check] = {
    "camera_ok": _bool,
    "microphone_ok": _bool,
    "connection_ok": _bool,
    "round_trip_ms": lambda v: v is None or _int(0, MAX_MS)(v),
    "detail": lambda v: True,  # checked part by part below
}


def parse_result(body: bytes) -> dict[str, Any]:
    """The keyword arguments for `device_check_record`, or BadResult naming the first bad field."""
    if len(body) > MAX_BODY_BYTES:
        raise BadResult("")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadResult("") from exc
    _check_object(data, TOP_FIELDS, "")
    for key in ("camera_ok", "microphone_ok", "connection_ok", "round_trip_ms"):
        if key not in data:
            raise BadResult(key)
    if data["connection_ok"] and data["round_trip_ms"] is None:
        raise BadResult("round_trip_ms")  # a working connection was measured
    return {
        "camera_ok": data["camera_ok"],
        "microphone_ok": data["microphone_ok"],
        "connection_ok": data["connection_ok"],
        "round_trip_ms": data["round_trip_ms"],
        "detail": _check_detail(data.get("detail", {})),
    }


def js_texts() -> dict[str, str]:
    """What the page's script says, in the page's language (the script has no words of its own).

    Keys ending in an error name (NotAllowedError...) are chosen by the DOMException the browser
    raised; %(ms)s and %(kinds)s are filled in by the script.
    """
    return {
        "camera_running": _("Starting the camera…"),
        "camera_ok": _("The camera works. Please check that you can see yourself in the picture."),
        "camera_dark": _(
            "The picture is very dark. Please check that nothing covers the camera and that the "
            "room is bright enough."
        ),
        "camera_NotAllowedError": _(
            "Use of the camera is not allowed. Click the camera icon in the browser's address "
            "bar and choose “Allow”."
        ),
        "camera_NotFoundError": _(
            "No camera was found. Please connect a camera, or use a computer or smartphone with a "
            "camera."
        ),
        "camera_NotReadableError": _(
            "The camera is being used by another app. Please close the other apps that use the "
            "camera (for example Zoom or Teams), then check again."
        ),
        "camera_no_frames": _(
            "The camera is connected, but no picture arrives. Please check the camera, then "
            "check again."
        ),
        "camera_failed": _(
            "The camera could not be started. Please close the browser, open it again, and "
            "check again."
        ),
        "mic_starting": _("Starting the microphone…"),
        "mic_running": _("Please speak now: for example, say your name."),
        "mic_ok": _("The microphone works. We can hear you."),
        "mic_quiet": _(
            "The microphone is on, but no sound was heard. Please check that it is not muted, "
            "and speak a little louder."
        ),
        "mic_NotAllowedError": _(
            "Use of the microphone is not allowed. Click the camera or microphone icon in the "
            "browser's address bar and choose “Allow”."
        ),
        "mic_NotFoundError": _(
            "No microphone was found. Please connect a microphone or a headset."
        ),
        "mic_NotReadableError": _(
            "The microphone is being used by another app. Please close the other apps that use "
            "it, then check again."
        ),
        "mic_failed": _(
            "The microphone could not be started. Please close the browser, open it again, and "
            "check again."
        ),
        "insecure": _(
            "The camera and microphone work only on a secure page (an address that starts with "
            "https://). Please open this page from the link in our e-mail or from our website."
        ),
        "unsupported": _(
            "This browser cannot use a camera or microphone. Please use a recent Chrome, Edge or "
            "Safari."
        ),
        "conn_running": _("Checking the connection to the hospital…"),
        "conn_ok": _("The connection to the hospital is good (response time %(ms)s ms)."),
        "conn_slow": _(
            "The connection works but is slow (response time %(ms)s ms). The picture may stop now "
            "and then. If you can, move closer to your Wi-Fi router or use another network."
        ),
        "conn_failed": _(
            "We could not connect to the hospital's server. Please check that your internet "
            "connection works, then check again. Some company networks block this connection: "
            "if so, please try from home or from a smartphone."
        ),
        "ice_found": _("Routes for the video call: %(kinds)s."),
        "ice_host": _("direct connection"),
        "ice_srflx": _("through your router"),
        "ice_prflx": _("through your router"),
        "ice_relay": _("through the relay server"),
        "list_separator": _(", "),
        "ice_failed": _(
            "The route for the video call could not be prepared. Security software or the "
            "network may block video calls. Please try another network, or call us."
        ),
        "ice_unsupported": _(
            "This browser cannot make video calls. Please use a recent Chrome, Edge or Safari."
        ),
        "save_failed": _(
            "The result could not be saved. Please check your internet connection, then check "
            "again."
        ),
    }
