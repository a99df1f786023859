"""Demo and example contacts are invented (SPEC §13, issue #16 item 12): no phone number,
postal code or address of a real line or place in the demo data, the settings' defaults, the
README, the templates, the test personas and builders, or our documentation.

A Japanese fixed-line number is 0 + area code + local exchange (市内局番) + subscriber number,
ten digits. The exchange never begins with 0 (the trunk prefix) or 1 (special services such as
110 and 119), so a number whose part after the area code begins with 0 (03-0123-4567,
048-012-3456) cannot be dialled to anyone. We use only that pattern: even for a phone one would
expect to be a mobile, since whether a mobile block such as 090-0xxx is unassigned cannot be
told from the numbering plan's shape. Postal codes begin with 000, which no area has (the
lowest, 001, is Sapporo), and addresses name an invented place (架空区, 見本町).

The JP eReferral examples under docs/fhir/ereferral are the standard's own examples, kept
verbatim under their licence (CC BY-ND), and are not ours to change."""

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PHONE_LIKE = re.compile(r"(?<![\d-])0\d{1,4}-\d{1,4}-\d{3,4}(?![\d-])")
INVENTED_PHONE = re.compile(r"^0\d{1,4}-0\d{0,3}-\d{4}$")
POSTAL_LIKE = re.compile(r"(?<![\d-])\d{3}-\d{4}(?![\d-])")
INVENTED_POSTAL = re.compile(r"^000-\d{4}$")
INVENTED_PLACE = ("架空", "見本")


def invented_phone(number: str) -> bool:
    return bool(INVENTED_PHONE.match(number)) and len(number.replace("-", "")) == 10


def invented_address(address: str) -> bool:
    return any(word in address for word in INVENTED_PLACE)


def scanned() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "config" / "settings.py"]
    files += sorted((ROOT / "opiniondesk" / "demo").rglob("*.py"))
    files += sorted((ROOT / "opiniondesk" / "testing").glob("*.py"))
    files += sorted((ROOT / "templates").rglob("*.*"))
    files += sorted((ROOT / "opiniondesk").glob("*/templates/**/*.*"))
    files += [p for p in sorted((ROOT / "docs").rglob("*.*")) if "ereferral" not in p.parts]
    return [p for p in files if p.suffix in {".py", ".md", ".html", ".txt", ".json"}]


@pytest.mark.parametrize(
    ("number", "invented"),
    [
        ("03-0000-1234", True),
        ("03-0123-4567", True),
        ("048-077-8888", True),
        ("0470-01-2345", True),
        ("03-1234-5678", False),  # an exchange that exists
        ("090-1234-5678", False),  # a mobile block in use
        ("048-777-8888", False),
        ("03-0123-456", False),  # nine digits
    ],
)
def test_the_invented_pattern(number, invented):
    assert invented_phone(number) is invented


def test_the_scan_finds_numbers_and_postal_codes_in_text():
    text = "電話 03-1234-5678、〒113-8655 東京都; 2026-12-03 10:00–17:00 SO-000123"
    assert PHONE_LIKE.findall(text) == ["03-1234-5678"]
    assert POSTAL_LIKE.findall(text) == ["113-8655"]


def test_the_files_name_only_invented_numbers_and_postal_codes():
    files = scanned()
    assert len(files) > 50
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        found += [f"{where}: {n}" for n in PHONE_LIKE.findall(text) if not invented_phone(n)]
        found += [
            f"{where}: 〒{p}" for p in POSTAL_LIKE.findall(text) if not INVENTED_POSTAL.match(p)
        ]
    assert not found, "\n".join(["Real-looking contacts:", *found])


def test_the_hospital_defaults_are_invented():
    hospital = settings.HOSPITAL
    assert invented_phone(hospital["phone"])
    assert INVENTED_POSTAL.match(hospital["postal_code"])
    assert invented_address(hospital["address"])
