"""A year of past cases for the lead-time page (issue #16 item 11). Demo mode only.

Each case is made today through the services the pages use, from the application to the opinion
posted to the physician (or to the step it still waits in), and its recorded times are then moved
back to the dates of its plan: the transitions step by step, and the rows of the booking, the
consult, the fee and the delivery with them. The audit log keeps the real time of loading (it is
sealed and never rewritten). The patients are invented and have no login.

Cardiology (Dr Tanaka, the demo's head of department) sees one case a month, neurology (in person
only, one afternoon a week) one every other month with longer waits for a date: the page shows
that bottleneck. A few cases still wait, for the "waiting longest" lists.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.db import models
from django.utils import timezone

from opiniondesk.accounts.models import Role, User
from opiniondesk.billing.models import CollectMethod
from opiniondesk.billing.services import collect
from opiniondesk.cases.models import Case, CaseTransition
from opiniondesk.cases.screening import case_accept
from opiniondesk.cases.workflow import Status
from opiniondesk.consults.services import visit_end, visit_start
from opiniondesk.core.time import JST, jst_today
from opiniondesk.demo.billing import DELIVERY_DETAILS, TOMOKO_OPINION, _opinion_draft
from opiniondesk.demo.cases import (
    Staff,
    answers_for,
    make_each,
    refer,
    reviewed,
    screen,
    send_application,
)
from opiniondesk.demo.schedule import book_first, offer, upload_id
from opiniondesk.opinions import services as opinions
from opiniondesk.readiness.rules import IdType
from opiniondesk.readiness.services import identity_review
from opiniondesk.scheduling.models import BookedSlot, Booking, HeldSlot, Offer, OfferedSlot

# Invented patients: (family, given, family kana, given kana, sex).
NAMES = [
    ("青木", "修", "アオキ", "オサム", "male"),
    ("石川", "恵子", "イシカワ", "ケイコ", "female"),
    ("上野", "昭", "ウエノ", "アキラ", "male"),
    ("遠藤", "幸子", "エンドウ", "サチコ", "female"),
    ("大野", "勉", "オオノ", "ツトム", "male"),
    ("岡本", "和代", "オカモト", "カズヨ", "female"),
    ("小野", "進", "オノ", "ススム", "male"),
    ("片山", "明美", "カタヤマ", "アケミ", "female"),
    ("北村", "博", "キタムラ", "ヒロシ", "male"),
    ("久保", "節子", "クボ", "セツコ", "female"),
    ("小山", "隆", "コヤマ", "タカシ", "male"),
    ("坂本", "良子", "サカモト", "ヨシコ", "female"),
    ("柴田", "実", "シバタ", "ミノル", "male"),
    ("杉山", "洋子", "スギヤマ", "ヨウコ", "female"),
    ("関", "清", "セキ", "キヨシ", "male"),
    ("高木", "悦子", "タカギ", "エツコ", "female"),
    ("千葉", "稔", "チバ", "ミノル", "male"),
    ("土屋", "静江", "ツチヤ", "シズエ", "female"),
    ("内藤", "正", "ナイトウ", "タダシ", "male"),
    ("野口", "久美子", "ノグチ", "クミコ", "female"),
    ("原田", "誠一", "ハラダ", "セイイチ", "male"),
    ("平野", "文子", "ヒラノ", "フミコ", "female"),
]
DISEASES = {"cardiology": "valvular_disease", "neurology": "parkinsons_disease"}
# Days each step takes, at least and at most: (application → screening, → acceptance,
# → booking, → consult, → opinion sent). Neurology's one afternoon a week makes dates wait.
DAYS = {
    "cardiology": ((1, 4), (3, 10), (4, 12), (7, 21), (7, 20)),
    "neurology": ((1, 5), (5, 14), (6, 16), (21, 45), (10, 28)),
}
# The milestones' states, and the hour (JST) each is recorded at on its (week)day.
PLAN_STATES = {
    Status.SUBMITTED: time(9, 30),
    Status.SCREENING: time(10, 15),
    Status.ACCEPTED: time(15, 0),
    Status.BOOKED: time(11, 30),
    Status.IN_CONSULT: time(14, 0),
    Status.CLOSED: time(16, 0),  # the opinion posted
}


@dataclass(frozen=True)
class Past:
    number: int  # the patient's place in NAMES
    department: str
    applied: datetime
    days: tuple[int, ...]  # one per step it got through
    waits_in: Status | None = None  # open: the last state it reached


def _plan() -> list[Past]:
    """The past cases: one a month for cardiology, one every other month for neurology, each
    applied on a weekday morning; then a few still waiting."""
    chance = random.Random(16)  # noqa: S311 (the same demo every time, not a secret)
    today = jst_today()
    past: list[Past] = []
    for months_ago in range(12, 1, -1):
        for department in ("cardiology", "neurology"):
            if department == "neurology" and months_ago % 2:
                continue
            day = _weekday(_months_back(today, months_ago).replace(day=chance.randint(3, 20)))
            days = tuple(chance.randint(*span) for span in DAYS[department])
            # Everything done by yesterday: a late case of the last months applied earlier.
            late = max(0, (day + timedelta(days=sum(days) + 16) - today).days)
            applied = datetime.combine(_weekday(day - timedelta(days=late)), time(9, 30), JST)
            past.append(Past(len(past), department, applied, days))
    # Still waiting: in screening, with the department, and for a date.
    for department, days_ago, steps, state in [
        ("cardiology", 9, (2,), Status.SCREENING),
        ("cardiology", 30, (1, 6), Status.ACCEPTED),
        ("neurology", 21, (3,), Status.REFERRED),
        ("cardiology", 5, (), Status.SUBMITTED),
    ]:
        day = today - timedelta(days=days_ago)
        applied = datetime.combine(_weekday(day), time(9, 30), tzinfo=JST)
        past.append(Past(len(past), department, applied, steps, state))
    return past


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _applicant(past: Past) -> User:
    family, given, _kana_f, _kana_g, _sex = NAMES[past.number]
    user, created = User.objects.get_or_create(
        username=f"past_patient_{past.number + 1:02d}",
        defaults={"last_name": family, "first_name": given, "role": Role.PATIENT},
    )
    if created:
        user.email = f"{user.username}@demo.opiniondesk.invalid"
        user.set_unusable_password()  # no login: only their case's history is shown
        user.save()
    return user


def _application(user: User, past: Past) -> Case:
    family, given, kana_family, kana_given, sex = NAMES[past.number]
    patient = {
        "patient_family_name": family,
        "patient_given_name": given,
        "patient_family_name_kana": kana_family,
        "patient_given_name_kana": kana_given,
        "patient_birth_date": date(1945 + past.number, 1 + past.number % 12, 10),
        "patient_sex": sex,
        "patient_postal_code": "000-0003",
        "patient_address": f"東京都架空区見本町{past.number + 1}-1-1",
        "patient_phone": f"03-0{400 + past.number}-{1000 + past.number}",
        "patient_email": user.email,
    }
    answers = answers_for(
        relation="self",
        department=past.department,
        disease=DISEASES[past.department],
        mode="in_person",
        patient=patient,
    )
    return send_application(user, answers)


def _made(past: Past) -> Callable[[User, Staff], None]:
    def make(user: User, staff: Staff) -> None:
        specialist = staff["mori"] if past.department == "neurology" else staff["tanaka"]
        case = _application(user, past)
        if past.waits_in is Status.SCREENING:
            screen(case, staff["sato"])
        elif past.waits_in is not Status.SUBMITTED:
            case = refer(case, staff["sato"])
        if past.waits_in in (None, Status.ACCEPTED):
            case_accept(case_id=case.pk, actor=specialist, planned_minutes=30)
            reviewed(case, specialist, minutes=15 + past.number % 3 * 5)  # the fee counts it
        if past.waits_in is None:
            _consulted_and_answered(case, user, specialist, staff)
        _move_back(Case.objects.get(pk=case.pk), past)

    return make


def _consulted_and_answered(case: Case, user: User, specialist: User, staff: Staff) -> None:
    """Booked, seen in person, paid at the desk; the opinion signed and posted."""
    case = Case.objects.get(pk=case.pk)
    offer(case, staff, count=1)
    book_first(case, user)
    identity_review(
        document_id=upload_id(case, user, IdType.DRIVERS_LICENCE),
        actor=staff["sato"],
        verified=True,
    )
    visit_start(case_id=case.pk, actor=specialist)
    visit_end(case_id=case.pk, actor=specialist)
    case = Case.objects.get(pk=case.pk)
    ito = User.objects.get(username="billing_ito")
    collect(charge_id=case.charge.pk, actor=ito, method=CollectMethod.TERMINAL)
    opinions.delivery_details_save(case_id=case.pk, actor=staff["sato"], **DELIVERY_DETAILS)
    draft = _opinion_draft(case, specialist, TOMOKO_OPINION)
    opinions.sign(
        version_id=draft.pk, actor=specialist, previewed_hash=draft.computed_hash(case.pk)
    )
    opinions.post_record(case_id=case.pk, actor=staff["sato"], posted_on=jst_today())


def _milestones(past: Past) -> dict[Status, datetime]:
    """Each milestone `days` after the one before, on a weekday at its usual hour."""
    moments, day = {}, past.applied.date()
    for (state, hour), days in zip(PLAN_STATES.items(), (0, *past.days), strict=False):
        day = _weekday(day + timedelta(days=days))
        moments[state] = datetime.combine(day, hour, tzinfo=JST)
    return moments


def _move_back(case: Case, past: Past) -> None:
    """Give the case's recorded times the dates of its plan: each transition to a milestone
    state its moment, the ones between a few minutes after the one before."""
    moments = _milestones(past)
    at, referred_at = past.applied, None
    for transition in CaseTransition.objects.filter(case=case).order_by("at", "pk"):
        at = moments.get(Status(transition.to_status), at + timedelta(minutes=20))
        CaseTransition.objects.filter(pk=transition.pk).update(at=at)
        if transition.to_status == Status.REFERRED and referred_at is None:
            referred_at = at
    Case.objects.filter(pk=case.pk).update(
        created_at=past.applied - timedelta(minutes=30),
        submitted_at=past.applied,
        status_changed_at=at,
        referred_at=referred_at,
    )
    if past.waits_in is None:
        _move_rows(case, moments[Status.IN_CONSULT], moments[Status.CLOSED])


# The case's rows beside its transitions, and how each reaches the case.
SLOT_ROWS = {
    Booking: "case",
    BookedSlot: "booking__case",
    Offer: "case",
    OfferedSlot: "offer__case",
    HeldSlot: "offered_slot__offer__case",
}
LATER_ROWS = {
    "consults.Consult": "case",
    "consults.ReviewSession": "case",
    "billing.Charge": "case",
    "billing.ChargeAttempt": "charge__case",
    "billing.Receipt": "charge__case",
    "documents.Document": "case",
}


def _move_rows(case: Case, consulted: datetime, sent: datetime) -> None:
    """The booking moves to the consult's planned moment (so today's calendar stays free), the
    rows made at the consult and after it to the day of the consult, the delivery to `sent`."""
    booking = Booking.objects.get(case=case)
    _shift(SLOT_ROWS, case, consulted - booking.starts_at)
    _shift(
        {apps.get_model(label): path for label, path in LATER_ROWS.items()},
        case,
        consulted - timezone.now(),
    )
    deliveries = apps.get_model("opinions.OpinionDelivery").objects.filter(case=case)
    deliveries.update(created_at=sent, delivered_at=sent, posted_on=sent.astimezone(JST).date())
    apps.get_model("opinions.Disclosure").objects.filter(case=case).update(disclosed_at=sent)


def _shift(rows: dict[Any, str], case: Case, delta: timedelta) -> None:
    for model, path in rows.items():
        fields = {
            f.name: models.F(f.name) + delta
            for f in model._meta.get_fields()
            if isinstance(f, models.DateTimeField)
        }
        model.objects.filter(**{path: case}).update(**fields)


def load_demo_history() -> None:
    """A year of past cases and a few still waiting, each made once."""
    table = [(_applicant(past).username, past.department, _made(past)) for past in _plan()]
    make_each(table)
