"""Keyset pages (cursor paging) over a queryset ordered by (a time, the primary key).

An OFFSET page reads and throws away every row before it, so page 200 of a long queue costs
200 pages; a keyset page starts at an indexed (time, pk) and reads one page. The cursor is an
opaque token in the URL: the page's edge row, the direction and the page's number (shown to the
reader only; rows added meanwhile make it approximate, never the rows wrong).
"""

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from opiniondesk.core.converters import MAX_ID


@dataclass(frozen=True)
class Cursor:
    at: datetime
    pk: int
    before: bool  # the page before this row (a "previous" link), else the page after it
    number: int  # the page's number, for "page n of m"


def cursor_encode(cursor: Cursor) -> str:
    raw = f"{cursor.at.isoformat()}|{cursor.pk}|{'b' if cursor.before else 'a'}|{cursor.number}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(token: str | None) -> Cursor | None:
    """The cursor, or None for a missing or malformed one (then the first page is shown)."""
    if not token or len(token) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        at, pk, direction, number = raw.split("|")
        cursor = Cursor(datetime.fromisoformat(at), int(pk), direction == "b", int(number))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if cursor.at.tzinfo is None or direction not in ("a", "b") or not 0 < cursor.pk <= MAX_ID:
        return None
    if not 2 <= cursor.number <= 10**6:  # a cursor always points past the first page
        return None
    return cursor


@dataclass(frozen=True)
class KeysetPage:
    items: Sequence[Any]
    number: int
    next: Cursor | None
    previous: Cursor | None

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def keyset_page(
    rows: QuerySet[Any], *, key: str, descending: bool, cursor: Cursor | None, size: int
) -> KeysetPage:
    """One page of `rows` ordered by (`key`, pk), ascending unless `descending`.

    `key` must be a non-null column indexed together with the pk (cases' Meta.indexes). The
    condition is written `key >= t AND (key > t OR pk > p)`: the first part lets the database
    walk the index from t and stop after one page.
    """
    forward = cursor is None or not cursor.before
    # Reading backwards for a "previous" page: the order flips, and so does the comparison.
    down = descending == forward
    order = (f"-{key}", "-pk") if down else (key, "pk")
    if cursor is not None:
        edge, beyond = ("lte", "lt") if down else ("gte", "gt")
        rows = rows.filter(
            Q(**{f"{key}__{edge}": cursor.at})
            & (Q(**{f"{key}__{beyond}": cursor.at}) | Q(**{f"pk__{beyond}": cursor.pk}))
        )
    fetched = list(rows.order_by(*order)[: size + 1])
    more = len(fetched) > size
    items = fetched[:size]
    if not forward:
        items.reverse()
    number = 1 if cursor is None else (cursor.number if forward else cursor.number - 1)
    number = max(number, 1)
    first, last = (items[0], items[-1]) if items else (None, None)
    has_next = more if forward else cursor is not None
    has_previous = (cursor is not None) if forward else more
    return KeysetPage(
        items=items,
        number=number,
        next=Cursor(getattr(last, key), last.pk, False, number + 1) if has_next and last else None,
        previous=(
            Cursor(getattr(first, key), first.pk, True, number) if has_previous and first else None
        ),
    )
