"""Withdrawing an application with dates offered: confirmed by a tick, and the held dates are freed.
(A booked consult is cancelled instead: the page offers no withdrawal once booked.)"""

import pytest
from django.test import Client
from django.urls import reverse

from opiniondesk.cases.workflow import Status
from opiniondesk.scheduling.models import OfferedSlot
from opiniondesk.scheduling.tests import factories

pytestmark = pytest.mark.django_db


def test_withdrawing_needs_the_tick_and_frees_the_held_dates(
    coordinator_sato, patient_hana, accepted
):
    factories.offer(accepted, coordinator_sato, factories.free_slots(accepted, limit=2))
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(patient_hana)
    page = client.get(reverse("case-detail", args=[accepted.pk])).content.decode()
    assert 'id="withdraw-confirm"' in page

    url = reverse("case-withdraw", args=[accepted.pk])
    client.post(url, {"reason": "家族で相談しました"})
    accepted.refresh_from_db()
    assert accepted.status == Status.OFFERED
    assert OfferedSlot.objects.filter(offer__case=accepted, released_at__isnull=True).count() == 2

    client.post(url, {"reason": "家族で相談しました", "confirm": "1"})
    accepted.refresh_from_db()
    assert accepted.status == Status.WITHDRAWN
    assert not OfferedSlot.objects.filter(offer__case=accepted, released_at__isnull=True).exists()


def test_a_booked_consult_is_cancelled_not_withdrawn(
    proxy_ken, coordinator_sato, dr_tanaka, accepted
):
    [slot] = factories.free_slots(accepted, limit=1)
    booking = factories.booked_case(
        proxy_ken, coordinator=coordinator_sato, specialist=dr_tanaka, slot=slot
    )
    client = Client()
    client.force_login(proxy_ken)
    page = client.get(reverse("case-detail", args=[booking.case_id])).content.decode()
    assert 'id="withdraw-confirm"' not in page
    assert reverse("case-booking-cancel", args=[booking.case_id]) in page
