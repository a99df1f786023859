"""The ICE servers (STUN/TURN) a browser gets, with TURN credentials of its own (SPEC §7, §11.7).

The rules are in `ice_rules` (pure); this reads them their settings. The lists carry a
short-lived credential, never the shared secret: give one only to the person it names, on a page
that is not cached, after checking they may take part.
"""

from datetime import datetime

from django.conf import settings

from opiniondesk.core.ice_rules import (
    IceServer,
    IceSettings,
    build_ice_servers,
    consult_purpose,
    device_check_purpose,
)


def ice_servers(*, purpose_id: str, now: datetime) -> list[IceServer]:
    """The RTCIceServer list for one browser: the STUN URLs of WEBRTC_STUN_URLS, and the TURN
    URLs of WEBRTC_TURN_URLS with a credential for `purpose_id` ("c12u34": letters, digits, "_"
    and "-", no personal data) that coturn accepts until WEBRTC_TURN_TTL_SECONDS after `now`.
    """
    ice = IceSettings(
        stun_urls=tuple(settings.WEBRTC_STUN_URLS),
        turn_urls=tuple(settings.WEBRTC_TURN_URLS),
        turn_secret=settings.WEBRTC_TURN_SECRET,
        ttl_seconds=settings.WEBRTC_TURN_TTL_SECONDS,
    )
    return build_ice_servers(ice, purpose_id=purpose_id, now=now)


def consult_ice_servers(*, consult_id: int, user_id: int, now: datetime) -> list[IceServer]:
    """The ICE servers for one participant of a video consult (the room of issue #11).

    Call it after checking that the user takes part in the consult (the specialist, or the
    patient's side), with `now=timezone.now()`, and pass the result as it is to the page
    (json_script) or the signaling message: `new RTCPeerConnection({iceServers, ...})`. The
    TURN credential names the consult and the user (`<expiry>:c<consult_id>u<user_id>`). It must
    be valid when the browser allocates a relay (coturn answers 401 once it has expired), so ask
    again on every join, rejoin and ICE restart rather than keeping an old list; a relay already
    allocated goes on after the expiry.
    """
    return ice_servers(purpose_id=consult_purpose(consult_id, user_id), now=now)


def device_check_ice_servers(*, case_id: int, user_id: int, now: datetime) -> list[IceServer]:
    """The ICE servers for the device check of a case, for the patient's side only."""
    return ice_servers(purpose_id=device_check_purpose(case_id, user_id), now=now)
