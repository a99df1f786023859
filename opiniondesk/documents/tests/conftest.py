# The wizard helper lives with the cases tests; the personas in opiniondesk/testing.
from opiniondesk.cases.tests.conftest import wizard_for  # noqa: F401
