"""The checklist's facts of many cases read at once (`snapshots`, the dashboard and the case
pages) agree with the one-case selectors, in a fixed number of queries."""

import pytest

from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import jst_today
from opiniondesk.readiness.models import ConsentForm
from opiniondesk.readiness.selectors import (
    consent_signature,
    device_check_passed,
    open_invitation,
    snapshots,
)
from opiniondesk.testing.builders import case_in, ready_case

pytestmark = pytest.mark.django_db


def _agree(cases):
    found = snapshots(cases)
    for case in cases:
        snap = found[case.pk]
        assert snap.facts.consent_signed is (consent_signature(case) is not None)
        assert snap.facts.device_check_passed is device_check_passed(case)
        assert snap.invitation_open is (open_invitation(case) is not None)
    return found


def test_snapshots_agree_with_the_one_case_selectors_in_seven_queries(django_assert_num_queries):
    ready, accepted = ready_case(), case_in(Status.ACCEPTED)
    cases = [ready, accepted, case_in(Status.SUBMITTED)]

    with django_assert_num_queries(7):
        snapshots(cases)
    found = _agree(cases)

    assert found[ready.pk].facts.consent_signed and found[ready.pk].facts.device_check_passed
    assert not found[accepted.pk].facts.consent_signed
    assert not found[accepted.pk].facts.device_check_passed


def test_a_newer_consent_form_asks_for_a_new_signature():
    ready = ready_case()
    signed = consent_signature(ready).form
    ConsentForm.objects.create(
        version=f"{signed.version}-new", effective_from=jst_today(), text_ja=signed.text_ja
    )

    found = _agree([ready])

    assert not found[ready.pk].facts.consent_signed
    assert found[ready.pk].facts.device_check_passed
