"""The ICE servers a browser gets for a WebRTC connection, and short-lived TURN credentials.

SPEC §7 and §11.7: media goes peer to peer or through the hospital's own TURN server. The TURN
server is coturn with `use-auth-secret`: it shares one secret with us, and we give each
participant a credential that names its purpose and expires (coturn's "TURN REST API"):

    username   = "<expiry, unix seconds>:<purpose id>"
    credential = base64(HMAC-SHA1(key=secret, message=username))

coturn accepts the credential while the expiry is not before its clock (`get_user_key` in
coturn's src/apps/relay/userdb.c) and checks it when a browser authenticates, so the expiry
bounds when a relay can be *started*: a call already relayed goes on.

Pure: no database, settings or clock. `opiniondesk.core.ice` feeds it the settings and the time;
config/settings.py uses `ice_settings_from` to check the environment at start.
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NotRequired, TypedDict

TTL_DEFAULT = 3600
TTL_MIN = 60  # enough to load a page and allocate; less is a misconfiguration
TTL_MAX = 24 * 3600  # the TURN REST draft's suggested lifetime; a leaked credential lives no longer
# Every participant receives a credential made with the secret, so the secret can be attacked
# offline from one credential: a short one could be guessed and used to mint credentials.
SECRET_MIN_LENGTH = 32
SEPARATOR = ":"  # coturn's default rest-api-separator

# A purpose id names what the credential is for and whose it is ("c12u34": consult 12, user 34),
# never who they are: coturn writes it to its log. Letters, digits, "_" and "-" only, which also
# keeps it clear of coturn's separator and of the characters it refuses in user names.
PURPOSE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# RFC 7064 (stun:, stuns:) and RFC 7065 (turn:, turns:, with ?transport=udp|tcp).
_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)"
_PORT = r"(?::(?P<port>[0-9]{1,5}))?"
STUN_URL = re.compile(rf"stuns?:{_HOST}{_PORT}")
TURN_URL = re.compile(rf"turns?:{_HOST}{_PORT}(?:\?transport=(?:udp|tcp))?")


class IceServer(TypedDict):
    """An RTCIceServer, as `new RTCPeerConnection({iceServers: [...]})` takes it."""

    urls: list[str]
    username: NotRequired[str]
    credential: NotRequired[str]


@dataclass(frozen=True)
class TurnCredential:
    username: str
    credential: str
    expires: int  # unix seconds: coturn refuses the credential once its clock is past this


class IceConfigError(ValueError):
    """The ICE settings are not usable; the message names the variable at fault."""


@dataclass(frozen=True)
class IceSettings:
    """The ICE configuration, checked when made (at start, and when a test overrides it)."""

    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = field(default="", repr=False)  # never in a debug page or a log line
    ttl_seconds: int = TTL_DEFAULT

    def __post_init__(self) -> None:
        check_urls("WEBRTC_STUN_URLS", self.stun_urls, STUN_URL, "stun:host[:port]")
        check_urls(
            "WEBRTC_TURN_URLS", self.turn_urls, TURN_URL, "turn:host[:port][?transport=udp|tcp]"
        )
        if self.turn_urls and not self.turn_secret:
            raise IceConfigError(
                "WEBRTC_TURN_SECRET must be set when WEBRTC_TURN_URLS is: it is coturn's "
                "static-auth-secret, from which each participant's credential is made."
            )
        if self.turn_secret and len(self.turn_secret) < SECRET_MIN_LENGTH:
            raise IceConfigError(
                f"WEBRTC_TURN_SECRET is too short: use at least {SECRET_MIN_LENGTH} random "
                "characters (for example the output of `openssl rand -hex 32`)."
            )
        if not TTL_MIN <= self.ttl_seconds <= TTL_MAX:
            raise IceConfigError(
                f"WEBRTC_TURN_TTL_SECONDS must be between {TTL_MIN} and {TTL_MAX}, "
                f"not {self.ttl_seconds}."
            )


def check_urls(variable: str, urls: tuple[str, ...], pattern: re.Pattern[str], form: str) -> None:
    for url in urls:
        match = pattern.fullmatch(url)
        if match is None or not 1 <= int(match.group("port") or 1) <= 65535:
            raise IceConfigError(f"{variable}: {url!r} is not a URL of the form {form}.")


def split_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def ice_settings_from(environ: Mapping[str, str]) -> IceSettings:
    """The ICE settings from environment variables, or IceConfigError saying what to fix."""
    if environ.get("WEBRTC_ICE_SERVERS", "").strip():
        raise IceConfigError(
            "WEBRTC_ICE_SERVERS is no longer read, so that no TURN password is sent to every "
            "browser: set WEBRTC_STUN_URLS, and WEBRTC_TURN_URLS with WEBRTC_TURN_SECRET "
            "(coturn's static-auth-secret); each participant then gets a short-lived credential."
        )
    ttl = environ.get("WEBRTC_TURN_TTL_SECONDS", "").strip() or str(TTL_DEFAULT)
    if not re.fullmatch(r"[0-9]{1,9}", ttl):
        raise IceConfigError(f"WEBRTC_TURN_TTL_SECONDS must be a number of seconds, not {ttl!r}.")
    return IceSettings(
        stun_urls=split_list(environ.get("WEBRTC_STUN_URLS", "")),
        turn_urls=split_list(environ.get("WEBRTC_TURN_URLS", "")),
        turn_secret=environ.get("WEBRTC_TURN_SECRET", ""),
        ttl_seconds=int(ttl),
    )


def turn_credential(*, secret: str, expires: int, purpose_id: str) -> TurnCredential:
    """coturn's REST API credential for `purpose_id`, valid until `expires` (unix seconds)."""
    if not secret:
        raise ValueError("a TURN credential needs the shared secret")
    if not PURPOSE_ID.fullmatch(purpose_id):
        raise ValueError(f"not a purpose id: {purpose_id!r}")
    if expires < 0:
        raise ValueError("the expiry is a unix time")
    username = f"{expires}{SEPARATOR}{purpose_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredential(username, base64.b64encode(digest).decode("ascii"), expires)


def consult_purpose(consult_id: int, user_id: int) -> str:
    """The purpose id of a participant's credential for a video consult."""
    return f"c{consult_id}u{user_id}"


def device_check_purpose(case_id: int, user_id: int) -> str:
    """The purpose id of the patient's side's credential for the device check of a case."""
    return f"d{case_id}u{user_id}"


def build_ice_servers(ice: IceSettings, *, purpose_id: str, now: datetime) -> list[IceServer]:
    """The RTCIceServer list for one browser: STUN without credentials, TURN with a credential
    for `purpose_id` that expires `ice.ttl_seconds` after `now` (an aware datetime)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    servers: list[IceServer] = []
    if ice.stun_urls:
        servers.append({"urls": list(ice.stun_urls)})
    if ice.turn_urls:
        expires = int(now.timestamp()) + ice.ttl_seconds
        issued = turn_credential(secret=ice.turn_secret, expires=expires, purpose_id=purpose_id)
        servers.append(
            {
                "urls": list(ice.turn_urls),
                "username": issued.username,
                "credential": issued.credential,
            }
        )
    return servers
