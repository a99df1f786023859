"""The multipart/form-data parser of every request: python-multipart, fed straight from the body.

Django's own parser copies each chunk of an upload several times on its way to the upload
handler (about 0.5 s of CPU per GiB here, more than the disk write). `StreamingMultipartHandler`
takes over the whole parse through Django's documented hook, `handle_raw_input`, and hands the
body to python-multipart (Starlette's parser), which finds the boundaries with `bytes.find` and
reports each part's data as offsets into the buffer it was given: the file's bytes go to the disk
and to SHA-256 without a copy (bench/upload.md).

What the view receives is what Django's parser gives: the same QueryDict and MultiValueDict, the
same limits (DATA_UPLOAD_MAX_NUMBER_FIELDS, DATA_UPLOAD_MAX_NUMBER_FILES,
DATA_UPLOAD_MAX_MEMORY_SIZE), header parsing, file-name sanitising and base64 parts; the tests
compare both parsers on generated forms. One difference, on purpose: a body that ends before its
closing boundary (a client gone mid-upload) is an error here, never a shortened file.
"""

import base64
import binascii
import contextlib
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.datastructures import MultiValueDict
from django.utils.encoding import force_str
from django.utils.http import parse_header_parameters
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser

from opiniondesk.documents.uploads import (
    MemoryHashing,
    TemporaryHashing,
)

__all__ = ["READ_SIZE", "StreamingMultipartHandler", "parse_form_data"]

READ_SIZE = 1024 * 1024  # bytes read from the request body at a time


class StreamingMultipartHandler(FileUploadHandler):
    """The only upload handler: parses the whole body itself (see the module's docstring)."""

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> tuple[QueryDict, MultiValueDict]:
        return parse_form_data(
            input_data, content_length, boundary, encoding or settings.DEFAULT_CHARSET
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data  # never called: handle_raw_input always answers

    def file_complete(self, file_size: int) -> None:
        return None


def parse_form_data(
    stream: Any, content_length: int, boundary: bytes, encoding: str
) -> tuple[QueryDict, MultiValueDict]:
    """POST and FILES of a multipart body read from `stream` (at most `content_length` bytes).

    Raises MultiPartParserError for a malformed or incomplete body, and Django's
    TooManyFieldsSent, TooManyFilesSent and RequestDataTooBig for its limits. On any error the
    files received so far are closed (temporary files deleted).
    """
    form = _Form(encoding, in_memory=content_length <= settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
    try:
        parser = MultipartParser(boundary, form.callbacks())
    except ValueError as exc:  # python-multipart's FormParserError: a boundary too long
        raise MultiPartParserError(str(exc)) from exc
    try:
        remaining = content_length
        while remaining > 0 and not form.ended:
            data = stream.read(min(READ_SIZE, remaining))
            if not data:
                break
            remaining -= len(data)
            parser.write(data)
        if not form.ended:
            raise MultiPartParserError("The form data ended before its closing boundary.")
        while remaining > 0 and (data := stream.read(min(READ_SIZE, remaining))):
            remaining -= len(data)  # the epilogue after the closing boundary, as Django reads it
    except MultipartParseError as exc:
        form.discard()
        raise MultiPartParserError(f"Invalid form data: {exc}") from exc
    except BaseException:
        form.discard()
        raise
    form.post._mutable = False
    return form.post, form.files


class _Part:
    """The part being received: its headers, then where its data goes."""

    def __init__(self) -> None:
        self.headers: dict[str, tuple[str, dict[str, bytes]]] = {}
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.name = ""
        self.base64 = False
        self.base64_rest = b""
        # A form field, or a file (where its bytes go); a part that is neither is skipped.
        self.is_field = False
        self.field = bytearray()
        self.hashing: MemoryHashing | TemporaryHashing | None = None


class _Form:
    """python-multipart's callbacks, building Django's POST and FILES as Django's parser does."""

    def __init__(self, encoding: str, *, in_memory: bool) -> None:
        self.encoding, self.in_memory = encoding, in_memory
        self.post = QueryDict(mutable=True, encoding=encoding)
        self.files = MultiValueDict()
        self.part = _Part()
        self.fields = self.file_count = self.field_bytes = 0
        self.ended = False
        self.open_files: list[UploadedFile] = []

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        self.part = _Part()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.header_name += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.header_value += data[start:end]

    def header_end(self) -> None:
        part = self.part
        line = bytes(part.header_name + b":" + part.header_value)
        part.header_name, part.header_value = bytearray(), bytearray()
        try:  # as django.http.multipartparser.parse_boundary_stream reads a header line
            header_name, value_and_params = line.decode().split(":", 1)
            name = header_name.lower().rstrip(" ")
            value, params = parse_header_parameters(value_and_params.lstrip(" "))
        except (ValueError, LookupError):
            return  # an invalid header is ignored, as Django does
        part.headers[name] = value, {k: v.encode() for k, v in params.items()}

    def headers_finished(self) -> None:
        part = self.part
        disposition = part.headers.get("content-disposition")
        if disposition is None:
            return  # no Content-Disposition: a raw part, skipped
        params = disposition[1]
        is_file = bool(params.get("filename"))
        if not is_file:
            self.fields += 1
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            if limit is not None and self.fields > limit:
                raise TooManyFieldsSent(
                    "The number of GET/POST parameters exceeded "
                    "settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."
                )
        if "name" not in params:
            return
        part.name = force_str(params["name"].strip(), self.encoding, errors="replace")
        transfer_encoding = part.headers.get("content-transfer-encoding")
        part.base64 = transfer_encoding is not None and transfer_encoding[0].strip() == "base64"
        if not is_file:
            part.is_field = True
            return
        self.file_count += 1
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        if limit is not None and self.file_count > limit:
            raise TooManyFilesSent(
                "The number of files exceeded settings.DATA_UPLOAD_MAX_NUMBER_FILES."
            )
        file_name = force_str(params["filename"], self.encoding, errors="replace")
        file_name = MultiPartParser.sanitize_file_name(None, file_name)  # type: ignore[arg-type]
        if not file_name or not part.name:
            return  # Django's parser drops a file without a name, or in a field without one
        content_type, content_type_extra = part.headers.get("content-type", ("", {}))
        charset = content_type_extra.get("charset")
        receiver = MemoryHashing if self.in_memory else TemporaryHashing
        part.hashing = receiver(file_name, content_type.strip(), charset, content_type_extra)
        self.open_files.append(part.hashing.file)

    def part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        if part.is_field:
            self._field_data(data[start:end])
        elif part.hashing is not None:
            # python-multipart hands over immutable bytes: a view of them needs no copy.
            chunk: bytes | memoryview = memoryview(data)[start:end]
            if part.base64:
                chunk = self._decode_base64(bytes(chunk))
            if chunk:
                part.hashing.write(chunk)

    def part_end(self) -> None:
        part = self.part
        if part.is_field:
            data = bytes(part.field)
            if part.base64:
                # Django keeps the raw bytes of a field that is not base64.
                with contextlib.suppress(binascii.Error):
                    data = base64.b64decode(data, validate=True)
            self.field_bytes += len(part.name) + 2  # as Django counts '&' and '='
            self._check_field_bytes(0)
            self.post.appendlist(part.name, force_str(data, self.encoding, errors="replace"))
        elif part.hashing is not None:
            if part.base64_rest:
                raise MultiPartParserError("Could not decode base64 data.")
            self.files.appendlist(part.name, part.hashing.complete())
        self.part = _Part()

    def end(self) -> None:
        self.ended = True

    def discard(self) -> None:
        for uploaded in self.open_files:
            uploaded.close()
        self.files = MultiValueDict()

    def _field_data(self, data: bytes) -> None:
        self._check_field_bytes(len(data))
        self.field_bytes += len(data)
        self.part.field += data

    def _check_field_bytes(self, more: int) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and self.field_bytes + more > limit:
            raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")

    def _decode_base64(self, chunk: bytes) -> bytes:
        # Whole groups of 4 characters are decoded; the 1-3 left over wait for the next chunk.
        stripped = self.part.base64_rest + b"".join(chunk.split())
        aligned = len(stripped) // 4 * 4
        self.part.base64_rest = stripped[aligned:]
        try:
            return base64.b64decode(stripped[:aligned], validate=True)
        except binascii.Error as exc:
            raise MultiPartParserError("Could not decode base64 data.") from exc
