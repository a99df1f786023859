"""The consult's services (SPEC §7, §8, §11.4–5): the review of the materials, the waiting room,
one patient-side device, the call and its clock, the record, the visit and the no-show.

Given Hana's online cardiology case, ready and booked with Dr Tanaka."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.models import Case, CaseTransition
from opiniondesk.cases.workflow import Status
from opiniondesk.consults import services, tasks
from opiniondesk.consults.clock import Warning
from opiniondesk.consults.errors import ConsultError
from opiniondesk.consults.models import (
    ChatMessage,
    Consult,
    ConsultEvent,
    ConsultState,
    EndReason,
    EventKind,
    ReviewSession,
)
from opiniondesk.scheduling.models import Booking
from opiniondesk.scheduling.tests.factories import link_patient
from opiniondesk.testing.builders import case_in, prepare, ready_case

pytestmark = pytest.mark.django_db
DEVICE, OTHER_DEVICE = "a" * 32, "b" * 32


def written(case):
    """What a refused step must leave as it was."""
    case = Case.objects.get(pk=case.pk)
    return {
        "case": (case.status, case.updated_at),
        "transitions": CaseTransition.objects.filter(case=case).count(),
        "audit": AuditEvent.objects.filter(case_id=case.pk).count(),
        "reviews": list(ReviewSession.objects.filter(case=case).values()),
        "consults": list(Consult.objects.filter(case=case).values()),
        "events": ConsultEvent.objects.filter(consult__case=case).count(),
        "messages": ChatMessage.objects.filter(consult__case=case).count(),
    }


def refused(call, code=None):
    with pytest.raises(ConsultError) as caught:
        call()
    if code:
        assert caught.value.code == code
    return caught.value


# The review of the materials.


@pytest.fixture
def accepted(seeded):
    return case_in(Status.ACCEPTED)


def test_the_server_times_the_review_after_acceptance(accepted, dr_tanaka, at):
    start = at(timezone.now())
    session = services.review_start(case_id=accepted.pk, actor=dr_tanaka)
    assert (session.started_at, session.ended_at, session.specialist) == (start, None, dr_tanaka)
    at(start + timedelta(minutes=12, seconds=30))
    session = services.review_stop(case_id=accepted.pk, actor=dr_tanaka)

    assert session.measured_seconds == session.seconds == 12 * 60 + 30
    events = AuditEvent.objects.filter(
        case_id=accepted.pk, object_type="consults.ReviewSession"
    ).order_by("sequence")
    assert [(e.action, e.user) for e in events] == [("create", dr_tanaka), ("update", dr_tanaka)]
    assert events.last().detail == {"review_seconds": 750}


def test_a_review_runs_once_at_a_time(accepted, dr_tanaka, dr_kato):
    services.review_start(case_id=accepted.pk, actor=dr_tanaka)
    before = written(accepted)
    refused(lambda: services.review_start(case_id=accepted.pk, actor=dr_kato), "running")
    assert written(accepted) == before


@pytest.mark.parametrize("state", ["referred", "screening"])
def test_reading_before_the_decision_is_not_billed(seeded, dr_tanaka, state):
    case = case_in(state)
    before = written(case)
    refused(lambda: services.review_start(case_id=case.pk, actor=dr_tanaka))
    assert written(case) == before


@pytest.mark.parametrize("who", ["dr_mori", "coordinator_sato", "patient_hana", "billing_ito"])
def test_only_a_specialist_of_the_department_reviews(accepted, personas, who):
    before = written(accepted)
    refused(lambda: services.review_start(case_id=accepted.pk, actor=personas[who]))
    assert written(accepted) == before


def test_stopping_nothing_is_refused(accepted, dr_tanaka):
    before = written(accepted)
    refused(lambda: services.review_stop(case_id=accepted.pk, actor=dr_tanaka), "not_running")
    assert written(accepted) == before


@pytest.fixture
def reviewed(accepted, dr_tanaka, at):
    start = at(timezone.now())
    session = services.review_start(case_id=accepted.pk, actor=dr_tanaka)
    at(start + timedelta(minutes=95))  # the page stayed open over lunch
    services.review_stop(case_id=accepted.pk, actor=dr_tanaka)
    return ReviewSession.objects.get(pk=session.pk)


def test_a_correction_needs_a_reason_and_is_audited(reviewed, dr_tanaka):
    before = written(reviewed.case)
    refused(
        lambda: services.review_correct(
            session_id=reviewed.pk, actor=dr_tanaka, minutes=20, reason="  "
        ),
        "reason",
    )
    assert written(reviewed.case) == before

    session = services.review_correct(
        session_id=reviewed.pk, actor=dr_tanaka, minutes=20, reason="昼休みに開いたままだった"
    )

    assert (session.seconds, session.measured_seconds) == (20 * 60, 95 * 60)
    assert (session.corrected_by, session.correction_reason) == (
        dr_tanaka,
        "昼休みに開いたままだった",
    )
    event = AuditEvent.objects.filter(case_id=reviewed.case_id).latest("sequence")
    assert event.detail == {
        "review_seconds": [95 * 60, 20 * 60],
        "reason": "昼休みに開いたままだった",
    }


@pytest.mark.parametrize("minutes", [-1, 61])
def test_a_correction_stays_within_the_hour(reviewed, dr_tanaka, minutes):
    before = written(reviewed.case)
    refused(
        lambda: services.review_correct(
            session_id=reviewed.pk, actor=dr_tanaka, minutes=minutes, reason="x"
        ),
        "minutes",
    )
    assert written(reviewed.case) == before


# The waiting room: one patient-side device.


def test_the_waiting_room_opens_five_minutes_before(ready, booking, at, patient_hana):
    at(booking.starts_at - timedelta(minutes=6))
    consult = services.consult_open(case=ready)
    refused(
        lambda: services.patient_join(
            consult_id=consult.pk, user=patient_hana, channel="c1", device=DEVICE
        ),
        "not_open",
    )
    at(booking.starts_at - timedelta(minutes=5))
    outcome, old = services.patient_join(
        consult_id=consult.pk, user=patient_hana, channel="c1", device=DEVICE
    )
    assert (outcome, old) == (services.Joined.ENTERED, "")
    consult.refresh_from_db()
    assert (consult.patient_channel, consult.patient_device) == ("c1", DEVICE)
    assert consult.events.get().kind == EventKind.ENTERED


def test_a_second_device_is_refused_and_the_first_stays(in_room, patient_hana):
    services.patient_join(consult_id=in_room.pk, user=patient_hana, channel="c1", device=DEVICE)

    outcome, old = services.patient_join(
        consult_id=in_room.pk, user=patient_hana, channel="c2", device=OTHER_DEVICE
    )

    assert (outcome, old) == (services.Joined.REFUSED, "")
    in_room.refresh_from_db()
    assert (in_room.patient_channel, in_room.patient_device) == ("c1", DEVICE)
    assert list(in_room.events.values_list("kind", flat=True)) == ["entered", "refused_device"]


def test_a_takeover_moves_the_consult_to_the_new_device(in_room, patient_hana):
    services.patient_join(consult_id=in_room.pk, user=patient_hana, channel="c1", device=DEVICE)

    outcome, old = services.patient_join(
        consult_id=in_room.pk, user=patient_hana, channel="c2", device=OTHER_DEVICE, takeover=True
    )

    assert (outcome, old) == (services.Joined.TOOK_OVER, "c1")
    in_room.refresh_from_db()
    assert (in_room.patient_channel, in_room.patient_device) == ("c2", OTHER_DEVICE)


def test_a_reload_reconnects_the_same_device(in_room, patient_hana):
    services.patient_join(consult_id=in_room.pk, user=patient_hana, channel="c1", device=DEVICE)
    outcome, old = services.patient_join(
        consult_id=in_room.pk, user=patient_hana, channel="c2", device=DEVICE
    )
    assert (outcome, old) == (services.Joined.RECONNECTED, "c1")


def test_a_connection_not_heard_from_no_longer_blocks_another_device(
    in_room, patient_hana, booking, at
):
    services.patient_join(consult_id=in_room.pk, user=patient_hana, channel="c1", device=DEVICE)
    at(booking.starts_at + timedelta(minutes=1))  # the first device's worker died silently

    outcome, old = services.patient_join(
        consult_id=in_room.pk, user=patient_hana, channel="c2", device=OTHER_DEVICE
    )

    assert (outcome, old) == (services.Joined.RECONNECTED, "")


@pytest.mark.parametrize("who", ["outsider_eve", "proxy_ken", "coordinator_sato", "dr_tanaka"])
def test_only_the_patients_side_joins_as_the_patient(in_room, personas, who):
    before = written(in_room.case)
    refused(
        lambda: services.patient_join(
            consult_id=in_room.pk, user=personas[who], channel="c1", device=DEVICE
        ),
        "not_allowed",
    )
    assert written(in_room.case) == before


def test_the_family_member_who_applied_joins_for_the_patient(seeded, proxy_ken, patient_hana, at):
    case = case_in(Status.ACCEPTED, relation="child")
    link_patient(case, proxy_ken, patient_hana)
    case = prepare(case)
    booking = Booking.objects.get(case=case, cancelled_at__isnull=True)
    at(booking.starts_at)
    consult = services.consult_open(case=case)
    outcome, _ = services.patient_join(
        consult_id=consult.pk, user=proxy_ken, channel="c1", device=DEVICE
    )
    assert outcome is services.Joined.ENTERED


# The call.


@pytest.fixture
def waiting(in_room, patient_hana):
    services.patient_join(consult_id=in_room.pk, user=patient_hana, channel="c1", device=DEVICE)
    services.hospital_join(consult_id=in_room.pk, user=in_room.specialist, channel="h1")
    return Consult.objects.get(pk=in_room.pk)


def test_only_the_hospital_calls_in_and_only_a_waiting_patient(in_room, patient_hana, dr_tanaka):
    refused(lambda: services.call_in(consult_id=in_room.pk, user=dr_tanaka), "not_waiting")
    services.patient_join(consult_id=in_room.pk, user=patient_hana, channel="c1", device=DEVICE)
    before = written(in_room.case)
    refused(lambda: services.call_in(consult_id=in_room.pk, user=patient_hana), "not_allowed")
    assert written(in_room.case) == before
    assert services.call_in(consult_id=in_room.pk, user=dr_tanaka).state == ConsultState.CALLED


def test_another_specialist_of_the_department_does_not_take_the_call(waiting, dr_kato):
    before = written(waiting.case)
    refused(lambda: services.call_in(consult_id=waiting.pk, user=dr_kato), "not_allowed")
    assert written(waiting.case) == before


@pytest.fixture
def called(waiting, dr_tanaka):
    return services.call_in(consult_id=waiting.pk, user=dr_tanaka)


def test_both_sides_confirm_who_is_present_before_the_call(called, patient_hana, dr_tanaka):
    refused(lambda: services.call_start(consult_id=called.pk, user=dr_tanaka), "present")
    services.confirm_present(consult_id=called.pk, user=patient_hana, people=["山田 花", "山田 健"])
    refused(lambda: services.call_start(consult_id=called.pk, user=dr_tanaka), "present")
    consult = services.confirm_present(consult_id=called.pk, user=dr_tanaka, people=["田中 健一"])

    assert consult.present_patient_side == ["山田 花", "山田 健"]
    assert consult.present_hospital_side == ["田中 健一"]
    kinds = list(consult.events.values_list("kind", "side"))
    assert kinds[-2:] == [("present", "patient"), ("present", "hospital")]


@pytest.mark.parametrize(
    "people", [[], "山田 花", [""], ["x" * 61], [1], ["a"] * 9, None, [" "], [["山田"]]]
)
def test_who_is_present_is_a_short_list_of_names(called, patient_hana, people):
    before = written(called.case)
    refused(
        lambda: services.confirm_present(consult_id=called.pk, user=patient_hana, people=people),
        "people",
    )
    assert written(called.case) == before


@pytest.fixture
def confirmed(called, patient_hana, dr_tanaka):
    services.confirm_present(consult_id=called.pk, user=patient_hana, people=["山田 花"])
    return services.confirm_present(consult_id=called.pk, user=dr_tanaka, people=["田中 健一"])


def test_the_call_starts_the_server_clock_and_the_case_is_in_consult(
    confirmed, dr_tanaka, django_capture_on_commit_callbacks
):
    ReviewSession.objects.create(
        case=confirmed.case,
        specialist=dr_tanaka,
        started_at=timezone.now() - timedelta(minutes=20),
        ended_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        consult = services.call_start(consult_id=confirmed.pk, user=dr_tanaka)

    now = timezone.now()
    assert (consult.state, consult.started_at, consult.review_seconds) == ("in_call", now, 1200)
    assert consult.limit_at == now + timedelta(minutes=40)  # 60 minutes, review included
    case = Case.objects.get(pk=confirmed.case_id)
    assert case.status == Status.IN_CONSULT
    move = case.transitions.last()
    assert (move.to_status, move.actor, move.detail) == (
        "in_consult",
        dr_tanaka,
        {"consult": consult.pk, "review_seconds": 1200},
    )
    [task] = DBTaskResult.objects.filter(task_path__endswith="end_at_limit")
    assert task.run_after == consult.limit_at and task.args_kwargs["args"] == [consult.pk]


def test_a_review_still_running_ends_when_the_call_starts(confirmed, dr_tanaka, at):
    start = timezone.now()
    ReviewSession.objects.create(case=confirmed.case, specialist=dr_tanaka, started_at=start)
    at(start + timedelta(minutes=7))
    services.heard_from(consult_id=confirmed.pk, channel="c1")  # the page's heartbeat
    consult = services.call_start(consult_id=confirmed.pk, user=dr_tanaka)
    assert consult.review_seconds == 7 * 60
    assert ReviewSession.objects.get().ended_at == consult.started_at


@pytest.fixture
def in_call(confirmed, dr_tanaka):
    return services.call_start(consult_id=confirmed.pk, user=dr_tanaka)


def test_the_specialist_ends_the_call_and_the_case_is_completed(in_call, dr_tanaka, at):
    at(in_call.started_at + timedelta(minutes=25, seconds=40))
    consult = services.call_end(consult_id=in_call.pk, user=dr_tanaka, reason=EndReason.SPECIALIST)

    assert (consult.state, consult.end_reason, consult.call_seconds) == (
        "ended",
        "specialist",
        1540,
    )
    case = Case.objects.get(pk=in_call.case_id)
    assert case.status == Status.COMPLETED
    move = case.transitions.last()
    assert move.detail == {
        "consult": consult.pk,
        "call_seconds": 1540,
        "review_seconds": 0,
        "billable_minutes": 25,
        "end": "specialist",
    }
    # Ending again (the other side's page, the task) changes nothing.
    before = written(case)
    services.call_end(consult_id=in_call.pk, user=dr_tanaka, reason=EndReason.SPECIALIST)
    services.call_end(consult_id=in_call.pk, user=None, reason=EndReason.LIMIT)
    assert written(case) == before


def test_the_patient_cannot_end_the_call(in_call, patient_hana):
    before = written(in_call.case)
    refused(
        lambda: services.call_end(
            consult_id=in_call.pk, user=patient_hana, reason=EndReason.SPECIALIST
        ),
        "not_allowed",
    )
    assert written(in_call.case) == before


def test_the_server_ends_the_call_at_the_limit_and_not_before(in_call, at):
    at(in_call.limit_at - timedelta(seconds=1))
    before = written(in_call.case)
    refused(
        lambda: services.call_end(consult_id=in_call.pk, user=None, reason=EndReason.LIMIT),
        "not_yet",
    )
    assert written(in_call.case) == before

    at(in_call.limit_at + timedelta(minutes=3))  # the worker was late
    tasks.end_at_limit.call(in_call.pk)  # the task scheduled at the start (see above)

    consult = Consult.objects.get(pk=in_call.pk)
    assert (consult.state, consult.end_reason) == ("ended", "limit")
    assert consult.ended_at == consult.limit_at  # billed to the limit, not to the late worker
    assert consult.call_seconds == 60 * 60
    assert Case.objects.get(pk=in_call.case_id).transitions.last().actor is None  # the system


def test_a_task_run_early_leaves_the_call_and_comes_back_at_the_limit(in_call, at):
    at(in_call.limit_at - timedelta(seconds=30))  # the worker's clock is ahead of ours
    DBTaskResult.objects.all().delete()
    tasks.end_at_limit.call(in_call.pk)
    consult = Consult.objects.get(pk=in_call.pk)
    assert consult.state == "in_call" and consult.ended_at is None
    [task] = DBTaskResult.objects.filter(task_path__endswith="end_at_limit")
    assert task.run_after == in_call.limit_at and task.args_kwargs["args"] == [in_call.pk]


def test_each_warning_is_recorded_once(in_call):
    assert services.warning_given(consult_id=in_call.pk, kind=Warning.BOUNDARY) is True
    assert services.warning_given(consult_id=in_call.pk, kind=Warning.BOUNDARY) is False
    assert services.warning_given(consult_id=in_call.pk, kind=Warning.END) is True
    kinds = in_call.events.filter(kind=EventKind.WARNED).values_list("detail__kind", flat=True)
    assert sorted(kinds) == ["boundary", "end"]


# Messages and notes.


def test_the_specialist_writes_to_the_waiting_patient_who_only_waits(
    waiting, dr_tanaka, patient_hana
):
    message = services.message_post(
        consult_id=waiting.pk, user=dr_tanaka, text="  10分ほど遅れます。\n お待ちください。 "
    )
    assert (message.side, message.text) == ("hospital", "10分ほど遅れます。 お待ちください。")
    before = written(waiting.case)
    refused(
        lambda: services.message_post(consult_id=waiting.pk, user=patient_hana, text="はい"),
        "waiting",
    )
    for text in ("", "   ", "x" * 501):
        refused(
            lambda text=text: services.message_post(
                consult_id=waiting.pk, user=dr_tanaka, text=text
            ),
            "text",
        )
    assert written(waiting.case) == before


def test_both_sides_chat_during_the_call(in_call, patient_hana, dr_tanaka, outsider_eve):
    services.message_post(consult_id=in_call.pk, user=patient_hana, text="音が聞こえません")
    services.message_post(consult_id=in_call.pk, user=dr_tanaka, text="マイクを確認してください")
    refused(lambda: services.message_post(consult_id=in_call.pk, user=outsider_eve, text="x"))
    assert list(in_call.messages.values_list("side", "text")) == [
        ("patient", "音が聞こえません"),
        ("hospital", "マイクを確認してください"),
    ]


def test_the_specialists_notes_are_saved_and_audited(in_call, dr_tanaka, patient_hana):
    consult = services.notes_save(consult_id=in_call.pk, user=dr_tanaka, text="所見: 安定")
    assert (consult.notes, consult.notes_saved_at) == ("所見: 安定", timezone.now())
    assert AuditEvent.objects.filter(object_type="consults.Consult", action="update").latest(
        "sequence"
    ).detail == {"notes_chars": 6}
    before = written(in_call.case)
    refused(lambda: services.notes_save(consult_id=in_call.pk, user=patient_hana, text="x"))
    refused(lambda: services.notes_save(consult_id=in_call.pk, user=dr_tanaka, text="x" * 20_001))
    assert written(in_call.case) == before


# In person.


@pytest.fixture
def visit(seeded, at):
    case = ready_case(mode="in_person")
    booking = Booking.objects.get(case=case, cancelled_at__isnull=True)
    at(booking.starts_at)
    return case


def test_staff_record_the_start_and_end_of_a_visit(visit, dr_tanaka, at):
    consult = services.visit_start(case_id=visit.pk, actor=dr_tanaka)
    assert (consult.state, consult.mode) == ("in_call", "in_person")
    assert Case.objects.get(pk=visit.pk).status == Status.IN_CONSULT
    at(consult.started_at + timedelta(minutes=31))
    consult = services.visit_end(case_id=visit.pk, actor=dr_tanaka)
    assert (consult.end_reason, consult.call_seconds) == ("staff", 31 * 60)
    assert Case.objects.get(pk=visit.pk).status == Status.COMPLETED


def test_an_online_consult_is_not_started_as_a_visit(in_room, dr_tanaka):
    before = written(in_room.case)
    refused(lambda: services.visit_start(case_id=in_room.case_id, actor=dr_tanaka), "online")
    assert written(in_room.case) == before


def test_a_patient_cannot_join_a_visit_online(visit, patient_hana):
    consult = services.consult_open(case=visit)
    refused(
        lambda: services.patient_join(
            consult_id=consult.pk, user=patient_hana, channel="c1", device=DEVICE
        ),
        "in_person",
    )


# No-show.


def test_a_coordinator_records_a_no_show_after_the_booked_time(
    in_room, booking, coordinator_sato, at
):
    before = written(in_room.case)
    refused(lambda: services.no_show(case_id=in_room.case_id, actor=coordinator_sato), "not_yet")
    assert written(in_room.case) == before
    at(booking.ends_at)

    case = services.no_show(case_id=in_room.case_id, actor=coordinator_sato)

    assert case.status == Status.NO_SHOW
    booking.refresh_from_db()
    assert booking.cancelled_at is not None and booking.cancel_kind == "case_closed"
    consult = Consult.objects.get(pk=in_room.pk)
    assert consult.state == "no_show" and consult.events.last().kind == "no_show"


def test_only_a_coordinator_records_a_no_show_and_not_after_a_call(
    in_call, booking, dr_tanaka, coordinator_sato, at
):
    at(booking.ends_at + timedelta(minutes=1))
    before = written(in_call.case)
    refused(lambda: services.no_show(case_id=in_call.case_id, actor=dr_tanaka))
    refused(lambda: services.no_show(case_id=in_call.case_id, actor=coordinator_sato))
    assert written(in_call.case) == before
