"""The audit log's MACs, chain and checkpoint encoding (SPEC §11.11). Pure: no database.

Every event carries a MAC: HMAC-SHA256, under a key kept outside the database, of its fields in
canonical JSON. Whoever holds only the database can neither edit an event nor invent one. The
sealer links committed events in batches: the event at position p gets
`chain_hash = SHA-256(chain_hash[p-1] || mac)`, and each batch ends in a checkpoint (last
position, its event, the head hash) signed with Ed25519 and copied outside the database, so a
deleted, reordered or truncated stretch, a wiped table or a restored backup shows against them.
"""

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64


# One encoder, made once: json.dumps with these options would build a new one per call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
_MAC_PREFIX = b"opiniondesk-audit-event-v2\n"


def canonical(fields: Mapping[str, Any]) -> bytes:
    return _ENCODER.encode(fields).encode()


def event_mac(key: bytes, fields: Mapping[str, Any]) -> str:
    return hmac.digest(key, _MAC_PREFIX + canonical(fields), "sha256").hex()


def link(prev_chain_hash: str, mac: str) -> str:
    return hashlib.sha256(bytes.fromhex(prev_chain_hash) + bytes.fromhex(mac)).hexdigest()


def checkpoint_body(
    *,
    number: int,
    last_position: int,
    last_sequence: int,
    sealed_through: int,
    head_hash: str,
    created_at: str,
    key_id: str,
    kind: str = "checkpoint",
    detail: Mapping[str, Any] | None = None,
) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return canonical(
        {
            "kind": kind,
            "number": number,
            "last_position": last_position,
            "last_sequence": last_sequence,
            "sealed_through": sealed_through,
            "head_hash": head_hash,
            "created_at": created_at,
            "key_id": key_id,
            "detail": dict(detail or {}),
        }
    )


def legacy_event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The unkeyed chain before issue #14 (migration 0003 checks it before keying old events)."""
    return hashlib.sha256(f"{prev_hash}\n{canonical(fields).decode()}".encode()).hexdigest()
