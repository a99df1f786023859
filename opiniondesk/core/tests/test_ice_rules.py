"""The ICE rules: coturn's REST credentials, the ICE settings, the list a browser gets.

coturn documents the scheme but no example values: the expected credentials below were computed
with another implementation, `printf '%s' "$username" | openssl dgst -sha1 -hmac "$secret"
-binary | base64`. That coturn itself accepts what we issue is tested in test_ice_coturn.py.
"""

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opiniondesk.core.ice_rules import (
    TTL_DEFAULT,
    IceConfigError,
    IceSettings,
    build_ice_servers,
    consult_purpose,
    device_check_purpose,
    ice_settings_from,
    turn_credential,
)

SECRET = "0123456789abcdef0123456789abcdef"  # 32 characters, the shortest accepted
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 1796119200


@pytest.mark.parametrize(
    ("secret", "expires", "purpose_id", "username", "credential"),
    [
        ("north", 1700000000, "c12u34", "1700000000:c12u34", "n+GYPpIjpmKVAIej8pQ6BgoMInE="),
        ("north", 1700000000, "c12u35", "1700000000:c12u35", "sk9s0nIg8o+JF3C0E5RJSM6MqBE="),
        ("logen", 1796205499, "d7u3", "1796205499:d7u3", "Ded6A0MC1Oiww9j80exhe9xQHXo="),
        (SECRET, 2000000000, "c1u2", "2000000000:c1u2", "201q9//lElQvRCKAWcnkT0d9eJM="),
        ("ひみつ-secret", 0, "x", "0:x", "aBVsFP0O87POOEuEiUGnwF9r/Fk="),  # the secret as UTF-8
    ],
)
def test_it_makes_coturns_rest_credential(secret, expires, purpose_id, username, credential):
    issued = turn_credential(secret=secret, expires=expires, purpose_id=purpose_id)
    assert (issued.username, issued.credential, issued.expires) == (username, credential, expires)


@pytest.mark.parametrize(
    ("secret", "expires", "purpose_id"),
    [
        ("", 1700000000, "c1u2"),  # no secret: anyone could make the credential
        (SECRET, 1700000000, ""),
        (SECRET, 1700000000, "c1:u2"),  # coturn's separator
        (SECRET, 1700000000, "hana@example.jp"),  # personal data has no place in it
        (SECRET, 1700000000, "c1 u2"),  # coturn refuses spaces in user names
        (SECRET, 1700000000, "x" * 65),
        (SECRET, -1, "c1u2"),
    ],
)
def test_it_refuses_to_make_a_bad_credential(secret, expires, purpose_id):
    with pytest.raises(ValueError):
        turn_credential(secret=secret, expires=expires, purpose_id=purpose_id)


purpose_ids = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
secrets = st.text(min_size=1).filter(lambda s: "\x00" not in s)
expiries = st.integers(min_value=0, max_value=2**32 - 1)


@given(secret=secrets, expires=expiries, purpose_id=purpose_ids)
def test_the_credential_is_the_hmac_of_the_username_that_names_expiry_and_purpose(
    secret, expires, purpose_id
):
    issued = turn_credential(secret=secret, expires=expires, purpose_id=purpose_id)
    assert issued.username == f"{expires}:{purpose_id}"  # nothing else, the secret least
    digest = base64.b64decode(issued.credential, validate=True)
    assert digest == hmac.new(secret.encode(), issued.username.encode(), hashlib.sha1).digest()


@given(secret=secrets, other=secrets, expires=expiries, purpose_id=purpose_ids)
def test_another_secret_makes_another_credential(secret, other, expires, purpose_id):
    one = turn_credential(secret=secret, expires=expires, purpose_id=purpose_id)
    two = turn_credential(secret=other, expires=expires, purpose_id=purpose_id)
    # HMAC pads a short key with zeros: "a" and "a\0" are the same key, so "no NUL" above.
    assert (one.credential == two.credential) == (secret.encode() == other.encode())


@given(expires=expiries, first=purpose_ids, second=purpose_ids, later=st.integers(1, 10**6))
def test_each_purpose_and_expiry_has_its_own_credential(expires, first, second, later):
    one = turn_credential(secret=SECRET, expires=expires, purpose_id=first)
    other = turn_credential(secret=SECRET, expires=expires, purpose_id=second)
    extended = turn_credential(secret=SECRET, expires=expires + later, purpose_id=first)
    assert (one.credential == other.credential) == (first == second)
    assert one.credential != extended.credential


@pytest.mark.parametrize(
    ("made", "purpose_id"),
    [
        (consult_purpose(12, 34), "c12u34"),
        (consult_purpose(1, 234), "c1u234"),  # not c12u34: the letters keep the numbers apart
        (device_check_purpose(12, 34), "d12u34"),
    ],
)
def test_a_purpose_id_names_the_purpose_and_the_user(made, purpose_id):
    assert made == purpose_id


STUN = ("stun:stun.hospital.example.jp:3478",)
TURN = (
    "turn:turn.hospital.example.jp:3478?transport=udp",
    "turns:turn.hospital.example.jp:443?transport=tcp",
)


def test_a_browser_gets_stun_without_and_turn_with_a_credential_of_its_own():
    ice = IceSettings(stun_urls=STUN, turn_urls=TURN, turn_secret=SECRET, ttl_seconds=600)
    servers = build_ice_servers(ice, purpose_id="c12u34", now=NOW)
    expires = int(NOW.timestamp()) + 600
    assert servers == [
        {"urls": list(STUN)},
        {
            "urls": list(TURN),
            "username": f"{expires}:c12u34",
            "credential": turn_credential(
                secret=SECRET, expires=expires, purpose_id="c12u34"
            ).credential,
        },
    ]
    assert SECRET not in repr(servers)


@pytest.mark.parametrize(
    ("ice", "kinds"),
    [
        (IceSettings(), []),  # local routes only
        (IceSettings(stun_urls=STUN), [["urls"]]),
        (IceSettings(turn_urls=TURN, turn_secret=SECRET), [["credential", "urls", "username"]]),
    ],
)
def test_only_what_is_configured_is_listed(ice, kinds):
    assert [sorted(s) for s in build_ice_servers(ice, purpose_id="c1u2", now=NOW)] == kinds


@pytest.mark.parametrize(
    "now",
    [NOW, NOW.astimezone(timezone(timedelta(hours=9))), NOW + timedelta(microseconds=999_999)],
)
def test_the_credential_expires_ttl_seconds_after_now_in_any_time_zone(now):
    ice = IceSettings(turn_urls=TURN, turn_secret=SECRET, ttl_seconds=3600)
    (server,) = build_ice_servers(ice, purpose_id="c1u2", now=now)
    assert server["username"] == f"{1796119200 + 3600}:c1u2"


def test_it_needs_an_aware_time():
    ice = IceSettings(turn_urls=TURN, turn_secret=SECRET)
    with pytest.raises(ValueError, match="aware"):
        build_ice_servers(ice, purpose_id="c1u2", now=NOW.replace(tzinfo=None))


def test_the_secret_is_not_in_the_settings_repr():
    assert SECRET not in repr(IceSettings(turn_urls=TURN, turn_secret=SECRET))


GOOD_ENV = {
    "WEBRTC_STUN_URLS": " stun:stun.hospital.example.jp:3478 , stun:[2001:db8::1]:3478,",
    "WEBRTC_TURN_URLS": ",".join(TURN),
    "WEBRTC_TURN_SECRET": SECRET,
    "WEBRTC_TURN_TTL_SECONDS": "900",
}


def test_it_reads_the_environment():
    assert ice_settings_from(GOOD_ENV) == IceSettings(
        stun_urls=("stun:stun.hospital.example.jp:3478", "stun:[2001:db8::1]:3478"),
        turn_urls=TURN,
        turn_secret=SECRET,
        ttl_seconds=900,
    )
    assert ice_settings_from({}) == IceSettings(ttl_seconds=TTL_DEFAULT)
    assert ice_settings_from({"WEBRTC_ICE_SERVERS": " "}) == IceSettings()


BAD_ENV = {
    "TURN without a secret": ({"WEBRTC_TURN_SECRET": ""}, "WEBRTC_TURN_SECRET must be set"),
    "short secret": ({"WEBRTC_TURN_SECRET": SECRET[:-1]}, "WEBRTC_TURN_SECRET is too short"),
    "ttl too short": ({"WEBRTC_TURN_TTL_SECONDS": "59"}, "between 60 and 86400, not 59"),
    "ttl too long": ({"WEBRTC_TURN_TTL_SECONDS": "86401"}, "between 60 and 86400"),
    "ttl not a number": ({"WEBRTC_TURN_TTL_SECONDS": "1h"}, "a number of seconds, not '1h'"),
    "ttl negative": ({"WEBRTC_TURN_TTL_SECONDS": "-5"}, "WEBRTC_TURN_TTL_SECONDS"),
    "turn url as stun": ({"WEBRTC_STUN_URLS": TURN[0]}, "WEBRTC_STUN_URLS: 'turn:"),
    "stun url as turn": ({"WEBRTC_TURN_URLS": STUN[0]}, "WEBRTC_TURN_URLS: 'stun:"),
    "http url": ({"WEBRTC_TURN_URLS": "https://turn.example.jp"}, "WEBRTC_TURN_URLS"),
    "no host": ({"WEBRTC_TURN_URLS": "turn::3478"}, "WEBRTC_TURN_URLS"),
    "bad port": ({"WEBRTC_TURN_URLS": "turn:turn.example.jp:65536"}, "WEBRTC_TURN_URLS"),
    "bad transport": ({"WEBRTC_TURN_URLS": "turn:t.example.jp?transport=sctp"}, "TURN_URLS"),
    "credentials in the url": ({"WEBRTC_TURN_URLS": "turn:user:pw@t.example.jp"}, "TURN_URLS"),
    "the old setting": (
        {"WEBRTC_ICE_SERVERS": '[{"urls": "stun:stun.example.jp"}]'},
        "WEBRTC_ICE_SERVERS is no longer read",
    ),
}


@pytest.mark.parametrize(("change", "message"), BAD_ENV.values(), ids=BAD_ENV.keys())
def test_it_refuses_bad_settings_with_a_clear_message(change, message):
    with pytest.raises(IceConfigError, match=re.escape(message)):
        ice_settings_from({**GOOD_ENV, **change})


def test_settings_made_in_code_are_checked_too():
    with pytest.raises(IceConfigError, match="WEBRTC_TURN_SECRET must be set"):
        IceSettings(turn_urls=TURN)
