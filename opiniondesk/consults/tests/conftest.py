"""A case ready for its online (or in-person) consult, and the moments around its booked time."""

from datetime import timedelta

import pytest
import time_machine

from opiniondesk.consults.services import consult_open
from opiniondesk.scheduling.selectors import live_booking
from opiniondesk.testing.builders import ready_case


@pytest.fixture
def ready(seeded):
    """Hana's own online cardiology case, booked with Dr Tanaka and ready."""
    return ready_case()


@pytest.fixture
def booking(ready):
    return live_booking(ready.pk)


@pytest.fixture
def at():
    """Travel to a moment (the clock stands still unless told to tick)."""
    travellers = []

    def travel(moment, tick=False):
        traveller = time_machine.travel(moment, tick=tick)
        traveller.start()
        travellers.append(traveller)
        return moment

    yield travel
    for traveller in reversed(travellers):
        traveller.stop()


@pytest.fixture
def in_room(ready, booking, at):
    """Two minutes before the booked time: the waiting room is open; the consult exists."""
    at(booking.starts_at - timedelta(minutes=2))
    return consult_open(case=ready)
