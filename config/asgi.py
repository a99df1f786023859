"""ASGI entry point: HTTP through Django, WebSockets through Channels (routes from each app's
routing.py)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# What django.core.asgi.get_asgi_application() does, with Django's handler subclassed to
# stream uploads and spool other request bodies our way (opiniondesk.core.asgi).
django.setup(set_prefix=False)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from opiniondesk.consults import routing as consults_routing  # noqa: E402
from opiniondesk.core.asgi import BodySizeLimit, NoSuchSocket, StreamingASGIHandler  # noqa: E402
from opiniondesk.core.logs import RequestIdASGI  # noqa: E402
from opiniondesk.readiness import routing as readiness_routing  # noqa: E402

django_asgi_app = StreamingASGIHandler()

websocket_urlpatterns: list = [
    *readiness_routing.websocket_urlpatterns,
    *consults_routing.websocket_urlpatterns,
    re_path(r"", NoSuchSocket()),
]

# Outermost: the request id covers everything logged for a request or a WebSocket.
application = RequestIdASGI(
    ProtocolTypeRouter(
        {
            "http": BodySizeLimit(django_asgi_app, max_bytes=settings.REQUEST_MAX_BYTES),
            # Consumers see the signed-in user of the Django session cookie (scope["user"]).
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
            ),
        }
    )
)
