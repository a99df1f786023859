"""The coordinator's view of a booked case (SPEC §5): the live booking, moving it to a free or a
still-held date, cancelling it, the booking history, and the specialist's read-only view. Staff
may do this after the patient's own deadline. "Now" is Wednesday 25 November 2026, 10:00 JST;
Hana booked Tuesday 1 December 14:00 with Dr Tanaka."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.cases.workflow import Status
from opiniondesk.scheduling.models import Booking, CancelKind
from opiniondesk.scheduling.selectors import live_booking
from opiniondesk.scheduling.services import booking_create
from opiniondesk.scheduling.tests import factories, test_staff_offer
from opiniondesk.scheduling.tests.test_staff_offer import TUE, at, case_url, key, signed_in, written

pytestmark = pytest.mark.django_db

# The fixtures of the offer tests: "now", and the personas.
_now = test_staff_offer._now

THU = date(2026, 12, 3)


@pytest.fixture
def booked(accepted, coordinator_sato, dr_tanaka, patient_hana):
    """Hana's case offered Tuesday 14:00 (Tanaka) and 14:00 (Kato); she booked Tanaka's."""
    slots = factories.free_slots(accepted, limit=2)
    offer = factories.offer(accepted, coordinator_sato, slots)
    first = offer.slots.get(specialist=dr_tanaka)
    booking_create(case_id=accepted.pk, actor=patient_hana, offered_slot_id=first.pk)
    accepted.refresh_from_db()
    return accepted


def change(client, case, target, reason="The specialist has a conference.", seen=None):
    seen = seen or live_booking(case.pk).pk
    return client.post(
        reverse("staff-booking-change", args=[case.pk]),
        {"seen": seen, "target": target, "change_reason": reason},
    )


def cancel(client, case, reason="The patient called: admitted to hospital.", confirm="on"):
    data = {"seen": live_booking(case.pk).pk, "cancel_reason": reason}
    if confirm:
        data["confirm"] = confirm
    return client.post(reverse("staff-booking-cancel", args=[case.pk]), data)


def test_it_shows_the_live_booking(booked, coordinator_sato, dr_kato):
    client = signed_in(coordinator_sato)
    response = client.get(case_url(booked))

    html = response.content.decode()
    booking = live_booking(booked.pk)
    assert f'data-booking="{booking.pk}"' in html
    assert "Tuesday 1 December 2026, 14:00–14:30 (Japan time)" in html
    assert "田中 健一" in html and "Online (video call)" in html
    assert 'data-deadline-passed="false">2026-11-30 23:59' in html
    assert reverse("staff-booking-change", args=[booked.pk]) in html
    # Closed, the move form's dates are not searched nor the cancel form drawn: opened, htmx
    # loads the dates and the form; without JavaScript the filter's button and a link do.
    slots = reverse("staff-case-slots", args=[booked.pk])
    assert response.context["slots_deferred"] and f'hx-get="{slots}"' in html
    assert not response.context["change_choices"] and 'name="target"' not in html
    assert reverse("staff-booking-cancel", args=[booked.pk]) not in html
    opened = client.get(case_url(booked), {"open": "cancel"}).content.decode()
    assert reverse("staff-booking-cancel", args=[booked.pk]) in opened
    # The other date still held for the case can be chosen, next to the free ones.
    kato_held = booked.offers.get().slots.get(specialist=dr_kato)
    for listed in (
        client.get(slots, HTTP_HX_REQUEST="true"),
        client.get(case_url(booked), {"specialist": "", "start": ""}),  # the filter's button
    ):
        assert [value for value, __ in listed.context["held_choices"]] == [f"held:{kato_held.pk}"]
        assert f'value="held:{kato_held.pk}"' in listed.content.decode()
        assert listed.context["change_choices"]


def test_it_shows_the_specialist_the_date_read_only(booked, dr_tanaka):
    html = signed_in(dr_tanaka).get(case_url(booked)).content.decode()

    assert "Tuesday 1 December 2026, 14:00–14:30 (Japan time)" in html
    assert "Online (video call)" in html
    assert reverse("staff-booking-change", args=[booked.pk]) not in html
    assert reverse("staff-booking-cancel", args=[booked.pk]) not in html


def test_it_hides_the_case_from_a_specialist_of_another_department(booked, dr_mori):
    assert signed_in(dr_mori).get(case_url(booked)).status_code == 404


def test_it_moves_the_booking_to_a_free_date(booked, coordinator_sato, dr_kato):
    sato, old = coordinator_sato, live_booking(booked.pk)

    response = change(signed_in(sato), booked, key(dr_kato, at(THU, 15)))

    assert response.status_code == 302
    new = live_booking(booked.pk)
    assert (new.specialist, new.starts_at) == (dr_kato, at(THU, 15))
    assert new.reason == "The specialist has a conference." and new.booked_by == sato
    old.refresh_from_db()
    assert old.cancel_kind == CancelKind.CHANGED and old.cancelled_by == sato
    booked.refresh_from_db()
    assert booked.status == Status.BOOKED
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, case_id=booked.pk, object_id=str(new.pk)
    ).exists()


def test_it_moves_the_booking_to_a_date_still_held(booked, dr_kato, coordinator_sato):
    kato_held = booked.offers.get().slots.get(specialist=dr_kato)

    response = change(signed_in(coordinator_sato), booked, f"held:{kato_held.pk}")

    assert response.status_code == 302
    new = live_booking(booked.pk)
    assert new.offered_slot == kato_held and new.specialist == dr_kato


def test_it_moves_a_booking_after_the_patients_deadline(booked, coordinator_sato, dr_tanaka):
    with time_machine.travel(at(TUE, 9), tick=True):  # the consult's day: the patient must call
        page = signed_in(coordinator_sato).get(case_url(booked)).content.decode()
        response = change(signed_in(coordinator_sato), booked, key(dr_tanaka, at(THU, 14)))

    assert 'data-deadline-passed="true"' in page
    assert "Staff can still move or cancel the booking." in page
    assert response.status_code == 302
    assert live_booking(booked.pk).starts_at == at(THU, 14)


@pytest.mark.parametrize(
    "target",
    [
        "",
        "held:",
        "held:abc",
        "held:0",
        "held:99999999999999999999",
        "held:987654",  # no such hold
        "tomorrow",
        "2@2026-12-01",
    ],
)
def test_it_refuses_a_bad_new_date_and_changes_nothing(booked, coordinator_sato, target):
    before = written()

    response = change(signed_in(coordinator_sato), booked, target)

    assert response.status_code == 200
    assert response.context["change_form"].errors
    assert written() == before


def test_it_refuses_dates_the_rules_forbid(booked, dr_mori, proxy_ken, coordinator_sato, dr_tanaka):
    other = factories.accepted_case(proxy_ken, coordinator=coordinator_sato, specialist=dr_tanaka)
    taken = factories.offer(other, coordinator_sato, [factories.free_slots(other, limit=3)[2]])
    hold = taken.slots.get()
    targets = {
        "another department": key(dr_mori, at(date(2026, 12, 2), 14)),
        "not a slot": key(dr_tanaka, at(THU, 14, 10)),
        "already booked": key(dr_tanaka, at(TUE, 14)),
        "held for another case": f"held:{hold.pk}",
        "held for another case, by key": key(hold.specialist, hold.starts_at),
    }
    messages = {
        "another department": "not a consult slot of this department",
        "not a slot": "not a consult slot of this department",
        "already booked": "That is the date already booked.",
        "held for another case": "no longer held",
        "held for another case, by key": "That date is taken.",
    }
    client = signed_in(coordinator_sato)
    for name, target in targets.items():
        before = written()
        response = change(client, booked, target)
        assert response.status_code == 200, name
        assert response.context["change_form"].non_field_errors(), name
        assert messages[name] in response.content.decode(), name
        assert written() == before, name


def test_it_needs_a_reason_to_move(booked, coordinator_sato, dr_kato):
    before = written()

    response = change(signed_in(coordinator_sato), booked, key(dr_kato, at(THU, 15)), reason="")

    assert response.status_code == 200
    assert response.context["change_form"].errors["change_reason"]
    assert written() == before


def test_it_does_not_move_a_booking_the_page_did_not_show(booked, coordinator_sato, dr_kato):
    shown = live_booking(booked.pk).pk
    change(signed_in(coordinator_sato), booked, key(dr_kato, at(THU, 15)))  # a colleague
    before = written()

    response = change(signed_in(coordinator_sato), booked, key(dr_kato, at(THU, 14)), seen=shown)

    assert response.status_code == 302
    assert written() == before


def test_it_cancels_the_booking_with_a_reason(booked, coordinator_sato):
    sato, booking = coordinator_sato, live_booking(booked.pk)

    response = cancel(signed_in(sato), booked)

    assert response.status_code == 302
    booked.refresh_from_db()
    booking.refresh_from_db()
    assert booked.status == Status.CANCELLED
    assert booking.cancel_kind == CancelKind.CANCELLED
    assert booking.cancel_reason == "The patient called: admitted to hospital."
    assert not booked.offers.filter(released_at__isnull=True).exists()


@pytest.mark.parametrize(("reason", "confirm"), [("", "on"), ("   ", "on"), ("Ill", "")])
def test_it_needs_a_reason_and_a_tick_to_cancel(booked, coordinator_sato, reason, confirm):
    before = written()

    response = cancel(signed_in(coordinator_sato), booked, reason=reason, confirm=confirm)

    assert response.status_code == 200
    assert response.context["cancel_form"].errors
    assert written() == before


def test_it_cancels_after_the_patients_deadline(booked, coordinator_sato):
    with time_machine.travel(at(TUE, 13), tick=True):
        response = cancel(signed_in(coordinator_sato), booked)

    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == Status.CANCELLED


def test_it_lists_the_booking_history(booked, coordinator_sato, dr_kato):
    client = signed_in(coordinator_sato)
    first = live_booking(booked.pk)
    change(client, booked, key(dr_kato, at(THU, 15)), reason="Moved for the doctor")
    second = live_booking(booked.pk)
    cancel(client, booked, reason="Admitted to hospital")

    response = client.get(case_url(booked))

    html = response.content.decode()
    assert response.context["booking"] is None
    assert [b.pk for b in response.context["booking_history"]] == [first.pk, second.pk]
    assert f'data-booking="{first.pk}" data-state="changed"' in html
    assert f'data-booking="{second.pk}" data-state="cancelled"' in html
    assert "Moved for the doctor" in html and "Admitted to hospital" in html
    assert "Ended by 佐藤 美咲" in html
    assert Booking.objects.filter(case=booked).count() == 2


def test_it_reloads_the_new_dates_for_htmx(booked, dr_kato, coordinator_sato):
    kato_held = booked.offers.get().slots.get(specialist=dr_kato)

    response = signed_in(coordinator_sato).get(
        reverse("staff-case-slots", args=[booked.pk]),
        {"specialist": dr_kato.pk, "start": "2026-12-08"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200 and 'id="q-target"' in html
    assert f'value="held:{kato_held.pk}"' in html
    free = response.context["change_choices"]
    assert free and all(s.specialist_id == dr_kato.pk for s in free)
    assert free[0].starts_at == at(date(2026, 12, 8), 14)
    assert 'name="slots"' not in html


def test_it_has_no_dates_to_list_for_a_closed_case(booked, coordinator_sato):
    client = signed_in(coordinator_sato)
    cancel(client, booked)

    assert client.get(reverse("staff-case-slots", args=[booked.pk])).status_code == 404
