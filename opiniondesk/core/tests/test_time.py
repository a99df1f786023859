from datetime import UTC, date, datetime

import time_machine

from opiniondesk.core.time import JST, jst_now, jst_today


@time_machine.travel(datetime(2026, 11, 25, 14, 59, 59, tzinfo=UTC), tick=False)
def test_it_is_still_the_same_day_in_tokyo_before_15_utc():
    assert jst_today() == date(2026, 11, 25)


@time_machine.travel(datetime(2026, 11, 25, 15, 0, 0, tzinfo=UTC), tick=False)
def test_it_turns_the_day_at_midnight_jst_whatever_the_server_zone(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    assert jst_today() == date(2026, 11, 26)
    assert jst_now().tzinfo == JST
    assert jst_now().hour == 0
