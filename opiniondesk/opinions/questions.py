"""The patient's questions of the application as separate items, each to be answered. Pure.

People write them one a line, numbered (1. / １． / (1) / ① / 問1), bulleted (・ - ●), or
several in one line, each ending with a question mark: each becomes one item, its marker
removed, its words kept as written.
"""

import re

_MARKER = re.compile(
    r"^\s*(?:"
    r"[(（]?\d{1,2}[)）.．、:：]"  # 1. 1) (1) 1、
    r"|問\s*\d{1,2}[.．:：、]?"  # 問1
    r"|Q\d{1,2}[.．:：、]?"  # Q1
    r"|[\u2460-\u2473]"  # ① … ⑳
    r"|[・\-‐－●○■□◆◇*＊]"  # bullets
    r")\s*"
)
# A question mark (half- or full-width) ends a question inside a line.
_AFTER_QUESTION = re.compile(r"(?<=[?？])\s*(?=\S)")


def split_questions(text: str) -> list[str]:
    """The questions in the order they were asked; none for a blank text."""
    items: list[str] = []
    for line in text.splitlines():
        line = _MARKER.sub("", line, count=1).strip()
        if not line:
            continue
        items.extend(part.strip() for part in _AFTER_QUESTION.split(line) if part.strip())
    return items
