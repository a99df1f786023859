"""What a PDF (a receipt, an opinion) says and which fonts it carries, read back with poppler's
pdftotext and pdffonts (poppler-utils), as a person or an accounting tool would read it."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


def _poppler(tool: str) -> str:
    """The tool, or the test is skipped with the reason (failed under CI=true, as a missing
    Chromium is)."""
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {tool} is missing: apt-get install poppler-utils")
        pytest.skip(f"{tool} is missing (apt-get install poppler-utils): PDF text not read")
    return path


def pdf_text(pdf: bytes) -> str:
    """The text of the PDF laid out as printed (pdftotext -layout)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "document.pdf"
        path.write_bytes(pdf)
        return subprocess.run(
            [_poppler("pdftotext"), "-layout", "-enc", "UTF-8", str(path), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout


def pdf_fonts(pdf: bytes) -> list[dict[str, str]]:
    """The fonts of the PDF as pdffonts lists them: name, type and whether embedded."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "document.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(
            [_poppler("pdffonts"), str(path)], check=True, capture_output=True, text=True
        ).stdout
    lines = out.splitlines()
    header, rule, rows = lines[0], lines[1], lines[2:]
    # Columns are fixed-width, marked by the dashes of the second line.
    spans, start = [], 0
    for part in rule.split(" "):
        spans.append((start, start + len(part)))
        start += len(part) + 1
    names = [header[a:b].strip() for a, b in spans]
    return [
        {name: row[a:b].strip() for name, (a, b) in zip(names, spans, strict=True)} for row in rows
    ]
