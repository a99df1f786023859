"""Age as Japanese law counts it (SPEC §3): a new age counts from the day before the birthday."""

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from opiniondesk.cases.age import ADULT_AGE, age_on, is_adult

# birth date, the date asked about, the legal age on that date
AGES = [
    # the day before the birthday already counts the new age
    pytest.param(date(2008, 4, 2), date(2026, 3, 31), 17, id="two-days-before-18th"),
    pytest.param(date(2008, 4, 2), date(2026, 4, 1), 18, id="day-before-18th"),
    pytest.param(date(2008, 4, 2), date(2026, 4, 2), 18, id="18th-birthday"),
    pytest.param(date(2008, 4, 2), date(2027, 3, 31), 18, id="two-days-before-19th"),
    pytest.param(date(2008, 4, 1), date(2026, 3, 31), 18, id="born-1-april-day-before"),
    # the day of birth and the first year
    pytest.param(date(2026, 4, 1), date(2026, 4, 1), 0, id="birth-day-itself"),
    pytest.param(date(2026, 4, 1), date(2027, 3, 30), 0, id="two-days-before-1st"),
    pytest.param(date(2026, 4, 1), date(2027, 3, 31), 1, id="day-before-1st"),
    # year boundaries
    pytest.param(date(2000, 1, 1), date(2000, 12, 30), 0, id="born-1-jan-30-dec"),
    pytest.param(date(2000, 1, 1), date(2000, 12, 31), 1, id="born-1-jan-31-dec"),
    pytest.param(date(2000, 1, 1), date(2001, 1, 1), 1, id="born-1-jan-birthday"),
    pytest.param(date(2000, 1, 2), date(2000, 12, 31), 0, id="born-2-jan-31-dec"),
    pytest.param(date(2000, 1, 2), date(2001, 1, 1), 1, id="born-2-jan-1-jan"),
    pytest.param(date(1999, 12, 31), date(2000, 12, 29), 0, id="born-31-dec-29-dec"),
    pytest.param(date(1999, 12, 31), date(2000, 12, 30), 1, id="born-31-dec-30-dec"),
    pytest.param(date(1999, 12, 31), date(2000, 12, 31), 1, id="born-31-dec-birthday"),
    # born 29 February: the new age counts from 28 February, in common and leap years alike
    pytest.param(date(2004, 2, 29), date(2005, 2, 27), 0, id="leap-born-common-27-feb"),
    pytest.param(date(2004, 2, 29), date(2005, 2, 28), 1, id="leap-born-common-28-feb"),
    pytest.param(date(2004, 2, 29), date(2005, 3, 1), 1, id="leap-born-common-1-mar"),
    pytest.param(date(2004, 2, 29), date(2008, 2, 27), 3, id="leap-born-leap-27-feb"),
    pytest.param(date(2004, 2, 29), date(2008, 2, 28), 4, id="leap-born-leap-28-feb"),
    pytest.param(date(2004, 2, 29), date(2008, 2, 29), 4, id="leap-born-leap-29-feb"),
    pytest.param(date(2004, 2, 29), date(2022, 2, 27), 17, id="leap-born-27-feb-of-18th"),
    pytest.param(date(2004, 2, 29), date(2022, 2, 28), 18, id="leap-born-28-feb-of-18th"),
    # born 1 March: the day before is 29 February in leap years
    pytest.param(date(2000, 3, 1), date(2003, 2, 28), 3, id="born-1-mar-common-28-feb"),
    pytest.param(date(2000, 3, 1), date(2004, 2, 28), 3, id="born-1-mar-leap-28-feb"),
    pytest.param(date(2000, 3, 1), date(2004, 2, 29), 4, id="born-1-mar-leap-29-feb"),
    # born 28 February: 27 February, whatever the year
    pytest.param(date(2000, 2, 28), date(2001, 2, 26), 0, id="born-28-feb-26-feb"),
    pytest.param(date(2000, 2, 28), date(2001, 2, 27), 1, id="born-28-feb-27-feb"),
    pytest.param(date(2000, 2, 28), date(2004, 2, 27), 4, id="born-28-feb-leap-27-feb"),
    # the ends of the calendar
    pytest.param(date.min, date.min, 0, id="date-min"),
    pytest.param(date.min, date(1, 12, 31), 1, id="date-min-first-year"),
    pytest.param(date.max, date.max, 0, id="born-date-max"),
    pytest.param(date.min, date.max, 9999, id="date-min-to-date-max"),
    pytest.param(date(2000, 1, 1), date.max, 8000, id="date-max-day-before-birthday"),
    pytest.param(date(2000, 1, 2), date.max, 7999, id="date-max-two-days-before"),
    pytest.param(date(2000, 2, 29), date.max, 7999, id="date-max-leap-born"),
    pytest.param(date(2000, 12, 31), date.max, 7999, id="date-max-birthday"),
]


@pytest.mark.parametrize(("birth", "on", "age"), AGES)
def test_age_on(birth: date, on: date, age: int) -> None:
    assert age_on(birth, on) == age


@pytest.mark.parametrize(
    ("birth", "on"),
    [
        (date(2026, 4, 2), date(2026, 4, 1)),
        (date(2027, 1, 1), date(2026, 12, 31)),
        (date.max, date.min),
    ],
)
def test_a_birth_after_the_date_is_refused(birth: date, on: date) -> None:
    with pytest.raises(ValueError):
        age_on(birth, on)
    with pytest.raises(ValueError):
        is_adult(birth, on)


def test_adulthood_is_18() -> None:
    assert ADULT_AGE == 18


@pytest.mark.parametrize(
    ("birth", "on", "adult"),
    [
        (date(2008, 4, 2), date(2026, 3, 31), False),
        (date(2008, 4, 2), date(2026, 4, 1), True),
        (date(2008, 4, 2), date(2026, 4, 2), True),
        (date(2008, 1, 1), date(2025, 12, 30), False),
        (date(2008, 1, 1), date(2025, 12, 31), True),
        (date(2008, 2, 29), date(2026, 2, 27), False),
        (date(2008, 2, 29), date(2026, 2, 28), True),
        (date(2026, 4, 1), date(2026, 4, 1), False),
        (date(1930, 6, 15), date(2026, 4, 1), True),
        (date(2000, 1, 1), date.max, True),
    ],
)
def test_is_adult(birth: date, on: date, adult: bool) -> None:
    assert is_adult(birth, on) is adult


def _anniversary(birth: date, years: int) -> date:
    """The `years`-th birthday; 1 March in common years for someone born on 29 February."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return date(birth.year + years, 3, 1)


@given(st.lists(st.dates(), min_size=3, max_size=3))
def test_age_never_decreases(days: list[date]) -> None:
    birth, earlier, later = sorted(days)

    assert age_on(birth, earlier) <= age_on(birth, later)


@given(st.dates(), st.dates(max_value=date(9999, 12, 30)))
def test_age_grows_at_most_one_a_day(a: date, b: date) -> None:
    birth, on = min(a, b), max(a, b)

    assert age_on(birth, on + timedelta(days=1)) - age_on(birth, on) in (0, 1)


# A birth date and a number of years whose next birthday is still a `date`.
births_and_years = st.dates(max_value=date(9997, 12, 31)).flatmap(
    lambda birth: st.tuples(st.just(birth), st.integers(1, 9998 - birth.year))
)


@given(births_and_years)
def test_age_grows_by_one_each_year_on_the_day_before_the_birthday(
    birth_and_years: tuple[date, int],
) -> None:
    birth, n = birth_and_years
    day_before = _anniversary(birth, n) - timedelta(days=1)
    day_before_next = _anniversary(birth, n + 1) - timedelta(days=1)

    assert age_on(birth, day_before - timedelta(days=1)) == n - 1
    assert age_on(birth, day_before) == n
    assert age_on(birth, day_before_next - timedelta(days=1)) == n
    assert age_on(birth, day_before_next) == n + 1


@given(st.dates(max_value=date(9998, 12, 31)), st.dates(max_value=date(9998, 12, 31)))
def test_the_same_date_a_year_later_is_one_year_older(a: date, b: date) -> None:
    birth, on = min(a, b), max(a, b)
    # Around 28/29 February the day before a birthday moves with leap years; the table covers it.
    assume((on.month, on.day) not in ((2, 28), (2, 29)))

    assert age_on(birth, on.replace(year=on.year + 1)) == age_on(birth, on) + 1
