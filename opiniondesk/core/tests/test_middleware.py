"""ClientGoneMiddleware: a body that stopped arriving is a 400 and an info line, not a 500."""

import logging

from django.http import UnreadablePostError
from django.test import RequestFactory

from opiniondesk.core.middleware import ClientGoneMiddleware


def _middleware():
    return ClientGoneMiddleware(lambda request: None)


def test_a_body_that_stopped_arriving_is_a_400_logged_as_info(caplog):
    caplog.set_level(logging.INFO, logger="opiniondesk.core.middleware")
    request = RequestFactory().post("/api/v1/cases/1/documents")
    response = _middleware().process_exception(request, UnreadablePostError("gone"))
    assert response.status_code == 400
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "The client stopped sending its request body: POST /api/v1/cases/1/documents")
    ]


def test_other_exceptions_go_on_to_djangos_handling():
    request = RequestFactory().post("/")
    assert _middleware().process_exception(request, OSError("disk full")) is None
    assert _middleware().process_exception(request, ValueError("bug")) is None


def test_it_is_the_innermost_middleware(settings):
    assert settings.MIDDLEWARE[-1] == "opiniondesk.core.middleware.ClientGoneMiddleware"
