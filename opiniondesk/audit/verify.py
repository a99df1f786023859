"""Verifying the audit log against its keys and its external checkpoints (SPEC §11.11).

Streams the seals in position order, each joined to its event (flat memory: `.iterator()`), and
checks for every sealed event: its MAC (an edit), its place in the chain (a deletion, a
reordering, a recomputed chain), and the signed checkpoints at its position. Then the events not
yet sealed (their MACs, and none below the sealed horizon). The checkpoints are checked by
signature, the database's against the external directory's: external checkpoints beyond the
database's last mean a restored backup (or a truncated log and its checkpoints), reported as
"rolled back to checkpoint N" until `--accept-restore` records the acknowledgement.

Incremental by default: from the last checkpoint a clean run verified (AuditVerification),
taking that checkpoint's signed head as the start; `full=True` reads everything.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from django.db import DatabaseError
from django.db.models import Max
from django.utils import timezone

from opiniondesk.audit.chain import GENESIS, event_mac, link
from opiniondesk.audit.keys import key_id, mac_key, public_key
from opiniondesk.audit.models import (
    KEYED_COLUMNS,
    AuditCheckpoint,
    AuditEvent,
    AuditSeal,
    AuditVerification,
    CheckpointKind,
    keyed_fields,
)
from opiniondesk.audit.sealer import checkpoint_dir, export_checkpoint, sign_checkpoint

MAX_FAULTS = 20


@dataclass(frozen=True)
class Fault:
    sequence: int | None  # the event at fault, when one can be named
    problem: str

    def __str__(self) -> str:
        where = f"event {self.sequence}" if self.sequence is not None else "the log"
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class Checkpoint:
    number: int
    kind: str
    last_position: int
    last_sequence: int
    sealed_through: int
    head_hash: str
    body: str
    signature: str
    detail: dict[str, object]


@dataclass
class Report:
    events: int = 0
    sealed: int = 0
    unsealed: int = 0
    checkpoints: int = 0
    started_at_checkpoint: int = 0
    faults: list[Fault] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Set when the external checkpoints run further than the database: (db's last, external's last)
    rolled_back: tuple[int, int] | None = None

    @property
    def intact(self) -> bool:
        return not self.faults

    @property
    def only_rolled_back(self) -> bool:
        """The one fault is a rollback (a restored backup): --accept-restore may record it."""
        return self.rolled_back is not None and len(self.faults) == 1

    def fault(self, sequence: int | None, problem: str) -> None:
        if len(self.faults) < MAX_FAULTS:
            self.faults.append(Fault(sequence, problem))


# How many of the newest checkpointed events the start's key check tries: one of them verifying
# is enough, so an event changed later does not stop the site (verify_audit_log names it).
KEY_CHECK_SAMPLE = 20


def keys_match_the_log() -> list[str]:
    """Why the configured keys are not the ones the log was written with (nothing if they are,
    or if there is no log yet). Another app host with keys made anew instead of copied would
    write events that never verify; its start refuses instead (create_audit_keys --check-only).
    The newest checkpoint must verify under our signing key, and our MAC key must verify one of
    the newest events that checkpoint covers (or of the newest events, before any checkpoint)."""
    try:
        newest = AuditCheckpoint.objects.order_by("-number").first()
        events = AuditEvent.objects.order_by("-sequence")
        if newest is not None:
            events = events.filter(sequence__lte=newest.last_sequence)
        rows = list(events.values_list("mac", *KEYED_COLUMNS)[:KEY_CHECK_SAMPLE])
    except DatabaseError:
        return []  # not migrated yet (or unreachable, which the site's start reports itself)
    problems = []
    if newest is not None and _parse(newest.body, newest.signature) is None:
        try:
            theirs = json.loads(newest.body).get("key_id", "?")
        except ValueError:
            theirs = "?"
        problems.append(
            f"AUDIT_SIGNING_KEY_FILE (key id {key_id()}) is not the key the audit log's "
            f"checkpoints are signed with (checkpoint {newest.number}: key id {theirs})."
        )
    key = mac_key()
    if rows and not any(event_mac(key, keyed_fields(*fields)) == mac for mac, *fields in rows):
        problems.append(
            "AUDIT_MAC_KEY_FILE verifies none of the audit log's newest events: it is not the "
            "key the log is written with."
        )
    return problems


def _parse(body: str, signature: str) -> Checkpoint | None:
    """The checkpoint if its signature verifies under our public key, else None."""
    try:
        public_key().verify(bytes.fromhex(signature), body.encode())
        data = json.loads(body)
    except (InvalidSignature, ValueError):
        return None
    return Checkpoint(
        number=data["number"],
        kind=data["kind"],
        last_position=data["last_position"],
        last_sequence=data["last_sequence"],
        sealed_through=data["sealed_through"],
        head_hash=data["head_hash"],
        body=body,
        signature=signature,
        detail=data.get("detail") or {},
    )


def _external(report: Report) -> dict[int, Checkpoint]:
    found: dict[int, Checkpoint] = {}
    directory = checkpoint_dir()
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.json")):
        try:
            raw = json.loads(path.read_text())
            parsed = _parse(raw["body"], raw["signature"])
        except (ValueError, KeyError, TypeError):
            parsed = None
        if parsed is None or f"{parsed.number:012d}" != path.stem:
            report.fault(None, f"the external checkpoint {path.name} has a bad signature")
            continue
        found[parsed.number] = parsed
    return found


def _database(report: Report) -> dict[int, Checkpoint]:
    found: dict[int, Checkpoint] = {}
    for row in AuditCheckpoint.objects.order_by("number").iterator():
        parsed = _parse(row.body, row.signature)
        if parsed is None or (
            parsed.number,
            parsed.kind,
            parsed.last_position,
            parsed.last_sequence,
            parsed.sealed_through,
            parsed.head_hash,
        ) != (
            row.number,
            row.kind,
            row.last_position,
            row.last_sequence,
            row.sealed_through,
            row.head_hash,
        ):
            report.fault(
                row.last_sequence,
                f"checkpoint {row.number} in the database does not verify against its "
                "signature (forged or recomputed)",
            )
            continue
        found[parsed.number] = parsed
    return found


def _live(checkpoints: dict[int, Checkpoint]) -> dict[int, Checkpoint]:
    """The checkpoints still in force: an acknowledged restore abandons those after the one it
    went back to."""
    live: dict[int, Checkpoint] = {}
    for number in sorted(checkpoints):
        checkpoint = checkpoints[number]
        if checkpoint.kind == CheckpointKind.RESTORE:
            back_to = int(checkpoint.detail.get("back_to", 0))  # type: ignore[call-overload]
            live = {n: c for n, c in live.items() if n <= back_to}
        live[number] = checkpoint
    return live


def _compare(report: Report, db: dict[int, Checkpoint], ext: dict[int, Checkpoint]) -> None:
    live_ext, live_db = _live(ext), _live(db)
    for number, checkpoint in live_db.items():
        outside = ext.get(number)
        if outside is None:
            report.notes.append(f"checkpoint {number} is not yet copied outside the database")
        elif outside.body != checkpoint.body:
            report.fault(
                checkpoint.last_sequence,
                f"checkpoint {number} differs from its external copy",
            )
    db_last = max(live_db, default=0)
    beyond = [n for n in live_ext if n > db_last]
    missing_inside = [n for n in live_ext if n <= db_last and n not in db]
    for number in missing_inside:
        report.fault(
            live_ext[number].last_sequence,
            f"checkpoint {number} is missing from the database (its external copy is there)",
        )
    if beyond:
        report.rolled_back = (db_last, max(beyond))


def _seals(after_position: int) -> Iterator[tuple[object, ...]]:
    # The event's MAC (never null in a stored event) is null when the join found no event.
    columns = ("position", "event_id", "chain_hash", "event__mac")
    keyed = tuple(f"event__{c}" for c in KEYED_COLUMNS)
    return (
        AuditSeal.objects.filter(position__gt=after_position)
        .order_by("position")
        .values_list(*columns, *keyed)
        .iterator(chunk_size=5000)
    )


def verify(*, full: bool = False) -> Report:
    report = Report()
    key = mac_key()
    ext = _external(report)
    db = _database(report)
    _compare(report, db, ext)
    live = _live({**ext, **db})
    by_position: dict[int, list[Checkpoint]] = {}
    for checkpoint in live.values():
        if checkpoint.kind == CheckpointKind.CHECKPOINT:
            by_position.setdefault(checkpoint.last_position, []).append(checkpoint)
    db_live = _live(db)

    start = None
    if not full:
        mark = AuditVerification.objects.order_by("-id").first()
        if mark is not None and mark.checkpoint_number in db_live:
            start = db_live[mark.checkpoint_number]
    position = start.last_position if start else 0
    prev = start.head_hash if start else GENESIS
    report.started_at_checkpoint = start.number if start else 0
    if start is not None:
        seal_there = AuditSeal.objects.filter(position=position).values_list(
            "chain_hash", flat=True
        )
        if position and list(seal_there) != [start.head_hash]:
            report.fault(
                start.last_sequence,
                f"the chain at checkpoint {start.number} no longer matches it (run --full)",
            )

    last_sequence = start.last_sequence if start else None
    segment_first = None  # the first event after the last checkpoint passed
    for row in _seals(position):
        seal_position, event_id, chain_hash, mac = row[:4]
        report.sealed += 1
        if seal_position != position + 1:
            report.fault(
                event_id,  # type: ignore[arg-type]
                f"events at positions {position + 1} to {seal_position - 1} (before this one) "  # type: ignore[operator]
                "were deleted from the chain",
            )
        if mac is None:
            report.fault(event_id, f"it was deleted (it was sealed at position {seal_position})")  # type: ignore[arg-type]
        else:
            report.events += 1
            if event_mac(key, keyed_fields(*row[4:])) != mac:  # type: ignore[arg-type]
                report.fault(event_id, "its content was changed after it was written (MAC)")  # type: ignore[arg-type]
            elif link(prev, mac) != chain_hash:  # type: ignore[arg-type]
                report.fault(
                    event_id,  # type: ignore[arg-type]
                    "it is not the event sealed at this place: the chain was reordered or "
                    "an event before it removed",
                )
        if segment_first is None:
            segment_first = event_id
        for checkpoint in by_position.get(seal_position, ()):  # type: ignore[call-overload]
            if checkpoint.head_hash != chain_hash or checkpoint.last_sequence != event_id:
                report.fault(
                    segment_first,  # type: ignore[arg-type]
                    f"the chain was recomputed: from this event to position {seal_position} "
                    f"(event {event_id}) it differs from signed checkpoint {checkpoint.number}",
                )
            segment_first = None
        position, prev = seal_position, chain_hash  # type: ignore[assignment]
        last_sequence = event_id

    last_live = max((c for c in db_live.values()), key=lambda c: c.number, default=None)
    if last_live is not None and last_live.last_position > position:
        report.fault(
            _named(live, position + 1),
            f"the tail was truncated: the chain ends at position {position}"
            + (f" (event {last_sequence})" if last_sequence else "")
            + f" but signed checkpoint {last_live.number} runs to position "
            f"{last_live.last_position} (event {last_live.last_sequence})",
        )
    elif last_live is not None and position > last_live.last_position:
        report.fault(None, f"events were sealed after the last checkpoint ({position})")

    sealed_through = last_live.sealed_through if last_live else 0
    unsealed = AuditEvent.objects.filter(seal__isnull=True)
    if not full and start is not None:
        unsealed = unsealed.filter(sequence__gt=start.sealed_through)
    for sequence, mac, *fields in (
        unsealed.order_by("sequence")
        .values_list("sequence", "mac", *KEYED_COLUMNS)
        .iterator(chunk_size=5000)
    ):
        report.events += 1
        report.unsealed += 1
        if event_mac(key, keyed_fields(*fields)) != mac:
            report.fault(sequence, "its content was changed after it was written (MAC)")
        elif sequence <= sealed_through:
            report.fault(
                sequence,
                "it is not in the chain although its range was sealed (its seal was deleted, "
                "or it committed later than AUDIT_SEAL_LAG)",
            )
    report.checkpoints = len(live)
    if report.rolled_back:
        db_last, ext_last = report.rolled_back
        newest = live[ext_last]
        if db_last == 0:
            what = "the log was emptied, or replaced by a backup from before the first checkpoint"
        else:
            what = f"rolled back to checkpoint {db_last}"
        report.fault(
            live[db_last].last_sequence if db_last in live else None,
            f"{what}: the external checkpoints run to checkpoint {ext_last} (position "
            f"{newest.last_position}, event {newest.last_sequence}); the events sealed after "
            f"position {position} are missing",
        )
    if report.intact and last_live is not None:
        AuditVerification.objects.create(
            checkpoint_number=last_live.number, verified_at=timezone.now(), full=full
        )
    return report


def _named(live: dict[int, Checkpoint], position: int) -> int | None:
    """The event a signed checkpoint names at or after this position (the first we can name)."""
    after = [c for c in live.values() if c.last_position >= position]
    return min(after, key=lambda c: c.last_position).last_sequence if after else None


def accept_restore(report: Report) -> AuditCheckpoint:
    """Record, signed, in the database and outside it, that the log was restored to the
    database's last checkpoint: the later external checkpoints are abandoned."""
    assert report.rolled_back is not None
    back_to, abandoned_to = report.rolled_back
    last = AuditCheckpoint.objects.filter(number=back_to).first()
    highest = max(
        abandoned_to,
        AuditCheckpoint.objects.aggregate(n=Max("number"))["n"] or 0,
    )
    record = sign_checkpoint(
        number=highest + 1,
        kind=CheckpointKind.RESTORE,
        last_position=last.last_position if last else 0,
        last_sequence=last.last_sequence if last else 0,
        sealed_through=last.sealed_through if last else 0,
        head_hash=last.head_hash if last else GENESIS,
        created_at=timezone.now(),
        detail={"back_to": back_to, "abandoned_to": abandoned_to},
    )
    record.save(force_insert=True)
    export_checkpoint(record)
    return record
