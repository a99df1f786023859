"""The public API's limit per client address (SPEC §10: anyone may call it, without signing in)."""

import ipaddress
import math
from typing import Any

from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.translation import ngettext
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

# One IPv6 client commonly holds a whole /64; counting each address apart would let it dodge
# the limit (allauth's login limits count the same way: ALLAUTH_RATE_LIMIT_IPV6_PREFIX).
IPV6_PREFIX = 64


class PublicApiThrottle(SimpleRateThrottle):
    """At most settings.PUBLIC_API_RATE calls ("60/min") per address, then 429 with Retry-After.

    The counts are in the default cache, which every worker process shares (the database, or
    Redis). The rate is read on each call, so that an empty one turns the limit off.
    """

    scope = "public"

    def get_rate(self) -> str | None:
        return settings.PUBLIC_API_RATE or None

    def get_cache_key(self, request: Request, view: Any) -> str:
        # The key outlives its minute in the database cache's table until it is culled: keep no
        # address there, only a keyed hash of it.
        ident = salted_hmac(
            "api-throttle", client_network(request), algorithm="sha256"
        ).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def throttle_failure(self) -> bool:
        # DRF's own message is half English in Japanese (its wait is formatted before it is
        # translated): ours, with the same wait that Retry-After carries.
        wait = math.ceil(self.wait() or 1)
        message = ngettext(
            "Too many requests. Please try again in %(seconds)d second.",
            "Too many requests. Please try again in %(seconds)d seconds.",
            wait,
        ) % {"seconds": wait}
        refused = Throttled(detail=message)  # given the wait, DRF would add its own sentence
        refused.wait = wait  # Retry-After
        raise refused


def client_network(request: Request) -> str:
    """The address the ASGI server saw (REMOTE_ADDR: a trusted proxy's X-Forwarded-For is applied
    there, never here), an IPv6 one cut to its /64."""
    address = request.META.get("REMOTE_ADDR") or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False).network_address)
    return str(ip)
