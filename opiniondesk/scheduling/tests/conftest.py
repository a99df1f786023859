import pytest

from opiniondesk.accounts.models import Role
from opiniondesk.demo.texts import load_privacy_policy
from opiniondesk.scheduling.tests import factories


@pytest.fixture
def people(demo_catalog):
    load_privacy_policy()
    return {
        "sato": factories.user("coordinator_sato", Role.COORDINATOR),
        "tanaka": factories.user("dr_tanaka", Role.SPECIALIST, "cardiology"),
        "kato": factories.user("dr_kato", Role.SPECIALIST, "cardiology"),
        "hana": factories.user("patient_hana", Role.PATIENT, first_name="花", last_name="山田"),
        "ken": factories.user("proxy_ken", Role.PATIENT, first_name="健", last_name="山田"),
        "eve": factories.user("outsider_eve", Role.PATIENT),
    }


@pytest.fixture
def accepted(people):
    return factories.accepted_case(
        people["hana"], coordinator=people["sato"], specialist=people["tanaka"]
    )


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service as a request would: its after-commit work (tasks, mails) happens."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run
