"""Calls started together, each in its own thread and database connection, as requests served
by different workers would be (the PostgreSQL concurrency tests)."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_at_once(*calls: Callable[[], Any], timeout: float) -> list[tuple[str, Any]]:
    """Run each call in its own thread and connection, released together by a barrier.

    Returns, per call, ("ok", value) or ("error", exception). A call still running after
    `timeout` seconds (a lock that never comes back) fails the test instead of hanging it.
    """
    barrier = threading.Barrier(len(calls), timeout=timeout)
    outcomes: list[Any] = [None] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcomes[index] = ("ok", call())
        except Exception as exc:  # the outcome is the subject of the test
            outcomes[index] = ("error", exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a call hung"
    return outcomes
