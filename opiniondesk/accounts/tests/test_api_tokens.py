"""API tokens made and revoked by administrators (SPEC §12): the secret is shown once and only
its hash is kept; every change is audited; only administrators manage them."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from opiniondesk.accounts import services
from opiniondesk.accounts.mfa import enrol_demo_factor
from opiniondesk.accounts.models import ApiToken
from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.core.tokens import token_hash

ADD_URL = "/admin/accounts/apitoken/add/"
LIST_URL = "/admin/accounts/apitoken/"


def make(admin, user, scopes=("charges:read",), **changes):
    fields = {"name": "EMR", "user": user, "scopes": list(scopes), "expires_at": None}
    return services.api_token_create(**(fields | changes), actor=admin)


def test_a_token_keeps_only_the_hash_of_its_secret(admin_kato, billing_ito):
    token, secret = make(admin_kato, billing_ito, scopes=["charges:write", "charges:read"])
    assert re.fullmatch(r"odk_[A-Za-z0-9_-]{43}", secret)
    token.refresh_from_db()
    assert token.key_hash == token_hash(secret)
    assert secret not in str(
        ApiToken.objects.filter(pk=token.pk).values().get()
    )  # no column holds the secret
    assert token.prefix == secret[:12]
    assert token.scopes == ["charges:read", "charges:write"]  # in the vocabulary's order
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_id=str(token.pk))
    assert event.user == admin_kato
    assert event.detail["acts_as"] == "billing_ito"
    assert secret not in str(event.detail)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"name": "  "}, "name"),
        ({"scopes": []}, "scopes"),
        ({"scopes": ["charges:read", "root"]}, "scopes"),
        ({"expires_at": "past"}, "expires_at"),
        ({"user": "patient"}, "user"),
    ],
)
def test_a_bad_request_makes_no_token(admin_kato, billing_ito, patient_hana, changes, code):
    if changes.get("expires_at") == "past":
        changes["expires_at"] = timezone.now() - timedelta(minutes=1)
    user = patient_hana if changes.pop("user", None) == "patient" else billing_ito
    with pytest.raises(services.TokenError) as caught:
        make(admin_kato, user, **changes)
    assert caught.value.code == code
    assert not ApiToken.objects.exists()


def test_only_administrators_make_or_revoke_tokens(admin_kato, coordinator_sato, billing_ito):
    with pytest.raises(services.TokenError):
        make(coordinator_sato, billing_ito)
    token, _secret = make(admin_kato, billing_ito)
    with pytest.raises(services.TokenError):
        services.api_token_revoke(token_id=token.pk, actor=coordinator_sato)
    assert ApiToken.objects.get().revoked_at is None


def test_revoking_is_recorded_once(admin_kato, billing_ito):
    token, _secret = make(admin_kato, billing_ito)
    services.api_token_revoke(token_id=token.pk, actor=admin_kato)
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == admin_kato
    with pytest.raises(services.TokenError) as caught:
        services.api_token_revoke(token_id=token.pk, actor=admin_kato)
    assert caught.value.code == "state"
    events = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(token.pk))
    assert [e.detail["revoked"] for e in events] == [True]


@pytest.fixture
def admin_client(admin_kato):
    enrol_demo_factor(admin_kato)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(admin_kato)
    return client


def test_the_admin_page_shows_the_secret_once(admin_client, billing_ito):
    response = admin_client.post(
        ADD_URL,
        {"name": "Accounting system", "user": billing_ito.pk, "scopes": ["charges:read"]},
        secure=True,
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    (secret,) = re.findall(r'value="(odk_[^"]+)"', response.content.decode())
    assert token.key_hash == token_hash(secret)
    # Nowhere else: not on the list, not on the token's page.
    for url in (LIST_URL, f"{LIST_URL}{token.pk}/change/"):
        page = admin_client.get(url, secure=True)
        assert page.status_code == 200
        assert token.prefix in page.content.decode()
        assert secret not in page.content.decode()


def test_the_admin_form_refuses_bad_input(admin_client, billing_ito):
    response = admin_client.post(
        ADD_URL, {"name": "x", "user": billing_ito.pk, "scopes": ["admin:all"]}, secure=True
    )
    assert response.status_code == 200
    assert "odk_" not in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_admin_revokes_selected_tokens(admin_client, admin_kato, billing_ito):
    token, _secret = make(admin_kato, billing_ito)
    response = admin_client.post(
        LIST_URL, {"action": "revoke", "_selected_action": [token.pk]}, secure=True
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_by == admin_kato


def test_other_staff_cannot_open_the_token_pages(coordinator_sato):
    enrol_demo_factor(coordinator_sato)
    coordinator_sato.is_staff = True  # even with access to the admin site
    coordinator_sato.save()
    client = Client()
    client.force_login(coordinator_sato)
    assert client.get(ADD_URL, secure=True).status_code in (302, 403)
    assert client.get(LIST_URL, secure=True).status_code in (302, 403)
