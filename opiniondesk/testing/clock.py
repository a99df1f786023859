"""The suite as if at another moment: `make test-as-if AT="2027-01-04 09:00 +0900"`.

Many tests read today's date (the next open day, deadlines, this week's calendar), so CI only
checks the days it happens to run on. With TEST_AS_IF_AT set, every test process starts its clock
at that moment (time_machine, ticking; a test's own travel still wins), so a weekend, a holiday
or the year-end closure can be tried before it comes.

A clock outside the test process cannot move: the S3 server signs requests with its own (a
request from the future is refused), coturn checks credential expiry by its own, the kernel
stamps files with the real time. Tests that depend on one (the s3_server and turnserver
fixtures, the "s3" storage, the marker `real_clock`) are deselected (pytest counts them).
Browser tests are left out by the make target (Chromium keeps the real time).
"""

import os
from typing import Any

import pytest

AT = os.environ.get("TEST_AS_IF_AT", "")
OUTSIDE_CLOCKS = {"s3_server", "turnserver"}  # fixtures of servers with their own clock


def needs_the_real_clock(item: pytest.Item) -> bool:
    if item.get_closest_marker("real_clock"):
        return True
    if OUTSIDE_CLOCKS & set(getattr(item, "fixturenames", ())):
        return True
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("document_storage") == "s3"


def pytest_configure(config: pytest.Config) -> None:
    if not AT:
        return
    import time_machine

    travel: Any = time_machine.travel(AT, tick=True)
    travel.start()
    config.add_cleanup(travel.stop)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not AT:
        return
    kept, dropped = [], []
    for item in items:
        (dropped if needs_the_real_clock(item) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_report_header(config: pytest.Config) -> str | None:
    if not AT:
        return None
    return f"clock: as if at {AT} (TEST_AS_IF_AT); tests on a clock outside it deselected"
