"""The error pages (SPEC §13): 400, 403, 404, 500 and the CSRF failure in the site's layout, in
Japanese (English when chosen), with a way back and the phone number."""

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client, RequestFactory, override_settings
from django.urls import path

from config.urls import urlpatterns as site_urls
from opiniondesk.api import errors

pytestmark = pytest.mark.django_db


def _refused(request):
    raise PermissionDenied


def _bad(request):
    raise SuspiciousOperation("a made-up header")


def _broken(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("refused/", _refused),
    path("bad/", _bad),
    path("broken/", _broken),
    *site_urls,
]
handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error

PHONE = settings.HOSPITAL["phone"]


def _page(response, status: int) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'class="site-header"' in html  # the site's layout
    assert PHONE in html  # the phone desk
    assert 'href="/"' in html  # a way back
    assert "Content-Security-Policy" in response.headers
    return html


@pytest.mark.parametrize(
    ("url", "status", "japanese", "english"),
    [
        ("/no-such-page/", 404, "ページが見つかりません", "Page not found"),
        ("/refused/", 403, "このページは表示できません", "You cannot open this page"),
        ("/bad/", 400, "リクエストを処理できませんでした", "The request could not be handled"),
    ],
)
@override_settings(ROOT_URLCONF=__name__)
def test_each_error_page_is_in_japanese_or_english_with_a_way_back(url, status, japanese, english):
    assert japanese in _page(Client().get(url, secure=True), status)
    english_page = Client(headers={"Accept-Language": "en"}).get(url, secure=True)
    assert english in _page(english_page, status)


@override_settings(ROOT_URLCONF=__name__)
def test_the_server_error_page_is_in_the_layout(patient_hana):
    client = Client(raise_request_exception=False)
    client.force_login(patient_hana)
    html = _page(client.get("/broken/", secure=True), 500)
    assert "システムで問題が発生しました" in html
    assert "/dashboard/" in html  # a signed-in patient goes back to her applications


def test_the_server_error_page_answers_even_when_the_layout_cannot(monkeypatch):
    def layout_broken(*args, **kwargs):
        raise RuntimeError("the template itself fails")

    monkeypatch.setattr(errors, "render", layout_broken)
    response = errors.server_error(RequestFactory().get("/broken/", secure=True))
    assert response.status_code == 500
    assert PHONE in response.content.decode()


def test_an_expired_form_gets_the_csrf_page(client, patient_hana):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient_hana)
    response = client.post("/accounts/logout/", secure=True)
    html = _page(response, 403)
    assert "フォームの有効期限が切れました" in html
