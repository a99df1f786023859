"""`make test-as-if` (opiniondesk/testing/clock.py): the test processes' clock starts at the
moment asked for, and the tests on a clock outside the process are deselected."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

TESTS = """
from datetime import date

import pytest


def test_today():
    assert date.today() == date(2031, 2, 3)


@pytest.mark.real_clock
def test_on_a_file_time():
    pass


@pytest.mark.parametrize("document_storage", ["local", "s3"])
def test_stored(document_storage):
    pass
"""


def run(tmp_path: Path, at: str | None) -> str:
    (tmp_path / "test_when.py").write_text(TESTS)
    env = {k: v for k, v in os.environ.items() if k != "TEST_AS_IF_AT"}
    env["PYTHONPATH"] = str(settings.BASE_DIR)
    if at:
        env["TEST_AS_IF_AT"] = at
    options = ["-p", "no:django", "-p", "no:xdist", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *options, "-p", "opiniondesk.testing.clock", "-rN"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout


@pytest.mark.parametrize(
    ("at", "outcome"),
    [
        ("2031-02-03 09:00 +0900", "2 passed, 2 deselected"),
        (None, "1 failed, 3 passed"),
    ],
)
def test_the_clock_moves_and_the_outside_clocks_are_left_out(tmp_path, at, outcome):
    output = run(tmp_path, at)
    assert outcome in output, output
    assert ("clock: as if at 2031-02-03 09:00 +0900" in output) is bool(at)
