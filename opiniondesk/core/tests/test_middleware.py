"""The core middleware: a body that stopped arriving is a 400 and an info line, not a 500; an
answer that may hold personal data is never stored; a refused request is one warning line."""

import logging

import pytest
from django.http import HttpResponse, UnreadablePostError
from django.test import RequestFactory

from opiniondesk.core.middleware import ClientGoneMiddleware, PrivateAnswerMiddleware


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


# --- PrivateAnswerMiddleware: no-store on what may hold someone's data --------------------------


def _answer(path="/", *, user=None, cookies=None, vary=None):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get(path)
    request.user = user or AnonymousUser()
    request.COOKIES.update(cookies or {})
    response = HttpResponse("page")
    if vary:
        response["Vary"] = vary
    return PrivateAnswerMiddleware(lambda request: response)(request)


class SignedIn:
    is_authenticated = True
    pk = 7


@pytest.mark.parametrize(
    ("path", "user", "cookies", "vary", "stored"),
    [
        ("/", None, None, "Cookie", True),  # a visitor without a session: cacheable
        ("/fees/", None, {"sessionid": "x"}, None, True),  # a session the page did not read
        ("/check/", None, {"sessionid": "x"}, "Cookie", False),  # the page depends on it
        ("/", SignedIn(), None, None, False),
        ("/api/v1/departments", None, None, None, False),  # every API answer
    ],
)
def test_no_store_when_the_answer_may_be_personal(path, user, cookies, vary, stored):
    response = _answer(path, user=user, cookies=cookies, vary=vary)
    control = response.get("Cache-Control", "")
    assert ("no-store" not in control) is stored
    if not stored:
        assert "private" in control


# --- RefusalLogMiddleware: a refused request is one warning line --------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "path", "status"),
    [
        ("patient_hana", "/cases/999999/", 404),  # someone else's, or no, case: the same answer
        ("patient_hana", "/staff/queue/", 403),
        ("coordinator_sato", "/api/v1/cases/999999?name=Yamada", 404),
        (None, "/no-such-page/", 404),
    ],
)
def test_a_refusal_is_one_warning_without_personal_data(username, path, status, caplog, seeded):
    from django.test import Client

    from opiniondesk.testing.personas import persona

    client = Client(REMOTE_ADDR="192.0.2.7")
    user = persona(username) if username else None
    if user:
        client.force_login(user)
    caplog.set_level(logging.INFO)
    assert client.get(path).status_code == status
    lines = [r for r in caplog.records if getattr(r, "status_code", None) == status]
    # django.request's own line (with a traceback for a 403) is filtered out in LOGGING.
    assert [(r.name, r.levelname, r.exc_info) for r in lines] == [
        ("opiniondesk.security", "WARNING", None)
    ]
    who, bare = (user.pk if user else None), path.split("?")[0]
    assert lines[0].getMessage() == f"Refused {status} GET {bare} user={who} from=192.0.2.7"
    assert "Yamada" not in caplog.text


def test_the_refusal_log_and_no_store_wrap_the_session(settings):
    order = settings.MIDDLEWARE
    session = order.index("django.contrib.sessions.middleware.SessionMiddleware")
    assert order.index("opiniondesk.core.middleware.PrivateAnswerMiddleware") < session
    assert order.index("opiniondesk.core.middleware.RefusalLogMiddleware") < session
    assert "django.middleware.csp.ContentSecurityPolicyMiddleware" in order
    # A redirect to sign in again becomes htmx's own: outside the session's timeout.
    htmx = order.index("opiniondesk.core.middleware.HtmxRedirectMiddleware")
    assert htmx < order.index("opiniondesk.accounts.middleware.SessionTimeoutMiddleware")
