"""The coordinator offers candidate dates from the staff case page (SPEC §5): the suggested free
slots and their filters (with and without htmx), the hold deadline, the open offer and taking it
back. Sato offers; Hana's accepted cardiology case is the patient's; Dr Tanaka and Dr Kato see
cardiology patients, Dr Mori neurology ones. "Now" is Wednesday 25 November 2026, 10:00 in Japan,
so the first dates that may be offered are on Tuesday 1 December."""

from datetime import date, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import JST
from opiniondesk.scheduling.models import Away, ExtraSession, Offer, ReleaseReason
from opiniondesk.scheduling.selectors import SlotState, suggest_slots
from opiniondesk.scheduling.tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)
TUE = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=True):
        yield


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST)


def key(specialist, moment: datetime) -> str:
    return f"{specialist.pk}@{moment.astimezone(JST):%Y-%m-%dT%H:%M}"


def case_url(case) -> str:
    return reverse("staff-case", args=[case.pk])


def written() -> dict[str, object]:
    """Everything a scheduling action writes, except the audit log's reads of the page."""
    state = factories.snapshot()
    state.pop("audit")
    state["changes"] = list(
        AuditEvent.objects.exclude(action__in=[AuditAction.READ, AuditAction.DENIED])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    state["exceptions"] = (
        list(Away.objects.values_list("pk")),
        list(ExtraSession.objects.values_list("pk")),
    )
    return state


def offer_post(client, case, *, slots, hold_until="2026-11-27T17:00", seen="accepted", **extra):
    return client.post(
        reverse("staff-offer-create", args=[case.pk]),
        {"seen_status": seen, "slots": slots, "hold_until": hold_until, **extra},
    )


# The suggested dates.


def test_it_lists_twelve_free_dates_earliest_first(accepted, coordinator_sato):
    response = signed_in(coordinator_sato).get(case_url(accepted))

    assert response.status_code == 200
    suggestions = response.context["suggestions"]
    assert len(suggestions) == 12
    assert [s.starts_at for s in suggestions] == sorted(s.starts_at for s in suggestions)
    assert all(s.state is SlotState.FREE for s in suggestions)
    assert suggestions[0].starts_at == at(TUE, 14)
    html = response.content.decode()
    for slot in suggestions:
        assert f'name="slots" value="{slot.key}"' in html
    assert 'id="scheduling"' in html
    assert 'href="#scheduling"' in html  # the page's jump links


def test_it_proposes_a_hold_until_the_last_desk_moment_within_three_days(
    accepted, coordinator_sato
):
    # Wednesday 25 November + 3 days is Saturday 28th, when nobody answers the phone (SPEC §5):
    # the hold ends when the desk closes on Friday 27th.
    html = signed_in(coordinator_sato).get(case_url(accepted)).content.decode()

    assert 'type="datetime-local" name="hold_until" value="2026-11-27T17:00"' in html


def test_it_ends_the_default_hold_the_evening_before_an_earlier_first_date(
    accepted, coordinator_sato
):
    # Monday 30 November: the first date is Thursday 3 December, before 3 days + 17:00.
    with time_machine.travel(at(date(2026, 11, 30), 9), tick=True):
        response = signed_in(coordinator_sato).get(case_url(accepted))

    assert response.context["suggestions"][0].starts_at == at(date(2026, 12, 3), 14)
    # The evening before the first date, moved to when the desk closes that day.
    assert 'name="hold_until" value="2026-12-02T17:00"' in response.content.decode()


def test_it_filters_by_specialist_and_first_day_without_javascript(
    accepted, dr_kato, coordinator_sato
):
    kato = dr_kato
    response = signed_in(coordinator_sato).get(
        case_url(accepted), {"specialist": kato.pk, "start": "2026-12-08"}
    )

    suggestions = response.context["suggestions"]
    assert suggestions
    assert {s.specialist_id for s in suggestions} == {kato.pk}
    assert suggestions[0].starts_at == at(date(2026, 12, 8), 14)
    assert len(suggestions) == 12


def test_it_ignores_a_specialist_of_another_department_in_the_filter(
    accepted, coordinator_sato, dr_mori, dr_tanaka, dr_kato
):
    response = signed_in(coordinator_sato).get(case_url(accepted), {"specialist": dr_mori.pk})

    people = {s.specialist_id for s in response.context["suggestions"]}
    assert people == {dr_tanaka.pk, dr_kato.pk}


def test_it_never_suggests_a_day_before_the_lead_time(accepted, coordinator_sato):
    response = signed_in(coordinator_sato).get(case_url(accepted), {"start": "2026-11-26"})

    assert response.context["suggestions"][0].starts_at == at(TUE, 14)


def test_it_reloads_only_the_list_for_htmx(accepted, coordinator_sato, dr_tanaka, dr_kato):
    response = signed_in(coordinator_sato).get(
        reverse("staff-case-slots", args=[accepted.pk]),
        {"specialist": dr_tanaka.pk, "start": "2026-12-03"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="q-slots"' in html
    first = f'value="{dr_tanaka.pk}@2026-12-03T14:00"'
    assert first in html and f"{dr_kato.pk}@" not in html
    # The default hold follows the first date listed (out of band), and the address bar the filter.
    assert 'hx-swap-oob="true"' in html and 'value="2026-11-27T17:00"' in html
    pushed = response["HX-Push-Url"]
    assert pushed.startswith(case_url(accepted) + "?") and "start=2026-12-03" in pushed


def test_it_offers_the_filter_to_htmx_and_to_plain_forms(accepted, coordinator_sato):
    html = signed_in(coordinator_sato).get(case_url(accepted)).content.decode()

    assert f'action="{case_url(accepted)}#scheduling"' in html
    assert f'hx-get="{reverse("staff-case-slots", args=[accepted.pk])}"' in html
    assert "js/htmx-2.0.11.min.js" in html


# Offering.


def test_it_offers_the_chosen_dates(accepted, coordinator_sato):
    sato = coordinator_sato
    chosen = suggest_slots(department=accepted.department, today=NOW.date(), limit=3)[1:3]

    response = offer_post(
        signed_in(sato),
        accepted,
        slots=[s.key for s in chosen],
        message="ご都合のよい日をお選びください。",
    )

    assert response.status_code == 302
    assert response["Location"] == case_url(accepted) + "#scheduling"
    accepted.refresh_from_db()
    assert accepted.status == Status.OFFERED
    offer = Offer.objects.get(case=accepted)
    assert offer.hold_until == at(date(2026, 11, 27), 17)
    assert offer.message == "ご都合のよい日をお選びください。"
    assert offer.offered_by == sato
    assert [(s.specialist_id, s.starts_at) for s in offer.slots.order_by("starts_at", "pk")] == [
        (s.specialist_id, s.starts_at) for s in chosen
    ]
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, case_id=accepted.pk, object_id=str(offer.pk), user=sato
    ).exists()


def test_it_reads_the_hold_deadline_as_japan_time_whatever_the_server_zone(
    accepted, coordinator_sato, settings
):
    settings.TIME_ZONE = "UTC"
    chosen = suggest_slots(department=accepted.department, today=NOW.date(), limit=1)

    offer_post(
        signed_in(coordinator_sato), accepted, slots=[chosen[0].key], hold_until="2026-11-27T10:30"
    )

    assert Offer.objects.get(case=accepted).hold_until == at(date(2026, 11, 27), 10, 30)


def test_it_shows_the_open_offer_and_can_offer_other_dates_instead(accepted, coordinator_sato):
    sato = coordinator_sato
    chosen = factories.free_slots(accepted, limit=2)
    offer = factories.offer(accepted, sato, chosen)

    response = signed_in(sato).get(case_url(accepted), {"open": "offer-withdraw"})

    html = response.content.decode()
    assert f'data-offer="{offer.pk}"' in html
    assert "Held for the patient until 2026-11-30 17:00 (JST)." in html
    assert "Tuesday 1 December 2026, 14:00–14:30 (Japan time)" in html
    assert "Offered by" in html and "佐藤 美咲" in html
    assert reverse("staff-offer-withdraw", args=[accepted.pk]) in html
    # Offering again replaces the round: the first offer's dates are released.
    later = suggest_slots(department=accepted.department, today=NOW.date(), limit=4)[3]
    offer_post(signed_in(sato), accepted, slots=[later.key], seen="offered")
    offer.refresh_from_db()
    assert offer.release_reason == ReleaseReason.REPLACED
    assert Offer.objects.get(case=accepted, released_at__isnull=True).slots.get().starts_at == (
        later.starts_at
    )


def test_it_can_keep_some_offered_dates_in_a_new_round(accepted, coordinator_sato):
    sato = coordinator_sato
    first = factories.offer(accepted, sato, factories.free_slots(accepted, limit=2))
    keep = first.slots.order_by("starts_at", "specialist_id").first()

    # What htmx loads when "Offer other dates instead" is opened.
    response = signed_in(sato).get(
        reverse("staff-case-slots", args=[accepted.pk]), HTTP_HX_REQUEST="true"
    )
    again = [value for value, __ in response.context["held_keys"]]
    new = response.context["suggestions"][0]
    offer_post(signed_in(sato), accepted, slots=[again[0], new.key], seen="offered")

    assert len(again) == 2 and f'value="{again[0]}"' in response.content.decode()
    current = Offer.objects.get(case=accepted, released_at__isnull=True)
    assert current != first
    assert {(s.specialist_id, s.starts_at) for s in current.slots.all()} == {
        (keep.specialist_id, keep.starts_at),
        (new.specialist_id, new.starts_at),
    }


def test_it_withdraws_the_dates(accepted, coordinator_sato):
    sato = coordinator_sato
    offer = factories.offer(accepted, sato, factories.free_slots(accepted, limit=2))

    response = signed_in(sato).post(
        reverse("staff-offer-withdraw", args=[accepted.pk]),
        {"seen": offer.pk, "withdraw_reason": "The patient asked for January."},
    )

    assert response.status_code == 302
    accepted.refresh_from_db()
    offer.refresh_from_db()
    assert accepted.status == Status.ACCEPTED
    assert offer.released_at is not None
    assert not offer.slots.filter(released_at__isnull=True).exists()
    assert accepted.transitions.last().reason == "The patient asked for January."


def test_it_does_not_withdraw_without_a_reason(accepted, coordinator_sato):
    sato = coordinator_sato
    offer = factories.offer(accepted, sato, factories.free_slots(accepted, limit=2))
    before = written()

    response = signed_in(sato).post(
        reverse("staff-offer-withdraw", args=[accepted.pk]),
        {"seen": offer.pk, "withdraw_reason": " "},
    )

    assert response.status_code == 200
    assert response.context["withdraw_form"].errors["withdraw_reason"]
    assert written() == before


def test_it_does_not_withdraw_an_offer_the_page_did_not_show(accepted, coordinator_sato):
    sato = coordinator_sato
    first = factories.offer(accepted, sato, factories.free_slots(accepted, limit=1))
    factories.offer(accepted, sato, factories.free_slots(accepted, limit=3)[2:])  # a colleague
    before = written()

    response = signed_in(sato).post(
        reverse("staff-offer-withdraw", args=[accepted.pk]),
        {"seen": first.pk, "withdraw_reason": "Other dates"},
    )

    assert response.status_code == 302
    assert written() == before


# Bad input changes nothing and says why.


def _bad_offers(dr_tanaka, dr_mori):
    tanaka, mori = dr_tanaka, dr_mori
    return {
        "not a key": {"slots": ["hello"]},
        "no such day": {"slots": [f"{tanaka.pk}@2026-02-30T14:00"]},
        "huge id": {"slots": ["99999999999999999999@2026-12-01T14:00"]},
        "no such person": {"slots": ["987654@2026-12-01T14:00"]},
        "not on the grid": {"slots": [key(tanaka, at(TUE, 14, 15))]},
        "outside the hours": {"slots": [key(tanaka, at(TUE, 10))]},
        "another department": {"slots": [key(mori, at(date(2026, 12, 2), 14))]},
        "too soon": {"slots": [key(tanaka, at(date(2026, 11, 26), 14))]},
        "nothing chosen": {"slots": []},
        "hold in the past": {"slots": [key(tanaka, at(TUE, 14))], "hold_until": "2026-11-25T09:00"},
        "hold after the date": {
            "slots": [key(tanaka, at(TUE, 14))],
            "hold_until": "2026-12-01T09:00",
        },
        "hold not a time": {"slots": [key(tanaka, at(TUE, 14))], "hold_until": "soon"},
        "seen another state": {"slots": [key(tanaka, at(TUE, 14))], "seen": "referred"},
    }


@pytest.mark.parametrize(
    "case_name",
    [
        "not a key",
        "no such day",
        "huge id",
        "no such person",
        "not on the grid",
        "outside the hours",
        "another department",
        "too soon",
        "nothing chosen",
        "hold in the past",
        "hold after the date",
        "hold not a time",
        "seen another state",
    ],
)
def test_it_refuses_a_bad_offer_and_changes_nothing(
    accepted, coordinator_sato, dr_tanaka, dr_mori, case_name
):
    sato = coordinator_sato
    before = written()

    response = offer_post(signed_in(sato), accepted, **_bad_offers(dr_tanaka, dr_mori)[case_name])

    assert written() == before
    accepted.refresh_from_db()
    assert accepted.status == Status.ACCEPTED
    if case_name == "seen another state":  # a colleague moved the case: told, page reloaded
        assert response.status_code == 302
        return
    assert response.status_code == 200  # shown again with the reason
    assert response.context["offer_form"].errors
    assert 'class="error-' in response.content.decode()


def test_it_tells_why_the_service_refused(accepted, dr_mori, coordinator_sato):
    mori = dr_mori

    response = offer_post(
        signed_in(coordinator_sato), accepted, slots=[key(mori, at(date(2026, 12, 2), 14))]
    )

    assert response.status_code == 200
    assert "One of the chosen dates is not a consult slot of the case." in response.content.decode()


def test_it_refuses_a_date_someone_else_holds(accepted, proxy_ken, coordinator_sato, dr_tanaka):
    other = factories.accepted_case(proxy_ken, coordinator=coordinator_sato, specialist=dr_tanaka)
    taken = factories.free_slots(other, limit=1)
    factories.offer(other, coordinator_sato, taken)
    before = written()

    response = offer_post(signed_in(coordinator_sato), accepted, slots=[taken[0].key])

    assert response.status_code == 200
    assert "just taken" in response.content.decode()
    assert written() == before
    # And it is no longer suggested.
    page = signed_in(coordinator_sato).get(case_url(accepted))
    assert taken[0].key not in [s.key for s in page.context["suggestions"]]


# Who may see and do this.


def _scheduling_requests(case):
    ids = [case.pk]
    return [
        ("get", reverse("staff-case-slots", args=ids), {}),
        ("post", reverse("staff-offer-create", args=ids), {"slots": ["1@2026-12-01T14:00"]}),
        ("post", reverse("staff-offer-withdraw", args=ids), {"seen": 1, "withdraw_reason": "x"}),
        ("post", reverse("staff-booking-change", args=ids), {"seen": 1, "target": "held:1"}),
        ("post", reverse("staff-booking-cancel", args=ids), {"seen": 1, "confirm": "on"}),
        ("post", reverse("staff-identity-check", args=[case.pk, 1]), {"decision": "verify"}),
        ("post", reverse("staff-schedule-away"), {}),
        ("post", reverse("staff-schedule-extra"), {}),
        ("post", reverse("staff-schedule-remove"), {"kind": "away", "pk": 1}),
    ]


@pytest.mark.parametrize(
    "who",
    [
        "patient_hana",
        "proxy_ken",
        "outsider_eve",
        "dr_tanaka",
        "dr_mori",
        "billing_ito",
        "admin_kato",
    ],
)
def test_it_lets_only_coordinators_act(accepted, personas, who):
    client = signed_in(personas[who])
    before = written()

    for method, url, data in _scheduling_requests(accepted):
        response = getattr(client, method)(url, data)
        assert response.status_code in (403, 404), (who, url)

    assert written() == before


@pytest.mark.parametrize("who", ["patient_hana", "outsider_eve", "dr_mori", "billing_ito"])
def test_it_hides_the_case_page_from_people_outside_the_case(accepted, personas, who):
    response = signed_in(personas[who]).get(case_url(accepted))

    assert response.status_code in (403, 404)


@pytest.mark.parametrize(
    "who", ["patient_hana", "outsider_eve", "dr_tanaka", "dr_mori", "billing_ito"]
)
def test_it_keeps_the_calendar_for_coordinators_and_admins(personas, who):
    response = signed_in(personas[who]).get(reverse("staff-schedule"))

    assert response.status_code == 403


def test_it_sends_strangers_to_sign_in(accepted):
    for method, url, data in _scheduling_requests(accepted):
        response = getattr(Client(), method)(url, data)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_shows_the_specialist_no_scheduling_forms(accepted, dr_tanaka):
    html = signed_in(dr_tanaka).get(case_url(accepted)).content.decode()

    assert 'id="booking"' in html
    assert reverse("staff-offer-create", args=[accepted.pk]) not in html
    assert 'name="slots"' not in html


def test_it_needs_post_for_every_action(accepted, coordinator_sato):
    client = signed_in(coordinator_sato)
    for name in ("staff-offer-create", "staff-offer-withdraw", "staff-booking-change"):
        assert client.get(reverse(name, args=[accepted.pk])).status_code == 405


@pytest.mark.parametrize(
    ("hold_until", "suggestion"),
    [
        ("2026-11-28T17:00", "2026-11-27 17:00"),  # Saturday
        ("2026-11-27T17:30", "2026-11-27 17:00"),  # after the desk closes
        ("2026-11-27T09:30", "2026-11-26 17:00"),  # before it opens
    ],
)
def test_it_refuses_a_hold_the_patient_could_not_call_about(
    accepted, coordinator_sato, hold_until, suggestion
):
    chosen = suggest_slots(department=accepted.department, today=NOW.date(), limit=1)
    before = written()

    response = offer_post(
        signed_in(coordinator_sato), accepted, slots=[chosen[0].key], hold_until=hold_until
    )

    assert response.status_code == 200
    assert (
        "The patient could not call us at that moment. Please end the hold on an open day "
        f"between 10:00 and 17:00, for example {suggestion}."
    ) in response.content.decode()
    assert written() == before
