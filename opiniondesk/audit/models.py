"""The append-only, keyed and sealed audit log (SPEC §1, §11.11)."""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    READ = "read", _("read")
    DOWNLOAD = "download", _("download")
    CREATE = "create", _("create")
    UPDATE = "update", _("update")
    TRANSITION = "transition", _("state change")
    DENIED = "denied", _("access denied")
    LOGIN = "login", _("login")
    LOGOUT = "logout", _("logout")
    LOGIN_FAILED = "login_failed", _("login failed")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("the audit log is append-only")

    def delete(self):  # type: ignore[no-untyped-def]
        raise PermissionError("the audit log is append-only")


class AuditEvent(models.Model):
    """One read or write of personal or clinical data. Never updated, never deleted.

    `sequence` is handed out by the database at insert (no shared lock): the insertion order.
    `mac` keys the event's fields with a key outside the database; the sealer later places the
    event in the chain (AuditSeal).
    """

    sequence = models.BigAutoField(_("sequence"), primary_key=True)
    at = models.DateTimeField(_("time"), db_index=True)
    # The user id and name are copied: the record must outlive any change to the account.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)
    case_id = models.BigIntegerField(_("case"), null=True, blank=True, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    source_address = models.GenericIPAddressField(_("source address"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    # Random: two events alike to the microsecond (a frozen clock, a double click) still differ,
    # so the unique MAC refuses only a copied row.
    nonce = models.CharField(max_length=32)
    mac = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        # The admin's filters and search (audit.admin), newest first, each on an index (a
        # case's few events are found by case_id's own).
        indexes = [
            models.Index(fields=["username", "sequence"], name="audit_by_user"),
            models.Index(fields=["action", "sequence"], name="audit_by_action"),
            models.Index(fields=["object_type", "sequence"], name="audit_by_type"),
            models.Index(fields=["object_id", "sequence"], name="audit_by_object"),
            models.Index(fields=["source_address", "sequence"], name="audit_by_address"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise PermissionError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("the audit log is append-only")

    def keyed_fields(self) -> dict[str, object]:
        """The fields the MAC covers, in the form they were keyed."""
        return keyed_fields(
            self.at,
            self.user_id,
            self.username,
            self.action,
            self.case_id,
            self.object_type,
            self.object_id,
            self.source_address,
            self.detail,
            self.nonce,
        )


# The columns keyed_fields takes, in order (the verifier reads them with values_list).
KEYED_COLUMNS = (
    "at",
    "user_id",
    "username",
    "action",
    "case_id",
    "object_type",
    "object_id",
    "source_address",
    "detail",
    "nonce",
)


def keyed_fields(
    at: Any,
    user_id: Any,
    username: str,
    action: str,
    case_id: Any,
    object_type: str,
    object_id: str,
    source_address: Any,
    detail: Any,
    nonce: str,
) -> dict[str, object]:
    return {
        "at": at.isoformat(),
        "user_id": user_id,
        "username": username,
        "action": action,
        "case_id": case_id,
        "object_type": object_type,
        "object_id": object_id,
        "source_address": source_address,
        "detail": detail,
        "nonce": nonce,
    }


class AuditSeal(models.Model):
    """An event's place in the chain, written by the sealer: positions run 1, 2, 3 … without gap."""

    position = models.PositiveBigIntegerField(primary_key=True)
    # Nullable only so that reading seals joins the events with LEFT JOIN: a deleted event shows.
    event = models.OneToOneField(
        AuditEvent,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="seal",
        db_column="event_sequence",
    )
    chain_hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    def __str__(self) -> str:
        return f"seal {self.position} of event {self.event_id}"


class CheckpointKind(models.TextChoices):
    CHECKPOINT = "checkpoint", _("checkpoint")
    RESTORE = "restore", _("acknowledged restore")


class AuditCheckpoint(models.Model):
    """A signed statement of the chain's head after a sealing batch (or an acknowledged restore).
    The same record is written, once, as a file in AUDIT_CHECKPOINT_DIR outside the database."""

    number = models.PositiveBigIntegerField(primary_key=True)
    kind = models.CharField(max_length=12, choices=CheckpointKind.choices)
    last_position = models.PositiveBigIntegerField()
    last_sequence = models.PositiveBigIntegerField()
    sealed_through = models.PositiveBigIntegerField()
    head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    body = models.TextField()  # the exact signed bytes (canonical JSON)
    signature = models.CharField(max_length=128)

    objects = AppendOnlyQuerySet.as_manager()

    def __str__(self) -> str:
        return f"audit {self.kind} {self.number} (position {self.last_position})"


class AuditVerification(models.Model):
    """A clean `verify_audit_log` up to a checkpoint: where the next incremental run starts."""

    checkpoint_number = models.PositiveBigIntegerField()
    verified_at = models.DateTimeField()
    full = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"verified to checkpoint {self.checkpoint_number}"
