"""GET /api/v1/departments and /api/v1/calendar/closed-days (SPEC §2, §10)."""

from datetime import date, time, timedelta

import pytest

from opiniondesk.api.tests.conftest import CLOSED_DAYS_URL, DEPARTMENTS_URL
from opiniondesk.catalog.models import ConsultHours, Department, Disease, ExtraDocument

pytestmark = pytest.mark.usefixtures("demo_catalog")


def hours(weekday, starts_at, ends_at):
    return {"weekday": weekday, "starts_at": starts_at, "ends_at": ends_at}


# The demo catalog of SPEC §2, as SPEC §10 shapes it.
DEMO_DEPARTMENTS = [
    {
        "code": "cardiology",
        "name": "循環器内科",
        "modes": ["online", "in_person"],
        "consult_hours": [hours("tue", "14:00", "16:00"), hours("thu", "14:00", "16:00")],
        "diseases": [
            {"code": "heart_failure", "name": "心不全"},
            {"code": "arrhythmia", "name": "不整脈"},
            {"code": "valvular_disease", "name": "弁膜症"},
            {"code": "ischemic_heart_disease", "name": "虚血性心疾患"},
        ],
        "extra_documents": [],
    },
    {
        "code": "gastroenterology",
        "name": "消化器内科",
        "modes": ["online", "in_person"],
        "consult_hours": [hours("mon", "13:00", "15:00"), hours("wed", "13:00", "15:00")],
        "diseases": [
            {"code": "gastric_cancer", "name": "胃がん"},
            {"code": "colorectal_cancer", "name": "大腸がん"},
            {"code": "liver_cancer", "name": "肝がん"},
            {"code": "inflammatory_bowel_disease", "name": "炎症性腸疾患"},
        ],
        "extra_documents": [],
    },
    {
        "code": "geriatrics",
        "name": "老年病科",
        "modes": ["online", "in_person"],
        "consult_hours": [hours("fri", "10:00", "12:00")],
        "diseases": [
            {"code": "dementia", "name": "認知症"},
            {"code": "frailty", "name": "フレイル"},
            {"code": "polypharmacy", "name": "多剤併用(ポリファーマシー)"},
        ],
        "extra_documents": ["MEDICATION_LIST"],
    },
    {
        "code": "breast_surgery",
        "name": "乳腺・内分泌外科",
        "modes": ["online", "in_person"],
        "consult_hours": [hours("mon", "15:00", "17:00"), hours("thu", "15:00", "17:00")],
        "diseases": [
            {"code": "breast_cancer", "name": "乳がん"},
            {"code": "thyroid_cancer", "name": "甲状腺がん"},
        ],
        "extra_documents": [],
    },
    {
        "code": "neurology",
        "name": "脳神経内科",
        "modes": ["in_person"],
        "consult_hours": [hours("wed", "14:00", "16:00")],
        "diseases": [
            {"code": "parkinsons_disease", "name": "パーキンソン病"},
            {"code": "als", "name": "筋萎縮性側索硬化症(ALS)"},
            {"code": "epilepsy", "name": "てんかん"},
            {"code": "multiple_sclerosis", "name": "多発性硬化症"},
        ],
        "extra_documents": [],
    },
]


# --- Departments ----------------------------------------------------------------------------


def departments(api):
    response = api.get(DEPARTMENTS_URL)
    assert response.status_code == 200
    return response.json()


def test_it_lists_the_demo_catalog_exactly_as_the_spec_shapes_it(api):
    assert departments(api) == DEMO_DEPARTMENTS


def test_it_lists_the_medication_list_for_geriatrics_and_neurology_in_person_only(api):
    by_code = {d["code"]: d for d in departments(api)}
    assert by_code["geriatrics"]["extra_documents"] == ["MEDICATION_LIST"]
    assert by_code["neurology"]["modes"] == ["in_person"]


def test_it_hides_an_inactive_department(api):
    Department.objects.filter(code="geriatrics").update(is_active=False)
    assert [d["code"] for d in departments(api)] == [
        "cardiology",
        "gastroenterology",
        "breast_surgery",
        "neurology",
    ]


def add_departments(count):
    for n in range(count):
        dept = Department.objects.create(code=f"extra_{n}", name=f"診療科{n}", position=10 + n)
        Disease.objects.create(department=dept, code="d1", name="疾患1")
        Disease.objects.create(department=dept, code="d2", name="疾患2")
        ConsultHours.objects.create(
            department=dept, weekday=n % 5, starts_at=time(9), ends_at=time(11)
        )
        ExtraDocument.objects.create(department=dept, code="MEDICATION_LIST")


def test_it_reads_the_departments_in_a_constant_number_of_queries(
    api, django_assert_max_num_queries
):
    # One query for the departments, one each for diseases, hours and extra documents.
    with django_assert_max_num_queries(4):
        assert len(departments(api)) == 5
    add_departments(20)
    with django_assert_max_num_queries(4):
        listed = departments(api)
    assert len(listed) == 25
    assert listed[-1]["extra_documents"] == ["MEDICATION_LIST"]
    assert listed[-1]["consult_hours"] == [hours("fri", "09:00", "11:00")]  # n = 19


def test_it_lists_an_empty_catalog_as_an_empty_list(api):
    Department.objects.all().delete()
    assert departments(api) == []


def test_it_only_takes_get_for_departments(api):
    assert api.post(DEPARTMENTS_URL, {}).status_code == 405


# --- Closed days ----------------------------------------------------------------------------

# 2026's national holidays (祝日法), with the names the API gives.
HOLIDAYS_2026 = {
    "2026-01-01": ("national_holiday", "元日"),
    "2026-01-12": ("national_holiday", "成人の日"),
    "2026-02-11": ("national_holiday", "建国記念の日"),
    "2026-02-23": ("national_holiday", "天皇誕生日"),
    "2026-03-20": ("national_holiday", "春分の日"),
    "2026-04-29": ("national_holiday", "昭和の日"),
    "2026-05-03": ("national_holiday", "憲法記念日"),  # a Sunday
    "2026-05-04": ("national_holiday", "みどりの日"),
    "2026-05-05": ("national_holiday", "こどもの日"),
    "2026-05-06": ("substitute_holiday", "振替休日"),
    "2026-07-20": ("national_holiday", "海の日"),
    "2026-08-11": ("national_holiday", "山の日"),
    "2026-09-21": ("national_holiday", "敬老の日"),
    "2026-09-22": ("citizens_holiday", "国民の休日"),
    "2026-09-23": ("national_holiday", "秋分の日"),
    "2026-10-12": ("national_holiday", "スポーツの日"),
    "2026-11-03": ("national_holiday", "文化の日"),
    "2026-11-23": ("national_holiday", "勤労感謝の日"),
}
YEAR_END_2026 = {
    "2026-01-02": ("year_end", ""),
    "2026-01-03": ("year_end", ""),  # a Saturday: the closure is the more specific reason
    "2026-12-29": ("year_end", ""),
    "2026-12-30": ("year_end", ""),
    "2026-12-31": ("year_end", ""),
}


def closed(api, year):
    response = api.get(CLOSED_DAYS_URL, {"year": year})
    assert response.status_code == 200, response.content
    payload = response.json()
    assert set(payload) == {"year", "closed_days"}
    assert payload["year"] == int(year)
    return {d["date"]: (d["reason"], d["name"]) for d in payload["closed_days"]}, payload


def weekends(year):
    day = date(year, 1, 1)
    while day.year == year:
        if day.weekday() >= 5:
            yield day
        day += timedelta(days=1)


def test_it_lists_every_closed_day_of_2026_with_its_reason(api):
    days, payload = closed(api, 2026)
    listed = [d["date"] for d in payload["closed_days"]]
    assert listed == sorted(set(listed))  # in date order, each once
    assert all(set(d) == {"date", "reason", "name"} for d in payload["closed_days"])
    for day in weekends(2026):
        assert day.isoformat() in days
    not_weekend = {d: r for d, r in days.items() if r[0] not in ("saturday", "sunday")}
    assert not_weekend == HOLIDAYS_2026 | YEAR_END_2026
    for day, (reason, name) in days.items():
        if reason in ("saturday", "sunday"):
            assert (date.fromisoformat(day).strftime("%A").lower(), name) == (reason, "")
    # 104 weekend days, 17 holidays on weekdays, 4 year-end weekdays that are no holiday.
    assert len(days) == 125


def test_it_leaves_open_weekdays_out(api):
    days, _ = closed(api, 2026)
    for open_day in ("2026-11-25", "2026-12-28", "2026-01-05", "2026-05-07", "2026-09-24"):
        assert open_day not in days


def test_it_follows_the_year_end_closure_setting(api, settings):
    settings.CLOSURE_YEAR_END = ("12-28", "01-04")
    days, _ = closed(api, 2026)
    assert days["2026-12-28"] == ("year_end", "")
    assert days["2026-01-04"] == ("year_end", "")  # a Sunday, now for the closure
    settings.CLOSURE_YEAR_END = ("12-30", "01-02")
    days, _ = closed(api, 2026)
    assert "2026-12-29" not in days
    assert days["2026-01-03"] == ("saturday", "")


def test_it_answers_the_years_of_the_holiday_law(api):
    for year in ["1949", "2099", " 2026"]:
        days, _ = closed(api, year)
        assert days


def test_it_refuses_a_missing_or_impossible_year(api):
    for params in [
        {},
        {"years": "2026"},
        {"year": ""},
        {"year": "abc"},
        {"year": "1948"},
        {"year": "2100"},
        {"year": "-2026"},
        {"year": "2026.5"},
        {"year": "2026-01"},
        {"year": "1e3"},
        {"year": "9" * 2000},
    ]:
        response = api.get(CLOSED_DAYS_URL, params)
        assert response.status_code == 400, params
        assert set(response.json()) == {"year"}, params


def test_it_only_takes_get_for_closed_days(api):
    assert api.post(CLOSED_DAYS_URL + "?year=2026", {}).status_code == 405
