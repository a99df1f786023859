"""The admin site's scheduling pages: absences and extra sessions can be edited, with the same
checks as the coordinators' forms; offers and bookings can only be looked at."""

import pytest
from django.urls import reverse

from opiniondesk.catalog.models import Department
from opiniondesk.scheduling.models import Away, Booking, ExtraSession, Offer, OfferedSlot
from opiniondesk.scheduling.services import booking_create
from opiniondesk.scheduling.tests import factories, test_staff_offer

pytestmark = pytest.mark.django_db

_now = test_staff_offer._now  # Wednesday 25 November 2026, 10:00 JST


@pytest.fixture
def booking(accepted, coordinator_sato, patient_hana):
    offer = factories.offer(accepted, coordinator_sato, factories.free_slots(accepted, limit=1))
    return booking_create(
        case_id=accepted.pk, actor=patient_hana, offered_slot_id=offer.slots.get().pk
    )


def add(admin_client, model: str, data: dict):
    return admin_client.post(
        reverse(f"admin:scheduling_{model}_add"), data, HTTP_ACCEPT_LANGUAGE="en"
    )


def test_it_adds_an_absence(admin_client, dr_tanaka):
    response = add(
        admin_client,
        "away",
        {"specialist": dr_tanaka.pk, "day": "2026-12-03", "starts_at": "14:00",
         "ends_at": "15:00"},
    )  # fmt: skip

    assert response.status_code == 302
    assert Away.objects.get().specialist == dr_tanaka


@pytest.mark.parametrize(
    ("times", "said"),
    [
        (("15:00", "14:00"), "The end must be after the start."),
        (("15:00", "15:00"), "The end must be after the start."),
        (("15:00", ""), "Give both times, or neither for the whole day."),
    ],
)
def test_it_refuses_an_absence_that_ends_before_it_starts(admin_client, dr_tanaka, times, said):
    response = add(
        admin_client,
        "away",
        {"specialist": dr_tanaka.pk, "day": "2026-12-03", "starts_at": times[0],
         "ends_at": times[1]},
    )  # fmt: skip

    assert response.status_code == 200
    assert said in response.content.decode()
    assert not Away.objects.exists()


def test_it_refuses_an_absence_over_a_booking(admin_client, booking):
    response = add(admin_client, "away", {"specialist": booking.specialist_id, "day": "2026-12-01"})

    assert response.status_code == 200
    assert "Move or cancel them first." in response.content.decode()
    assert not Away.objects.exists()


def _extra(dr_tanaka, **changes):
    return {
        "specialist": dr_tanaka.pk,
        "department": Department.objects.get(code="cardiology").pk,
        "day": "2026-12-02",
        "starts_at": "10:00",
        "ends_at": "11:00",
    } | changes


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"starts_at": "11:00"}, "The end must be after the start."),
        ({"day": "2026-12-31"}, "The hospital is closed on 2026-12-31"),
        ({"department": "neurology"}, "does not see patients of this department"),
    ],
)
def test_it_refuses_a_bad_extra_session(admin_client, dr_tanaka, changes, said):
    if changes.get("department") == "neurology":
        changes["department"] = Department.objects.get(code="neurology").pk

    response = add(admin_client, "extrasession", _extra(dr_tanaka, **changes))

    assert response.status_code == 200
    assert said in response.content.decode()
    assert not ExtraSession.objects.exists()


def test_it_keeps_an_extra_session_with_a_booking_in_it(
    admin_client, dr_tanaka, coordinator_sato, patient_hana, accepted
):
    assert add(admin_client, "extrasession", _extra(dr_tanaka, day="2026-11-30")).status_code == 302
    session = ExtraSession.objects.get()
    offer = factories.offer(accepted, coordinator_sato, factories.free_slots(accepted, limit=1))
    booking_create(case_id=accepted.pk, actor=patient_hana, offered_slot_id=offer.slots.get().pk)

    delete = admin_client.post(
        reverse("admin:scheduling_extrasession_delete", args=[session.pk]), {"post": "yes"}
    )
    moved = admin_client.post(
        reverse("admin:scheduling_extrasession_change", args=[session.pk]),
        _extra(dr_tanaka, day="2026-12-02"),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert delete.status_code == 403
    assert moved.status_code == 200 and "Move or cancel them first." in moved.content.decode()
    session.refresh_from_db()
    assert str(session.day) == "2026-11-30"


@pytest.mark.parametrize("model", [Offer, OfferedSlot, Booking])
def test_it_shows_offers_and_bookings_read_only(admin_client, booking, model):
    name = model._meta.model_name
    obj = model.objects.first()

    assert admin_client.get(reverse(f"admin:scheduling_{name}_changelist")).status_code == 200
    assert (
        admin_client.get(reverse(f"admin:scheduling_{name}_change", args=[obj.pk])).status_code
        == 200
    )
    assert admin_client.get(reverse(f"admin:scheduling_{name}_add")).status_code == 403
    assert (
        admin_client.post(reverse(f"admin:scheduling_{name}_change", args=[obj.pk]), {}).status_code
        == 403
    )
    assert (
        admin_client.post(
            reverse(f"admin:scheduling_{name}_delete", args=[obj.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert model.objects.filter(pk=obj.pk).exists()


def test_it_keeps_words_about_the_patient_out_of_the_admin(admin_client, booking):
    offer = Offer.objects.get()
    offer.message = "Secret words for Hana"
    offer.save(update_fields=["message"])

    html = admin_client.get(reverse("admin:scheduling_offer_change", args=[offer.pk])).content

    assert b"Secret words for Hana" not in html
