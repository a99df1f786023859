"""The sealer: links committed events into the chain in batches and signs a checkpoint after each.

Writers take no lock, so ids are handed out in insert order but may commit out of order on
PostgreSQL (a transaction that took id 41 can commit after the one that took 42). The sealer
therefore seals only up to a horizon: the highest id whose event is older than AUDIT_SEAL_LAG
seconds. Within (last horizon, new horizon] it takes every event without a seal, in id order.
The assumption, documented in docs/architecture.md: no transaction stays open longer than the lag
after writing its audit event (set the lag above the database's transaction timeout). An event
that still commits later is found by `verify_audit_log --full` ("committed after its range was
sealed"), not lost silently.

Two sealers at once (two task workers, a start's `seal_audit_log` beside the periodic task) take
turns, batch by batch: each batch first takes a lock among sealers only, never taken by writers
(PostgreSQL: a transaction-level advisory lock; SQLite: the write transaction itself). Locking the
last checkpoint row was not enough: before the first there is none, and a sealer that waited for
the row read that row, not the checkpoint written meanwhile, and then failed on the positions,
which are primary keys (as are checkpoint numbers: nothing is ever sealed twice).
"""

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from opiniondesk.audit.chain import GENESIS, checkpoint_body, link
from opiniondesk.audit.keys import key_id, signing_key
from opiniondesk.audit.models import AuditCheckpoint, AuditEvent, AuditSeal, CheckpointKind


@dataclass(frozen=True)
class SealResult:
    events: int
    checkpoints: list[int]


def checkpoint_dir() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def checkpoint_path(number: int) -> Path:
    return checkpoint_dir() / f"{number:012d}.json"


def export_checkpoint(checkpoint: AuditCheckpoint) -> bool:
    """Write the checkpoint's file once (O_EXCL: an existing file is never rewritten)."""
    directory = checkpoint_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = checkpoint_path(checkpoint.number)
    data = json.dumps({"body": checkpoint.body, "signature": checkpoint.signature}).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True


def external_numbers() -> list[int]:
    directory = checkpoint_dir()
    if not directory.is_dir():
        return []
    return sorted(int(p.stem) for p in directory.glob("*.json") if p.stem.isdigit())


def sign_checkpoint(
    *,
    number: int,
    kind: str,
    last_position: int,
    last_sequence: int,
    sealed_through: int,
    head_hash: str,
    created_at: datetime,
    detail: dict[str, object] | None = None,
) -> AuditCheckpoint:
    body = checkpoint_body(
        number=number,
        last_position=last_position,
        last_sequence=last_sequence,
        sealed_through=sealed_through,
        head_hash=head_hash,
        created_at=created_at.isoformat(),
        key_id=key_id(),
        kind=kind,
        detail=detail,
    )
    return AuditCheckpoint(
        number=number,
        kind=kind,
        last_position=last_position,
        last_sequence=last_sequence,
        sealed_through=sealed_through,
        head_hash=head_hash,
        created_at=created_at,
        body=body.decode(),
        signature=signing_key().sign(body).hex(),
    )


def next_number(last: AuditCheckpoint | None) -> int:
    """After an acknowledged restore the external directory may run further than the database:
    numbers are never reused."""
    highest_external = max(external_numbers(), default=0)
    return max(last.number if last else 0, highest_external) + 1


# The advisory lock's key: "odaudit" as a number, one of our own among the database's locks.
SEALER_LOCK = int.from_bytes(b"odaudit", "big")


def _one_sealer_at_a_time() -> None:
    """Until the transaction ends; its later statements then see the checkpoint the last
    holder committed (READ COMMITTED takes a new snapshot per statement)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEALER_LOCK])


def _seal_batch(batch: int, horizon_at: datetime) -> tuple[AuditCheckpoint, int] | None:
    with transaction.atomic():
        _one_sealer_at_a_time()
        last = AuditCheckpoint.objects.select_for_update().order_by("-number").first()
        watermark = last.sealed_through if last else 0
        position = last.last_position if last else 0
        head = last.head_hash if last else GENESIS
        last_sequence = last.last_sequence if last else 0
        horizon = (
            AuditEvent.objects.filter(sequence__gt=watermark, at__lte=horizon_at)
            .order_by("-sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        if horizon is None:
            return None
        # The batch is a window of ids from the first after the watermark: each batch then costs
        # the same however far behind the sealer is (a range "after the watermark … LIMIT n"
        # read the whole backlog when the planner's statistics lagged: quadratic over a backlog).
        # No event after the watermark has a seal; the test below only guards against a race.
        start = (
            AuditEvent.objects.filter(sequence__gt=watermark)
            .order_by("sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        if start is None or start > horizon:
            return None
        window_end = min(horizon, start + batch - 1)
        candidates = list(
            AuditEvent.objects.filter(
                sequence__gte=start, sequence__lte=window_end, seal__isnull=True
            )
            .order_by("sequence")
            .values_list("sequence", "mac")
        )
        if not candidates:
            return None
        seals = []
        for sequence, mac in candidates:
            position += 1
            head = link(head, mac)
            seals.append(AuditSeal(position=position, event_id=sequence, chain_hash=head))
            last_sequence = sequence
        AuditSeal.objects.bulk_create(seals, batch_size=1000)
        sealed_through = window_end
        checkpoint = sign_checkpoint(
            number=next_number(last),
            kind=CheckpointKind.CHECKPOINT,
            last_position=position,
            last_sequence=last_sequence,
            sealed_through=sealed_through,
            head_hash=head,
            created_at=timezone.now(),
        )
        checkpoint.save(force_insert=True)
        transaction.on_commit(lambda: export_checkpoint(checkpoint))
    return checkpoint, len(seals)


def export_missing() -> int:
    """Copy out checkpoints whose file a crash between commit and export left unwritten."""
    have = set(external_numbers())
    written = 0
    for checkpoint in AuditCheckpoint.objects.order_by("number").iterator():
        if checkpoint.number not in have:
            written += export_checkpoint(checkpoint)
    return written


def seal(
    *, batch: int | None = None, lag: int | None = None, limit: int | None = None
) -> SealResult:
    """Seal every committed event older than the lag, batch by batch."""
    batch = batch or settings.AUDIT_SEAL_BATCH
    lag = settings.AUDIT_SEAL_LAG if lag is None else lag
    horizon_at = timezone.now() - timedelta(seconds=lag)
    export_missing()
    events, numbers = 0, []
    while limit is None or len(numbers) < limit:
        sealed = _seal_batch(batch, horizon_at)
        if sealed is None:
            break
        events += sealed[1]
        numbers.append(sealed[0].number)
    return SealResult(events, numbers)
