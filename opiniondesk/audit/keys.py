"""The audit log's two keys, read from files outside the database (SPEC §11.11).

The MAC key (32 random bytes, hex) keys every event; the Ed25519 private key signs checkpoints.
Each file must be readable by its owner only (0600): a key anyone on the host can read is no key.
"""

import os
import secrets
import stat
import sys
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _read_private(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ImproperlyConfigured(
            f"The audit key file {path} does not exist (make run creates demo keys)."
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ImproperlyConfigured(f"The audit key file {path} must be mode 0600, not {mode:o}.")
    return path.read_bytes()


@cache
def _mac_key(path: Path) -> bytes:
    key = bytes.fromhex(_read_private(path).decode().strip())
    if len(key) < 32:
        raise ImproperlyConfigured(f"The audit MAC key in {path} must be at least 32 bytes.")
    return key


def _demo_keys() -> None:
    """Development and the demo (DEBUG or DEMO_MODE): missing keys are created, and said where.
    Production (AUDIT_KEYS_REQUIRED) never creates one: it refuses to run without them."""
    if settings.AUDIT_KEYS_REQUIRED:
        return
    mac, signing = Path(settings.AUDIT_MAC_KEY_FILE), Path(settings.AUDIT_SIGNING_KEY_FILE)
    for path in create_keys(mac, signing):
        print(f"Created the demo audit key {path} (0600).", file=sys.stderr)


def mac_key() -> bytes:
    _demo_keys()
    return _mac_key(Path(settings.AUDIT_MAC_KEY_FILE))


@cache
def _signing_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(_read_private(path), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"The audit signing key in {path} must be an Ed25519 key.")
    return key


def signing_key() -> Ed25519PrivateKey:
    _demo_keys()
    return _signing_key(Path(settings.AUDIT_SIGNING_KEY_FILE))


@cache
def _public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ImproperlyConfigured(f"The audit public key in {path} must be an Ed25519 key.")
    return key


def public_key() -> Ed25519PublicKey:
    """From AUDIT_PUBLIC_KEY_FILE (a verifying host without the private key), else derived."""
    if settings.AUDIT_PUBLIC_KEY_FILE:
        return _public_key(Path(settings.AUDIT_PUBLIC_KEY_FILE))
    return signing_key().public_key()


def key_id() -> str:
    """A short name of the signing key, written in each checkpoint (key rotation, backups)."""
    raw = public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()[:16]


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def create_keys(mac_path: Path, signing_path: Path) -> list[Path]:
    """Create whichever key file is missing (0600); the paths created."""
    created = []
    if not mac_path.exists():
        _write_private(mac_path, secrets.token_hex(32).encode() + b"\n")
        created.append(mac_path)
    if not signing_path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(signing_path, pem)
        created.append(signing_path)
    return created


def check_keys() -> None:
    """Raise ImproperlyConfigured unless both keys can be read (the site's start)."""
    mac_key()
    signing_key()
