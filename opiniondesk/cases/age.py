"""Age as Japanese law counts it (年齢計算ニ関スル法律, Civil Code art. 143).

A person attains an age at the end of the day before the anniversary of their birth, so on that
day they are counted as having it: born 2008-04-02, they are 18 on 2026-04-01. Someone born on
29 February reaches a new age at the end of 28 February in common years. Pure: no clock.
"""

from datetime import date, timedelta

ADULT_AGE = 18  # 成年年齢 (Civil Code art. 4, since 2022)


def _completed_years(birth: date, year: int, month: int, day: int) -> int:
    """Anniversaries passed by the start of year-month-day (29 Feb births count 1 March in
    common years). Takes numbers, not a date, so that the day after 9999-12-31 can be asked."""
    years = year - birth.year
    if (month, day) < (birth.month, birth.day):
        years -= 1
    return years


def age_on(birth_date: date, on: date) -> int:
    """The legal age on the date `on` (a JST calendar date)."""
    if birth_date > on:
        raise ValueError("birth date is after the date asked about")
    if on == date.max:  # the next day, 10000-01-01, is not a `date`
        return _completed_years(birth_date, on.year + 1, 1, 1)
    next_day = on + timedelta(days=1)
    return _completed_years(birth_date, next_day.year, next_day.month, next_day.day)


def is_adult(birth_date: date, on: date) -> bool:
    return age_on(birth_date, on) >= ADULT_AGE
