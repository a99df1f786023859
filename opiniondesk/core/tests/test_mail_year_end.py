"""The year-end dates in the mails come from the closure setting (CLOSURE_YEAR_END_START /
_END), through the one phone line every mail ends with (issue #16 item 12)."""

import pytest
from django.utils import translation

from opiniondesk.cases.workflow import Status
from opiniondesk.core.mail import email_message
from opiniondesk.testing.builders import case_in

pytestmark = pytest.mark.django_db

TEMPLATES = [
    "cases/email/applicant_case_submitted",
    "cases/email/applicant_case_update",
    "cases/email/applicant_documents_requested",
    "scheduling/email/offer_expired",
]


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_mails_show_the_closure_the_setting_gives(template, settings, seeded):
    settings.CLOSURE_YEAR_END = ("12-27", "01-05")
    case = case_in(Status.SUBMITTED)
    with translation.override("ja"):
        body = email_message(template, {"case": case}, ["hana@example.jp"]).body
    assert "12月27日~1月5日" in body, body
    assert "12月29日" not in body and "1月3日" not in body
    with translation.override("en"):
        body = email_message(template, {"case": case}, ["hana@example.jp"]).body
    assert "27 December – 5 January" in body, body
    assert settings.HOSPITAL["phone"] in body


def test_the_default_closure_is_29_december_to_3_january(seeded):
    case = case_in(Status.SUBMITTED)
    with translation.override("ja"):
        body = email_message(TEMPLATES[0], {"case": case}, ["hana@example.jp"]).body
    assert "12月29日~1月3日" in body


def test_a_change_on_the_day_is_offered_in_the_scheduling_mails(seeded):
    case = case_in(Status.SUBMITTED)
    with translation.override("en"):
        body = email_message(TEMPLATES[3], {"case": case}, ["hana@example.jp"]).body
    assert "Questions, or a change on the day:" in body


def test_the_account_mails_show_the_closure_the_setting_gives(settings, seeded, mailoutbox):
    """allauth's mails (sign-up, reset) end with the same phone line."""
    from opiniondesk.accounts.adapter import AccountAdapter

    settings.CLOSURE_YEAR_END = ("12-27", "01-05")
    message = AccountAdapter().render_mail(
        "account/email/unknown_account", "nobody@example.jp", {"email": "nobody@example.jp"}
    )
    assert "12月27日~1月5日" in message.body and "27 December – 5 January" in message.body
    assert "12月29日" not in message.body
