"""The demo's contents, loaded once for all these tests (test_demo.py loads it itself where
the loading is what is tested)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.models import Case, DocumentRequest, PhoneLog
from opiniondesk.cases.selectors import cases_visible_to
from opiniondesk.core.time import jst_today
from opiniondesk.documents.models import Document

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_loaded")]
PAST = "past_patient_"  # the invented patients of the lead times' year (demo/history.py)


@pytest.fixture(scope="module")
def demo_loaded(django_db_setup, django_db_blocker):
    """The demo loaded once for the tests that only look at it, inside a transaction that is
    rolled back after them (each test runs in a savepoint of it, as Django's setUpTestData)."""
    from django.db import transaction
    from django.test import override_settings

    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as every test (conftest)
    with django_db_blocker.unblock(), override_settings(DEMO_MODE=True, PASSWORD_HASHERS=hashers):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("load_demo")
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_it_gives_one_user_per_role_with_working_passwords(settings):
    settings.DEMO_MODE = True
    for role in Role:
        assert User.objects.filter(role=role).exists(), role
    tanaka = User.objects.get(username="dr_tanaka")
    assert tanaka.check_password("demo-tanaka-2026")
    assert list(tanaka.departments.values_list("code", flat=True)) == ["cardiology"]


def test_it_gives_each_persona_work_waiting(settings):
    settings.DEMO_MODE = True
    personas = Case.objects.exclude(applicant__username__startswith=PAST)  # not the year's history
    states = sorted(personas.values_list("applicant__username", "status"))
    assert states == [
        ("patient_akiko", "ready"),
        ("patient_emi", "awaiting_documents"),
        ("patient_hana", "draft"),
        ("patient_hana", "submitted"),
        ("patient_hiroshi", "booked"),
        ("patient_jun", "screening"),
        ("patient_kazuko", "accepted"),
        ("patient_masao", "ready"),
        ("patient_michiko", "offered"),
        ("patient_sachiko", "declined"),
        ("patient_shigeru", "completed"),
        ("patient_takeshi", "rejected"),
        ("patient_tomoko", "closed"),
        ("patient_yoshio", "referred"),
        ("proxy_ken", "awaiting_documents"),
        ("proxy_ken", "referred"),
    ]
    assert Document.objects.filter(case__applicant__username="proxy_ken").count() == 4 + 5
    everything = Case.objects.count()
    call_command("load_demo")
    assert personas.count() == 16 and Case.objects.count() == everything


def _seen_by(username):
    user = User.objects.get(username=username)
    seen = cases_visible_to(user).exclude(applicant__username__startswith=PAST)
    return sorted(seen.values_list("applicant__username", "status", "department__code"))


def test_the_specialists_see_their_departments_cases_waiting(settings):
    settings.DEMO_MODE = True
    assert _seen_by("dr_tanaka") == [
        ("patient_akiko", "ready", "cardiology"),
        ("patient_hiroshi", "booked", "cardiology"),
        ("patient_kazuko", "accepted", "cardiology"),
        ("patient_michiko", "offered", "cardiology"),
        ("patient_tomoko", "closed", "cardiology"),
        ("patient_yoshio", "referred", "cardiology"),
    ]
    assert _seen_by("dr_mori") == [
        ("patient_masao", "ready", "neurology"),
        ("patient_sachiko", "declined", "neurology"),
        ("patient_shigeru", "completed", "neurology"),
        ("proxy_ken", "referred", "neurology"),
    ]
    assert len(_seen_by("coordinator_sato")) == 15  # everything but Hana's draft


def test_the_demo_cases_carry_what_each_state_shows(settings):
    settings.DEMO_MODE = True
    jun = Case.objects.get(applicant__username="patient_jun")
    [call] = PhoneLog.objects.filter(case=jun)
    assert (call.outcome, call.called_by.username) == ("reached", "coordinator_sato")
    emi = Case.objects.get(applicant__username="patient_emi")
    [asked] = DocumentRequest.objects.filter(case=emi)
    assert asked.items == ["TEST_DATA"] and asked.requested_by.username == "coordinator_sato"
    assert asked.due_date > jst_today() and asked.fulfilled_at is None
    kazuko = Case.objects.get(applicant__username="patient_kazuko")
    [review] = kazuko.review_sessions.all()
    assert (review.seconds, review.specialist.username) == (35 * 60, "dr_tanaka")
    assert review.correction_reason and kazuko.planned_minutes == 60
    takeshi = Case.objects.get(applicant__username="patient_takeshi")
    assert takeshi.rejection_reasons == ["WANTS_TRANSFER"] and takeshi.rejection_note
    sachiko = Case.objects.get(applicant__username="patient_sachiko")
    assert sachiko.decline_reason
    assert sachiko.transitions.last().actor.username == "dr_mori"
    # Made through the services: every step is a transition row and an audit event.
    for case in Case.objects.exclude(status="draft"):
        moves = list(case.transitions.values_list("to_status", flat=True))
        assert moves[-1] == case.status
        audited = AuditEvent.objects.filter(case_id=case.pk, action="transition").count()
        assert audited == len(moves)
    call_command("verify_audit_log")


def test_the_demo_schedule_has_dates_bookings_and_readiness(settings):
    from opiniondesk.readiness.models import ConsentSignature, DeviceCheck, IdentityReview
    from opiniondesk.scheduling.models import Booking, OfferedSlot

    settings.DEMO_MODE = True
    michiko = Case.objects.get(applicant__username="patient_michiko")
    held = OfferedSlot.objects.filter(offer__case=michiko, released_at__isnull=True)
    assert held.count() == 3 and all(slot.starts_at > timezone.now() for slot in held)
    hiroshi = Case.objects.get(applicant__username="patient_hiroshi")
    [licence] = Document.objects.filter(case=hiroshi, kind="patient_id")
    assert not IdentityReview.objects.filter(document=licence).exists()  # the coordinator's
    akiko = Case.objects.get(applicant__username="patient_akiko")
    assert ConsentSignature.objects.filter(case=akiko).exists()
    assert DeviceCheck.objects.filter(case=akiko).exists()
    masao = Case.objects.get(applicant__username="patient_masao")
    assert masao.mode == "in_person"
    live = Booking.objects.filter(cancelled_at__isnull=True).exclude(
        case__applicant__username__startswith=PAST
    )
    assert sorted(b.case.applicant.username for b in live) == [
        "patient_akiko",
        "patient_hiroshi",
        "patient_masao",
        "patient_shigeru",
        "patient_tomoko",
    ]
    assert len({(b.specialist_id, b.starts_at) for b in live}) == 5
    # Hiroshi's consult is planned for 60 minutes and books both of its slots
    [sixty] = [b for b in live if b.case.planned_minutes == 60]
    assert sixty.case == hiroshi and sixty.ends_at - sixty.starts_at == timedelta(minutes=60)
    assert sixty.booked_slots.filter(released_at__isnull=True).count() == 2
    kazuko = Case.objects.get(applicant__username="patient_kazuko")
    assert kazuko.planned_minutes == 60


def test_the_demo_billing_desk_has_a_fee_paid_and_a_fee_due(settings):
    from opiniondesk.billing.models import Charge, Receipt

    settings.DEMO_MODE = True
    paid = Charge.objects.get(case__applicant__username="patient_tomoko")
    assert (paid.state, paid.amount, paid.billable_minutes, paid.collect_method) == (
        "collected",
        44_000,
        20,
        "terminal",
    )
    [receipt] = Receipt.objects.filter(charge=paid)
    assert receipt.payer_name == "清水 智子" and receipt.registration_number.startswith("T")
    due = Charge.objects.get(case__applicant__username="patient_shigeru")
    assert (due.state, due.amount) == ("at_desk", 44_000)
    counts = Charge.objects.count(), Receipt.objects.count()
    call_command("load_demo")
    assert (Charge.objects.count(), Receipt.objects.count()) == counts
    personas = Charge.objects.exclude(case__applicant__username__startswith=PAST)
    assert personas.count() == 2


def test_the_demo_has_an_opinion_posted_and_one_being_written(settings):
    from opiniondesk.opinions.models import Disclosure, OpinionDelivery, OpinionVersion

    settings.DEMO_MODE = True
    tomoko = Case.objects.get(applicant__username="patient_tomoko")
    [signed] = OpinionVersion.objects.filter(opinion__case=tomoko)
    assert (signed.state, signed.signed_by.username) == ("signed", "dr_tanaka")
    assert signed.content_hash == signed.computed_hash(tomoko.pk)
    [posted] = OpinionDelivery.objects.filter(case=tomoko)
    assert posted.method == "post" and posted.delivered_at is not None
    assert Disclosure.objects.get(delivery=posted).version == signed
    assert tomoko.status == "closed"
    shigeru = Case.objects.get(applicant__username="patient_shigeru")
    [draft] = OpinionVersion.objects.filter(opinion__case=shigeru)
    assert (draft.state, draft.written_by.username) == ("draft", "dr_mori")
    assert not OpinionDelivery.objects.filter(case=shigeru).exists()
    # The physicians' delivery details are invented: no real address or mailbox.
    for case in (tomoko, shigeru):
        assert case.physician_email.endswith(".invalid")
        assert "架空" in case.physician_address
    counts = OpinionVersion.objects.count(), OpinionDelivery.objects.count()
    call_command("load_demo")
    assert (OpinionVersion.objects.count(), OpinionDelivery.objects.count()) == counts


def test_every_contact_in_the_demo_is_invented():
    """Every phone number, postal code and address the demo stores (issue #16 item 12; the
    pattern is explained in test_invented_contacts)."""
    from opiniondesk.cases.models import Proxy
    from opiniondesk.core.tests.test_invented_contacts import (
        INVENTED_POSTAL,
        invented_address,
        invented_phone,
    )
    from opiniondesk.opinions.models import OpinionDelivery

    phones = ["patient_phone", "applicant_phone", "physician_phone", "physician_fax"]
    postal = ["patient_postal_code", "physician_postal_code"]
    addresses = ["patient_address", "physician_address"]
    wrong = []
    for row in Case.objects.values("pk", *phones, *postal, *addresses):
        wrong += [(row["pk"], row[f]) for f in phones if row[f] and not invented_phone(row[f])]
        wrong += [
            (row["pk"], row[f]) for f in postal if row[f] and not INVENTED_POSTAL.match(row[f])
        ]
        wrong += [(row["pk"], row[f]) for f in addresses if row[f] and not invented_address(row[f])]
    numbers = [*Proxy.objects.values_list("phone", flat=True)]
    numbers += PhoneLog.objects.values_list("number", flat=True)
    wrong += [("phone", n) for n in numbers if n and not invented_phone(n)]
    posted = OpinionDelivery.objects.exclude(recipient_address="")
    wrong += [
        ("delivery", a)
        for a in posted.values_list("recipient_address", flat=True)
        if not invented_address(a)
    ]
    assert Case.objects.exclude(patient_phone="").count() >= 10
    assert not wrong, wrong


def test_the_lead_times_have_a_year_of_history_and_cases_waiting():
    """The lead-time page under `make run` (issue #16 item 11): each step of cardiology has
    figures in most of the last twelve months, neurology waits longer for a consult, cases
    wait in the early steps, and Dr Tanaka heads cardiology."""
    from django.test import Client

    from opiniondesk.catalog.models import Department
    from opiniondesk.core.time import JST
    from opiniondesk.desk.lead_time_page import histories
    from opiniondesk.desk.lead_times import STEPS, Milestone, months_between, summarise

    today = jst_today()
    months = months_between(today.replace(year=today.year - 1, day=1), today)
    found = histories(Case.objects.filter(submitted_at__isnull=False))
    figures = summarise(found, months=months, zone=JST)
    cardiology, neurology = (Department.objects.get(code=c).pk for c in ("cardiology", "neurology"))
    for step in STEPS:
        with_figures = [m for m in months if (cardiology, m, step) in figures]
        assert len(with_figures) >= 8, (step, with_figures)
    booked = Milestone.BOOKED
    assert figures[neurology, None, booked].median > figures[cardiology, None, booked].median
    tanaka = User.objects.get(username="dr_tanaka")
    assert tanaka.is_department_head and not User.objects.get(username="dr_mori").is_department_head
    client = Client()
    client.force_login(tanaka)
    page = client.get("/staff/lead-times/").content.decode()
    assert "SO-" in page.split('id="waiting"')[1]


def test_the_past_cases_leave_no_booking_in_the_calendar_ahead():
    from opiniondesk.scheduling.models import BookedSlot, Booking

    past = Booking.objects.filter(case__applicant__username__startswith=PAST)
    assert past.count() >= 15
    assert all(b.starts_at < timezone.now() for b in past)
    slots = BookedSlot.objects.filter(booking__in=past)
    assert not slots.filter(starts_at__gte=timezone.now()).exists()
