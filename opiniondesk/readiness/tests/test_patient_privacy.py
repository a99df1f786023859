"""When a family member applied, the patient accepts the privacy policy with their own account
before the consult (SPEC §6): an item of the readiness checklist."""

import pytest
from django.test import Client
from django.urls import reverse

from opiniondesk.cases.workflow import Status
from opiniondesk.readiness.models import PatientPrivacyAcceptance
from opiniondesk.readiness.rules import Item
from opiniondesk.readiness.selectors import readiness_checklist
from opiniondesk.testing.builders import case_in, prepare

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _state(case, item):
    return next(s for s in readiness_checklist(case) if s.item == item)


def test_the_patient_accepts_with_her_own_account_and_only_then_the_case_is_ready(
    proxy_ken, patient_hana, coordinator_sato
):
    case = case_in(Status.ACCEPTED, relation="child", patient_account=patient_hana)
    state = _state(case, Item.PATIENT_PRIVACY)
    assert state.required and not state.done
    staff = _client(coordinator_sato).get(reverse("staff-case", args=[case.pk])).content.decode()
    assert 'data-item="patient_privacy" data-done="false"' in staff

    url = reverse("case-patient-privacy", args=[case.pk])
    ken = _client(proxy_ken)
    assert 'id="who-agrees"' in ken.get(url).content.decode()
    assert ken.post(url, {"version": "demo-1"}).status_code == 403
    assert not PatientPrivacyAcceptance.objects.exists()

    hana = _client(patient_hana)
    detail = hana.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert 'data-item="patient_privacy" data-state="todo"' in detail and url in detail
    assert 'id="agree"' in hana.get(url).content.decode()
    hana.post(url, {"version": "old"})  # a text no longer on the page is not agreed to
    assert not PatientPrivacyAcceptance.objects.exists()
    assert hana.post(url, {"version": "demo-1"}).status_code == 302
    accepted = PatientPrivacyAcceptance.objects.get()
    assert (accepted.case, accepted.accepted_by, accepted.policy.version) == (
        case,
        patient_hana,
        "demo-1",
    )
    assert _state(case, Item.PATIENT_PRIVACY).done
    assert 'id="accepted"' in hana.get(url).content.decode()


def test_a_patient_who_applied_herself_has_nothing_more_to_accept(patient_hana):
    case = case_in(Status.ACCEPTED)
    assert not _state(case, Item.PATIENT_PRIVACY).required


def test_a_family_case_is_prepared_through_the_patients_acceptance(patient_hana, dr_tanaka):
    case = prepare(case_in(Status.ACCEPTED, relation="child", patient_account=patient_hana))
    assert case.status == Status.READY
    assert PatientPrivacyAcceptance.objects.filter(case=case, accepted_by=patient_hana).exists()
