"""The audit log's hash chain (SPEC §11.11). Pure: no database.

Each event's hash covers its own fields and the previous event's hash, so editing or deleting any
event breaks every link after it; the chain head (last sequence number and hash) catches a
deleted tail.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the event's fields in canonical JSON."""
    canonical = json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainedEvent:
    sequence: int
    prev_hash: str
    hash: str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class Break:
    sequence: int  # the first event (or expected sequence) at fault
    problem: str


def first_break(
    events: Iterable[ChainedEvent], *, head_sequence: int, head_hash: str
) -> Break | None:
    """The first broken link of a chain read in sequence order, or None if it is whole."""
    expected_sequence, prev = 1, GENESIS
    for event in events:
        if event.sequence != expected_sequence:
            return Break(expected_sequence, f"event {expected_sequence} is missing")
        if event.prev_hash != prev:
            return Break(event.sequence, "its link to the previous event does not match")
        if event_hash(prev, event.fields) != event.hash:
            return Break(event.sequence, "its content was changed after it was written")
        expected_sequence, prev = expected_sequence + 1, event.hash
    if expected_sequence - 1 != head_sequence or prev != head_hash:
        return Break(expected_sequence, f"events after {expected_sequence - 1} were deleted")
    return None
