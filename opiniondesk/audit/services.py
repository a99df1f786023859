"""Writing the audit log. Call `audit_record` in the same transaction as the change it records."""

import json
import secrets
from typing import Any

from django.db import connections, models, router, transaction
from django.http import HttpRequest
from django.utils import timezone

from opiniondesk.audit.chain import event_mac
from opiniondesk.audit.keys import mac_key
from opiniondesk.audit.models import AuditAction, AuditEvent


def source_address(request: HttpRequest | None) -> str | None:
    """The client address as the ASGI server saw it (a trusted proxy sets REMOTE_ADDR)."""
    if request is None or not request.META.get("REMOTE_ADDR"):
        return None
    # Normalised as the database will store it, so the hash matches what is read back.
    field = AuditEvent._meta.get_field("source_address")
    return field.get_prep_value(request.META["REMOTE_ADDR"])


# No savepoint: inside the caller's transaction (the usual case) it would cost two more round
# trips per event, and an event that cannot be written must fail the whole change anyway.
@transaction.atomic(savepoint=False)
def audit_record(
    *,
    action: AuditAction,
    user: Any = None,
    request: HttpRequest | None = None,
    case_id: int | None = None,
    obj: models.Model | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event, keyed with the MAC key; no lock is shared with other writers (the
    database hands out the sequence). The sealer chains it once it is committed."""
    if user is None and request is not None:
        user = request.user
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    # A request signed with an API token (api.auth) names the token in every event it causes.
    token_id = getattr(request, "api_token_id", None)
    if token_id is not None:
        detail = {**(detail or {}), "api_token": token_id}
    event = AuditEvent(
        at=timezone.now(),
        user=user,
        username=user.get_username() if user is not None else "",
        action=action,
        case_id=case_id,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        source_address=source_address(request),
        detail=detail or {},
        nonce=secrets.token_hex(8),
    )
    # The detail as the database will give it back (JSON), so the MAC matches what is read.
    event.detail = json.loads(json.dumps(event.detail, default=str))
    event.mac = event_mac(mac_key(), event.keyed_fields())
    _insert(event)
    return event


def _insert(event: AuditEvent) -> None:
    """One INSERT … RETURNING, as `save(force_insert=True)` would send, but without the ORM's
    per-call compiling: every audited page pays it, and at 8 concurrent requests that Python work
    was most of the cost the log added (bench/audit.py). Values are prepared by the fields
    themselves, so the row is exactly what the ORM would write."""
    alias = router.db_for_write(AuditEvent)
    connection = connections[alias]
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    # Names from the model's own metadata, quoted; values are parameters.
    table, columns = quote(AuditEvent._meta.db_table), ", ".join(quote(f.column) for f in fields)
    values, pk = ", ".join(["%s"] * len(fields)), quote(AuditEvent._meta.pk.column)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {pk}"  # noqa: S608
    params = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        event.sequence = cursor.fetchone()[0]
    event._state.adding, event._state.db = False, alias


def audit_read(
    request: HttpRequest,
    case: models.Model | None = None,
    /,
    *,
    obj: models.Model | None = None,
    download: bool = False,
    **detail: Any,
) -> AuditEvent:
    """Record that this request showed personal data: of `case` (and `obj`, the case itself if
    not given), or of several cases named in `detail`. Call it from every view that does."""
    return audit_record(
        action=AuditAction.DOWNLOAD if download else AuditAction.READ,
        request=request,
        case_id=case.pk if case is not None else None,
        obj=obj if obj is not None else case,
        detail=detail,
    )


def audit_denied(
    request: HttpRequest,
    *,
    case_id: int | None = None,
    obj: models.Model | None = None,
    **detail: Any,
) -> AuditEvent:
    """Record a refused attempt to see or change something (SPEC §1: who tried, what, when)."""
    return audit_record(
        action=AuditAction.DENIED, request=request, case_id=case_id, obj=obj, detail=detail
    )
