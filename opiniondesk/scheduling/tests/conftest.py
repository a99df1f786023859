import pytest

from opiniondesk.scheduling.tests import factories


@pytest.fixture
def accepted(patient_hana, coordinator_sato, dr_tanaka):
    """Hana's own online cardiology application, accepted by Dr Tanaka."""
    return factories.accepted_case(patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka)
