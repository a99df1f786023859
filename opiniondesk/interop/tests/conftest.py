"""Fixtures of the interop tests: a case whose consult ended and whose fee was paid at the desk,
applied for by Ken (Hana's son) who attends with her: every resource of the export has a row."""

import pytest
from django.test import Client

from opiniondesk.billing import services as billing
from opiniondesk.billing.models import Charge
from opiniondesk.cases.models import Case, Proxy
from opiniondesk.demo.cases import KEN, KEN_ATTENDS
from opiniondesk.testing.builders import completed_case


def charged_case(billing_clerk, *, mode: str = "online", **patient) -> Case:
    """A completed online consult, its fee collected in cash (a receipt issued); the application
    made by Ken for Hana, Ken attending. `patient` overrides the patient's fields."""
    case = completed_case(mode=mode)
    Case.objects.filter(pk=case.pk).update(applicant_relation="child", **KEN, **patient)
    Proxy.objects.create(case=case, position=0, **KEN_ATTENDS)
    billing.collect(charge_id=Charge.objects.get(case=case).pk, actor=billing_clerk, method="cash")
    case.refresh_from_db()
    return case


@pytest.fixture
def charged(seeded, billing_ito) -> Case:
    return charged_case(billing_ito)


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client
