"""Adding documents to a case: checked by content, stored privately, audited, never replaced."""

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from opiniondesk.accounts.models import User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases.lifecycle import case_lock
from opiniondesk.cases.models import Case, Proxy
from opiniondesk.cases.services import case_documents_arrived
from opiniondesk.cases.workflow import APPLICANT_UPLOAD_STATES, Status
from opiniondesk.core.storage import expect_sha256
from opiniondesk.core.tokens import new_token, token_hash
from opiniondesk.documents.content import (
    ContentRejected,
    FileKind,
    Inspection,
    RejectCode,
    ZipLimits,
    inspect_upload,
)
from opiniondesk.documents.content import content_type as mime_type
from opiniondesk.documents.models import (
    Document,
    DocumentKind,
    PhysicianUploadLink,
    TestDataKind,
    UploadSource,
)
from opiniondesk.documents.naming import named_for
from opiniondesk.documents.selectors import LinkUnusable, upload_link_get
from opiniondesk.documents.uploads import server_digest
from opiniondesk.documents.zipfilter import copy_without
from opiniondesk.readiness.rules import IdType

logger = logging.getLogger(__name__)

# The files stored by the service call under way (the outermost one collects them).
_stored_files: ContextVar[list[str] | None] = ContextVar("stored_files", default=None)


@contextlib.contextmanager
def _files_removed_on_failure() -> Iterator[None]:
    """Files stored in this block are deleted again if it fails: the transaction that would
    have pointed a row to them is rolled back, and an object nothing points to would stay in
    the bucket (or on the disk) for good. Nested blocks hand theirs to the outermost."""
    if _stored_files.get() is not None:
        yield
        return
    stored: list[str] = []
    token = _stored_files.set(stored)
    try:
        yield
    except BaseException:
        storage = Document._meta.get_field("file").storage  # type: ignore[attr-defined]
        for name in stored:
            try:
                storage.delete(name)
            except Exception:  # the failure that brought us here is the one to report
                logger.exception("could not remove %s after a failed upload", name)
        raise
    finally:
        _stored_files.reset(token)


# An ID is a photo or a scan: an image or a PDF, never a DICOM series or an archive.
ID_FILE_KINDS = frozenset({FileKind.PDF, FileKind.JPEG, FileKind.PNG, FileKind.HEIC})


class UploadRefused(Exception):
    """The upload cannot be added; `code` says why (the UI words it)."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code, self.detail = code, detail
        super().__init__(f"{code}: {detail}")


__all__ = [
    "ContentRejected",
    "LinkUnusable",
    "Scan",
    "UploadRefused",
    "document_add",
    "document_add_fhir",
    "documents_add_many",
    "upload_link_get",
]


@dataclass(frozen=True)
class _Checked:
    """An upload as it will be stored: the file, what it was found to be, what was left out."""

    file: UploadedFile | File[bytes]
    name: str  # the sender's name, with the extension of the type found
    inspection: Inspection
    dropped: tuple[str, ...] = ()
    received_sha256: str = ""  # of the upload, when what is stored is a filtered copy


def _inspect(uploaded: UploadedFile | File[bytes]) -> Inspection:
    uploaded.seek(0)
    try:
        return inspect_upload(
            uploaded,
            max_bytes=settings.DOCUMENT_MAX_BYTES,
            zip_limits=ZipLimits(),
            # Hashed by our upload handler as it was received: not read again to hash it.
            digest=server_digest(uploaded) if isinstance(uploaded, UploadedFile) else None,
        )
    finally:
        uploaded.seek(0)


def _check(uploaded: UploadedFile, cleanup: ExitStack) -> _Checked:
    """Check the upload by its content (raises ContentRejected). A ZIP from which programs
    were dropped is stored as a copy without them, checked again; `cleanup` removes it."""
    inspection = _inspect(uploaded)
    name = named_for(uploaded.name or "", inspection.kind.value)
    if not inspection.dropped:
        return _Checked(file=uploaded, name=name, inspection=inspection)
    if settings.FILE_UPLOAD_TEMP_DIR:  # on the documents' disk, not in a tmpfs (memory)
        os.makedirs(settings.FILE_UPLOAD_TEMP_DIR, mode=0o700, exist_ok=True)
    spool = tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115
    cleanup.enter_context(spool)  # closed (and so removed) once the document is stored
    copy_without(uploaded, spool, frozenset(inspection.dropped))
    filtered = File(spool, name=name)
    again = _inspect(filtered)
    if again.dropped:  # cannot happen: only members that passed were copied
        raise ContentRejected(RejectCode.CORRUPT, "the filtered ZIP still drops members")
    return _Checked(
        file=filtered,
        name=name,
        inspection=again,
        dropped=inspection.dropped,
        received_sha256=inspection.sha256,
    )


def document_add(
    *,
    case: Case,
    kind: str,
    uploaded: UploadedFile,
    actor: User | None,
    source: UploadSource,
    request: HttpRequest | None = None,
    test_data_kind: str = "",
    id_type: str = "",
    proxy: Proxy | None = None,
    note: str = "",
    supersedes: Document | None = None,
) -> Document:
    """Check the file by its content (outside the transaction: it may be large), then store it."""
    if kind not in DocumentKind.values:
        raise UploadRefused("BAD_KIND")
    if kind == DocumentKind.TEST_DATA and test_data_kind not in TestDataKind.values:
        raise UploadRefused("TEST_DATA_KIND_REQUIRED")
    if kind != DocumentKind.TEST_DATA:
        test_data_kind = ""
    if kind == DocumentKind.PATIENT_ID and id_type not in set(IdType):
        raise UploadRefused("ID_TYPE_REQUIRED")
    if kind != DocumentKind.PATIENT_ID:
        id_type = ""
    if proxy is not None and proxy.case_id != case.pk:
        raise UploadRefused("BAD_PROXY")
    if supersedes is not None and supersedes.case_id != case.pk:
        raise UploadRefused("BAD_SUPERSEDES")
    with ExitStack() as cleanup, _files_removed_on_failure():
        checked = _check(uploaded, cleanup)  # raises ContentRejected
        if kind == DocumentKind.PATIENT_ID and checked.inspection.kind not in ID_FILE_KINDS:
            raise UploadRefused("ID_FORMAT")
        return _store(
            case=case,
            kind=kind,
            checked=checked,
            actor=actor,
            source=source,
            request=request,
            test_data_kind=test_data_kind,
            id_type=id_type,
            proxy=proxy,
            note=note,
            supersedes=supersedes,
        )


@dataclass(frozen=True)
class Scan:
    """One file of several a coordinator adds at once (`documents_add_many`)."""

    kind: str
    uploaded: UploadedFile
    test_data_kind: str = ""
    note: str = ""


def documents_add_many(
    *,
    case: Case,
    scans: list[Scan],
    actor: User,
    source: UploadSource,
    request: HttpRequest | None = None,
) -> list[Document]:
    """Several files of a case at once (the scans of a posted application): every file is
    checked by its content first, then all are stored in one transaction, so one file refused
    (`ContentRejected`, `UploadRefused`) stores none of them."""
    for scan in scans:
        if scan.kind not in DocumentKind.values or scan.kind == DocumentKind.PATIENT_ID:
            raise UploadRefused("BAD_KIND")  # an ID is checked on its own page, with its type
        if scan.kind == DocumentKind.TEST_DATA and scan.test_data_kind not in TestDataKind.values:
            raise UploadRefused("TEST_DATA_KIND_REQUIRED")
    with ExitStack() as cleanup, _files_removed_on_failure():
        checked = [(scan, _check(scan.uploaded, cleanup)) for scan in scans]
        with transaction.atomic():
            return [
                _store(
                    case=case,
                    kind=scan.kind,
                    checked=found,
                    actor=actor,
                    source=source,
                    request=request,
                    test_data_kind=(
                        scan.test_data_kind if scan.kind == DocumentKind.TEST_DATA else ""
                    ),
                    id_type="",
                    proxy=None,
                    note=scan.note,
                    supersedes=None,
                )
                for scan, found in checked
            ]


def document_add_fhir(
    *,
    case: Case,
    kind: str,
    content: bytes,
    name: str,
    actor: User | None,
    source: UploadSource,
    request: HttpRequest | None = None,
    note: str = "",
) -> Document:
    """Keep a FHIR JSON document (an eReferral bundle) the caller has read and validated, as
    it arrived: stored, hashed and audited like any upload. Anything but a JSON object is
    refused here too, so no other content is stored under this kind."""
    if kind not in DocumentKind.values or kind in (DocumentKind.TEST_DATA, DocumentKind.PATIENT_ID):
        raise UploadRefused("BAD_KIND")
    if len(content) > settings.DOCUMENT_MAX_BYTES:
        raise ContentRejected(RejectCode.TOO_LARGE, "larger than DOCUMENT_MAX_BYTES")
    try:
        parsed = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ContentRejected(RejectCode.CORRUPT, "not JSON") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("resourceType"), str):
        raise ContentRejected(RejectCode.UNSUPPORTED_TYPE, "not a FHIR resource")
    inspection = Inspection(
        kind=FileKind.FHIR_JSON, size=len(content), sha256=hashlib.sha256(content).hexdigest()
    )
    checked = _Checked(
        file=ContentFile(content),
        name=named_for(name or "referral.json", FileKind.FHIR_JSON.value),
        inspection=inspection,
    )
    with _files_removed_on_failure():
        return _store(
            case=case,
            kind=kind,
            checked=checked,
            actor=actor,
            source=source,
            request=request,
            test_data_kind="",
            id_type="",
            proxy=None,
            note=note,
            supersedes=None,
        )


@transaction.atomic
def _store(
    *,
    case: Case,
    kind: str,
    checked: _Checked,
    actor: User | None,
    source: UploadSource,
    request: HttpRequest | None,
    test_data_kind: str,
    id_type: str,
    proxy: Proxy | None,
    note: str,
    supersedes: Document | None,
) -> Document:
    locked = case_lock(case.pk)
    if source == UploadSource.APPLICANT and locked.status not in APPLICANT_UPLOAD_STATES:
        raise UploadRefused("CASE_CLOSED")
    if source == UploadSource.APPLICANT and locked.privacy_policy_id is None:
        raise UploadRefused("PRIVACY_FIRST")  # SPEC §6: no medical documents before consent
    if supersedes is not None and Document.objects.filter(supersedes=supersedes).exists():
        raise UploadRefused("ALREADY_CORRECTED")
    inspection = checked.inspection
    document = Document(
        case=locked,
        kind=kind,
        test_data_kind=test_data_kind,
        id_type=id_type,
        proxy=proxy,
        original_name=checked.name,
        file_kind=inspection.kind.value,
        content_type=mime_type(inspection.kind),
        size=inspection.size,
        sha256=inspection.sha256,
        note=note[:200],
        dropped_members=list(checked.dropped),
        supersedes=supersedes,
        uploaded_by=actor,
        source=source,
        identity_check_pending=kind == DocumentKind.PATIENT_ID,
    )
    # In object storage the bytes sent are hashed again: kept only if they are the ones checked.
    document.file.save("upload", expect_sha256(checked.file, inspection.sha256), save=False)
    stored = _stored_files.get()
    if stored is not None:
        stored.append(document.file.name)
    document.save()
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=locked.pk,
        obj=document,
        detail={
            "kind": kind,
            "sha256": inspection.sha256,
            "size": inspection.size,
            "source": source,
            "supersedes": supersedes.pk if supersedes else None,
            **(
                {"dropped": len(checked.dropped), "received_sha256": checked.received_sha256}
                if checked.dropped
                else {}
            ),
        },
    )
    if locked.status == Status.AWAITING_DOCUMENTS:
        case_documents_arrived(case_id=locked.pk, request=request)
    return document


@transaction.atomic
def upload_link_create(
    *, case: Case, actor: User, days: int, request: HttpRequest | None = None
) -> str:
    """A new one-time link for the attending physician; the token is shown once, stored hashed."""
    if not 1 <= days <= 60:
        raise UploadRefused("BAD_DAYS")
    token = new_token()
    link = PhysicianUploadLink.objects.create(
        case=case,
        token_hash=token_hash(token),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=days),
    )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=link,
        detail={"days": days},
    )
    return token


def upload_link_use(
    *,
    token: str,
    files: list[tuple[str, str, UploadedFile]],
    request: HttpRequest | None = None,
) -> list[Document]:
    """Store the physician's files (kind, test-data kind, file) and spend the link."""
    link = upload_link_get(token)
    with ExitStack() as cleanup, _files_removed_on_failure():
        # Checked outside the transaction, before the link is locked: files may be large.
        inspected = [(kind, tdk, _check(f, cleanup)) for kind, tdk, f in files]
        with transaction.atomic():
            link = PhysicianUploadLink.objects.select_for_update().get(pk=link.pk)
            if link.used_at is not None:
                raise LinkUnusable("used")
            documents = [
                _store(
                    case=link.case,
                    kind=kind,
                    checked=checked,
                    actor=None,
                    source=UploadSource.PHYSICIAN_LINK,
                    request=request,
                    test_data_kind=tdk,
                    id_type="",
                    proxy=None,
                    note="",
                    supersedes=None,
                )
                for kind, tdk, checked in inspected
            ]
            link.used_at = timezone.now()
            link.save(update_fields=["used_at"])
            audit_record(
                action=AuditAction.UPDATE,
                request=request,
                case_id=link.case_id,
                obj=link,
                detail={"used": True, "documents": [d.pk for d in documents]},
            )
    return documents
