from collections.abc import Iterator

from opiniondesk.audit.chain import GENESIS, Break, ChainedEvent, first_break
from opiniondesk.audit.models import AuditChainHead, AuditEvent


def _chained_events() -> Iterator[ChainedEvent]:
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000):
        yield ChainedEvent(event.sequence, event.prev_hash, event.hash, event.chained_fields())


def audit_chain_first_break() -> Break | None:
    head = AuditChainHead.objects.filter(id=1).first()
    return first_break(
        _chained_events(),
        head_sequence=head.sequence if head else 0,
        head_hash=head.hash if head else GENESIS,
    )
