"""Demo cases whose consult took place (in person), for the billing desk (issue #12): one fee
paid at the desk with its receipt, one still due. Made through the services the pages use.
Demo mode only.

The consults are held on the day `make run` loads the demo (the booked date is later): the
specialist records the start and the end at once, so the fee counts the 20 minutes of review.
"""

from opiniondesk.accounts.models import User
from opiniondesk.billing.models import CollectMethod
from opiniondesk.billing.services import collect
from opiniondesk.cases.models import Case
from opiniondesk.consults.services import visit_end, visit_start
from opiniondesk.demo.cases import Staff, make_each
from opiniondesk.demo.schedule import accepted, book_first, offer, upload_id
from opiniondesk.readiness.rules import IdType
from opiniondesk.readiness.services import identity_review


def _consulted(patient: User, staff: Staff) -> Case:
    case = accepted(patient, staff)
    offer(case, staff, count=1, skip=1)
    book_first(case, patient)
    identity_review(
        document_id=upload_id(case, patient, IdType.DRIVERS_LICENCE),
        actor=staff["sato"],
        verified=True,
    )
    specialist = _specialist(case, staff)
    visit_start(case_id=case.pk, actor=specialist)
    visit_end(case_id=case.pk, actor=specialist)
    return case


def _specialist(case: Case, staff: Staff) -> User:
    return staff["mori"] if case.department.code == "neurology" else staff["tanaka"]


def _tomoko_paid(tomoko: User, staff: Staff) -> None:
    """Paid at the desk by card terminal: the case is charged and her receipt is on her page."""
    case = _consulted(tomoko, staff)
    ito = User.objects.get(username="billing_ito")
    collect(charge_id=case.charge.pk, actor=ito, method=CollectMethod.TERMINAL)


def _shigeru_due(shigeru: User, staff: Staff) -> None:
    """The consult is over; the fee waits at the billing desk."""
    _consulted(shigeru, staff)


DEMO_BILLING = [
    ("patient_tomoko", "cardiology", _tomoko_paid),
    ("patient_shigeru", "neurology", _shigeru_due),
]


def load_demo_billing() -> None:
    make_each(DEMO_BILLING)
