# The personas and the wizard helper live with the cases tests.
from opiniondesk.cases.tests.conftest import (  # noqa: F401
    coordinator_sato,
    dr_mori,
    dr_tanaka,
    outsider_eve,
    policy,
    proxy_ken,
    wizard_for,
)
