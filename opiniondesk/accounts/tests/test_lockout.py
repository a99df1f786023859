"""The login lockout: one budget per account (user name and e-mail alike) and per address, kept
where every worker process sees it, and a message that says how long to wait."""

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.urls import reverse
from django.utils import translation

from opiniondesk.accounts import lockout
from opiniondesk.accounts.adapter import AccountAdapter
from opiniondesk.accounts.models import Role, User
from opiniondesk.core.models import CacheEntry

PASSWORD = "correct-horse-battery-9"


@pytest.mark.parametrize(
    ("account_id", "typed", "key"),
    [
        (7, "hana", "account:7"),
        (7, "Hana@Example.JP", "account:7"),
        (None, " Nobody@Example.jp ", "login:nobody@example.jp"),
        (None, "ＨＡＮＡ", "login:hana"),  # full-width letters, as a Japanese keyboard types them
    ],
)
def test_it_names_the_budget(account_id, typed, key):
    assert lockout.login_key(account_id, typed) == key


def window(amount, seconds, *ages):
    return lockout.Window(amount, seconds, [1000.0 - age for age in ages])


@pytest.mark.parametrize(
    ("windows", "wait"),
    [
        ([], 0),
        ([window(5, 300, 10, 20, 30, 40)], 0),  # four of five
        ([window(5, 300, 10, 20, 30, 40, 50)], 250),  # the oldest of five ages out first
        ([window(5, 300, 10, 20, 30, 40, 50, 60)], 250),  # the fifth newest, not the oldest
        ([window(5, 300, 10, 20, 30, 40, 300)], 0),  # one already out of the window
        ([window(10, 60, *range(10)), window(5, 300, 1, 2)], 51),  # the address's limit
        ([window(10, 60, *range(10)), window(5, 300, *range(5))], 296),  # the longer one
    ],
)
def test_it_says_how_long_to_wait(windows, wait):
    assert lockout.seconds_to_wait(windows, now=1000.0) == pytest.approx(wait)


@pytest.mark.parametrize(("seconds", "minutes"), [(0, 1), (1, 1), (60, 1), (61, 2), (296, 5)])
def test_it_rounds_the_wait_up_to_minutes(seconds, minutes):
    assert lockout.minutes_to_wait(seconds) == minutes


@pytest.fixture
def abe(db):
    user = User.objects.create_user("abe", "abe@example.jp", PASSWORD, role=Role.PATIENT)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def sign_in(client, login, password):
    return client.post(
        reverse("account_login"),
        {"login": login, "password": password},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def signed_in(response):
    return response.status_code == 302


def test_the_user_name_and_the_e_mail_address_share_one_budget(client, abe):
    for login in ("abe", "ABE@example.jp", "abe", "abe@example.jp", "Abe"):
        assert not signed_in(sign_in(client, login, "wrong"))
    response = sign_in(client, "abe@example.jp", PASSWORD)
    assert not signed_in(response)
    assert "Please try again in 5 minutes." in response.content.decode()


def test_a_right_password_gives_back_its_try(client, abe):
    for _ in range(4):
        sign_in(client, "abe", "wrong")
    assert signed_in(sign_in(client, "abe@example.jp", PASSWORD))
    client.logout()
    assert signed_in(sign_in(client, "abe", PASSWORD))


def test_another_worker_sees_the_same_count(client, abe):
    """A worker process has its own cache connection and shares only the database with the
    others (with Redis, only Redis): a new connection stands for the second worker."""
    assert isinstance(caches["default"], DatabaseCache)
    for _ in range(3):
        sign_in(client, "abe", "wrong")
    assert CacheEntry.objects.exists()  # the count is in the database, not in this process

    first = caches["default"]
    caches["default"] = caches.create_connection("default")
    try:
        assert caches["default"] is not first
        for _ in range(2):
            sign_in(client, "abe@example.jp", "wrong")
        assert not signed_in(sign_in(client, "abe", PASSWORD))
    finally:
        caches["default"] = first


def test_one_address_is_limited_across_accounts(client, db):
    for number in range(10):
        assert not signed_in(sign_in(client, f"nobody{number}", "wrong"))
    response = sign_in(client, "nobody10", "wrong")
    assert "Please try again in 1 minute." in response.content.decode()


def test_the_second_factor_s_limit_says_the_longest_wait():
    # allauth.mfa counts wrong codes under the same rates but reports no counts: the longest
    # window (5 minutes) is the most anyone waits.
    with translation.override("en"):
        error = AccountAdapter().validation_error("too_many_login_attempts")
    assert error.messages == ["Too many failed sign-ins. Please try again in 5 minutes."]
