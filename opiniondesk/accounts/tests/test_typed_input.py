"""Japanese input as typed on the account pages (SPEC §13, #16 item 1): an e-mail address typed
in full width signs up and signs in as the plain address; the password is read as typed."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from opiniondesk.accounts.models import Role, User

pytestmark = pytest.mark.django_db

PASSWORD = "my-garden-2026-blue"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ｍｉｋａ＠ｅｘａｍｐｌｅ．ｊｐ", "mika@example.jp"),
        ("\u3000mika@example.jp\u3000", "mika@example.jp"),
    ],
)
def test_a_full_width_address_signs_up_as_the_plain_one(client, typed, stored):
    response = client.post(
        reverse("account_signup"), {"email": typed, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(email=stored).emailaddress_set.get().email == stored


def test_a_full_width_address_signs_in(client):
    user = User.objects.create_user("mika_y", "mika@example.jp", PASSWORD, role=Role.PATIENT)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    response = client.post(
        reverse("account_login"), {"login": "ｍｉｋａ＠ｅｘａｍｐｌｅ．ｊｐ", "password": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_password_is_read_exactly_as_typed(client):
    typed = "ｐｗ-2026-blue-garden"  # full-width letters: not made plain
    user = User.objects.create_user("mika_y", "mika@example.jp", typed, role=Role.PATIENT)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    login = reverse("account_login")
    client.post(login, {"login": "mika@example.jp", "password": "pw-2026-blue-garden"})
    assert "_auth_user_id" not in client.session
    client.post(login, {"login": "mika@example.jp", "password": typed})
    assert client.session["_auth_user_id"] == str(user.pk)
