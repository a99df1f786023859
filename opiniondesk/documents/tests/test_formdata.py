"""The streaming form parser gives views what Django's own parser gives, and refuses the same."""

import base64
import hashlib
import io
import os

import pytest
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opiniondesk.documents import uploads
from opiniondesk.documents.formdata import StreamingMultipartHandler
from opiniondesk.documents.uploads import HashedTemporaryUploadedFile, server_digest

MiB = 1024 * 1024
BOUNDARY = "----opiniondesk-test-boundary-7MA4YWxkTrZu0gW"


class ShortReads(io.RawIOBase):
    """A body that arrives in the given pieces: each read returns at most one piece."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data, self.at, self.sizes = data, 0, sizes or [len(data) or 1]

    def read(self, size: int = -1) -> bytes:
        piece = self.sizes[self.at % len(self.sizes)] if self.sizes else size
        size = len(self.data) - self.at if size < 0 else size
        chunk = self.data[self.at : self.at + min(size, piece)]
        self.at += len(chunk)
        return chunk


def _part(headers: list[str], data: bytes) -> bytes:
    return (
        f"--{BOUNDARY}\r\n".encode()
        + "".join(f"{h}\r\n" for h in headers).encode()
        + b"\r\n"
        + data
        + b"\r\n"
    )


def _body(parts: list[bytes], epilogue: bytes = b"") -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode() + epilogue


def _meta(body: bytes) -> dict:
    return {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(len(body)),
    }


def ours(body: bytes, sizes: list[int] | None = None):
    parser = MultiPartParser(
        _meta(body), ShortReads(body, sizes or []), [StreamingMultipartHandler()]
    )
    return parser.parse()


def djangos(body: bytes):
    handlers = [MemoryFileUploadHandler(), TemporaryFileUploadHandler()]
    return MultiPartParser(_meta(body), io.BytesIO(body), handlers).parse()


def _summary(post, files):
    return (
        sorted(post.lists()),
        sorted(
            (
                field,
                [
                    (f.name, f.content_type, f.charset, f.content_type_extra, f.size, f.read())
                    for f in uploaded
                ],
            )
            for field, uploaded in files.lists()
        ),
    )


names = st.text(
    st.characters(codec="utf-8", exclude_characters='"\r\n\\', exclude_categories=["Cs"]),
    min_size=1,
    max_size=12,
)
payload = st.binary(max_size=3000) | st.sampled_from(
    [b"", f"\r\n--{BOUNDARY}"[:-1].encode(), b"\r\n--", b"--", b"\r\n\r\n"]
)


@st.composite
def forms(draw):
    parts = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        name = draw(names)
        kind = draw(st.sampled_from(["field", "file", "file", "base64", "raw"]))
        if kind == "field":
            value = draw(st.text(max_size=200)).encode()
            parts.append(_part([f'Content-Disposition: form-data; name="{name}"'], value))
        elif kind == "base64":
            value = draw(st.binary(max_size=300))
            parts.append(
                _part(
                    [
                        f'Content-Disposition: form-data; name="{name}"',
                        "Content-Transfer-Encoding: base64",
                    ],
                    base64.b64encode(value),
                )
            )
        elif kind == "raw":
            parts.append(_part(["X-Nothing: here"], draw(payload)))
        else:
            filename = draw(
                names
                | st.sampled_from(["", "..", "C:\\temp\\scan.pdf", "../../etc/passwd", "&lt;.pdf"])
            )
            content_type = draw(
                st.sampled_from(["application/pdf", "text/plain; charset=utf-8", "image/png"])
            )
            parts.append(
                _part(
                    [
                        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"',
                        f"Content-Type: {content_type}",
                    ],
                    draw(payload),
                )
            )
    return _body(parts, draw(st.sampled_from([b"", b"epilogue\r\n"])))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forms(), st.lists(st.integers(min_value=1, max_value=700), max_size=4))
def test_the_same_post_and_files_as_djangos_parser(body, sizes):
    assert _summary(*ours(body, sizes)) == _summary(*djangos(body))


def test_a_file_name_is_sanitised_as_django_does():
    body = _body(
        [
            _part(
                [
                    'Content-Disposition: form-data; name="file"; filename="C:\\x\\..\\紹介状.pdf"',
                    "Content-Type: application/pdf",
                ],
                b"%PDF-1.7",
            )
        ]
    )
    _, files = ours(body)
    assert files["file"].name == "紹介状.pdf"
    assert _summary(*ours(body)) == _summary(*djangos(body))


def test_a_large_file_goes_to_a_temporary_file_hashed_while_written(
    settings, tmp_path, monkeypatch
):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    monkeypatch.setattr(uploads, "WRITEBACK_BYTES", 256 * 1024)  # write-back started often
    data = os.urandom(5 * MiB + 7)
    body = _body(
        [
            _part(['Content-Disposition: form-data; name="kind"'], b"test_data"),
            _part(
                ['Content-Disposition: form-data; name="file"; filename="ct.pdf"'],
                data,
            ),
        ]
    )
    post, files = ours(body, [65536, 100_000, 1])
    uploaded = files["file"]
    assert isinstance(uploaded, HashedTemporaryUploadedFile)
    assert uploaded.read() == data and uploaded.size == len(data)
    assert server_digest(uploaded).sha256 == hashlib.sha256(data).hexdigest()
    assert post["kind"] == "test_data" and not post._mutable
    uploaded.close()


@pytest.mark.parametrize(
    ("setting", "value", "parts", "error"),
    [
        ("DATA_UPLOAD_MAX_NUMBER_FIELDS", 3, 5, TooManyFieldsSent),
        ("DATA_UPLOAD_MAX_NUMBER_FILES", 2, 3, TooManyFilesSent),
        ("DATA_UPLOAD_MAX_MEMORY_SIZE", 100, 2, RequestDataTooBig),
    ],
)
def test_djangos_limits_hold(settings, tmp_path, setting, value, parts, error):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    setattr(settings, setting, value)
    if setting == "DATA_UPLOAD_MAX_NUMBER_FILES":
        pieces = [
            _part([f'Content-Disposition: form-data; name="f{n}"; filename="a.pdf"'], b"%PDF")
            for n in range(parts)
        ]
    else:
        pieces = [
            _part([f'Content-Disposition: form-data; name="f{n}"'], b"x" * 80) for n in range(parts)
        ]
    body = _body(pieces)
    with pytest.raises(error):
        djangos(body)
    with pytest.raises(error):
        ours(body)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "body",
    [
        b"this is not a multipart body at all",
        _body([_part(['Content-Disposition: form-data; name="a"'], b"1")])[:-20],  # cut short
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end'.encode(),
        b"",
    ],
    ids=["garbage", "truncated", "no closing boundary", "empty"],
)
def test_a_malformed_or_incomplete_body_is_refused(body, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    if not body:
        post, files = ours(body)  # as Django: no content, nothing to refuse
        assert not post and not files
        return
    with pytest.raises(MultiPartParserError):
        ours(body)
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_large_file_is_never_a_shorter_file(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    body = _body(
        [
            _part(
                ['Content-Disposition: form-data; name="file"; filename="a.pdf"'],
                os.urandom(3 * MiB),
            )
        ]
    )
    cut = body[: 2 * MiB]
    parser = MultiPartParser(_meta(body), io.BytesIO(cut), [StreamingMultipartHandler()])
    with pytest.raises(MultiPartParserError, match="ended before"):
        parser.parse()
    assert list(tmp_path.iterdir()) == []


def test_bad_base64_in_a_file_is_refused(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    body = _body(
        [
            _part(
                [
                    'Content-Disposition: form-data; name="file"; filename="a.pdf"',
                    "Content-Transfer-Encoding: base64",
                ],
                b"%%%not base64%%%",
            )
        ]
    )
    with pytest.raises(MultiPartParserError, match="base64"):
        ours(body)
    with pytest.raises(MultiPartParserError, match="base64"):
        djangos(body)


def test_a_file_in_a_field_without_a_name_is_dropped_as_django_drops_it():
    # Found by the property test: a name of white space only.
    body = _body(
        [
            _part(['Content-Disposition: form-data; name="0"'], b""),
            _part(
                [
                    'Content-Disposition: form-data; name="\x0c"; filename="0"',
                    "Content-Type: application/pdf",
                ],
                b"",
            ),
        ]
    )
    assert _summary(*ours(body)) == _summary(*djangos(body)) == ([("0", [""])], [])
