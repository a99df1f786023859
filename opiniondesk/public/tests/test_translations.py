"""The translation catalogs: compiled, complete in Japanese, and covering our templates."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from opiniondesk.public import wording

LOCALE = Path(settings.BASE_DIR) / "locale"
PO_FILES = sorted(LOCALE.glob("*/LC_MESSAGES/django.po"))
JA_PO = LOCALE / "ja" / "LC_MESSAGES" / "django.po"
TEMPLATE_DIRS = [
    Path(settings.BASE_DIR) / "templates",
    Path(settings.BASE_DIR) / "opiniondesk" / "public" / "templates",
]

TRANSLATE = re.compile(r"""{%\s*translate\s+(?:"([^"]*)"|'([^']*)')""")
BLOCK = re.compile(r"{%\s*blocktranslate\b[^%]*%}(.*?){%\s*endblocktranslate\s*%}", re.S)
VARIABLE = re.compile(r"{{\s*(\w+)\s*}}")


def entries(catalog) -> dict[tuple[str, str], object]:
    """Translated entries of a .po or .mo file, keyed by (context, msgid)."""
    found = {}
    for entry in catalog:
        if entry.msgid_plural:
            value = {int(k): v for k, v in entry.msgstr_plural.items() if v}
        else:
            value = entry.msgstr
        if value and not entry.obsolete and "fuzzy" not in entry.flags:
            found[(entry.msgctxt or "", entry.msgid)] = value
    return found


def test_it_has_catalogs_for_japanese_and_english():
    assert {path.parts[-3] for path in PO_FILES} == {"ja", "en"}


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: p.parts[-3])
def test_it_keeps_every_mo_file_up_to_date_with_its_po(po_path):
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run `make messages`"
    assert entries(polib.mofile(str(mo_path))) == entries(polib.pofile(str(po_path))), (
        f"{mo_path} is stale: run `.venv/bin/python bin/compile_messages.py`"
    )


def test_it_translates_every_japanese_entry():
    po = polib.pofile(str(JA_PO))
    assert not po.metadata_is_fuzzy
    assert "plural=0" in po.metadata["Plural-Forms"]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags and not e.obsolete]
    untranslated = [e.msgid for e in po.untranslated_entries()]
    assert fuzzy == []
    assert untranslated == []


def template_msgids() -> set[str]:
    msgids = set()
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text()
            msgids |= {a or b for a, b in TRANSLATE.findall(text)}
            for body in BLOCK.findall(text):
                singular = re.split(r"{%\s*plural\s*%}", body)[0]
                msgids.add(VARIABLE.sub(r"%(\1)s", singular.replace("%", "%%")))
    return msgids


def test_it_has_every_template_string_in_the_japanese_catalog():
    translated = {msgid for (_, msgid) in entries(polib.pofile(str(JA_PO)))}
    assert len(template_msgids()) > 100
    assert sorted(template_msgids() - translated) == []


@pytest.mark.parametrize(
    "text",
    [
        *wording.RELATION_NAMES.values(),
        *wording.MODE_NAMES.values(),
        *wording.DOCUMENT_TITLES.values(),
        *(part for e in wording.REASONS.values() for part in (e.title, e.why, e.instead)),
        *(part for n in wording.DOCUMENT_NOTES.values() for part in (n.what, n.who)),
    ],
    ids=lambda text: str(text)[:40],
)
def test_it_says_each_code_in_japanese(text):
    with translation.override("ja"):
        japanese = str(text)
    with translation.override("en"):
        english = str(text)
    assert japanese != english
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", japanese)
