"""The eReferral reader: the official examples read into the expected values (round trip from
docs/fhir/ereferral), and every required part removed or broken is refused with its reason."""

import copy
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from opiniondesk.referrals.ereferral import (
    MAX_BYTES,
    Code,
    InvalidReferral,
    Problem,
    narrative_text,
    read_referral,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "fhir" / "ereferral"
EXAMPLE = DOCS / "Bundle-Bundle-CLINS-Referral-Example-01.json"
NO_ENTRY = DOCS / "Bundle-Bundle-CLINS-Referral-NoEntry-Example-01.json"
PATIENT_URL = "urn:uuid:0a48a4bf-0d87-4efb-aafd-d45e0842a4dd"
FROM_ORG_URL = "urn:uuid:8a888471-9781-4fb7-b5c4-b34afcdea638"


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_bytes())


def encoded(bundle: Any) -> bytes:
    return json.dumps(bundle, ensure_ascii=False).encode()


def composition(bundle: dict[str, Any]) -> dict[str, Any]:
    return bundle["entry"][0]["resource"]


def section(bundle: dict[str, Any], code: str) -> dict[str, Any]:
    top = composition(bundle)["section"]
    for s in [*top, *next(s for s in top if s["code"]["coding"][0]["code"] == "300")["section"]]:
        if s["code"]["coding"][0]["code"] == code:
            return s
    raise KeyError(code)


def drop_section(code: str) -> Callable[[dict[str, Any]], None]:
    def change(bundle: dict[str, Any]) -> None:
        top = composition(bundle)["section"]
        structured = next(s for s in top if s["code"]["coding"][0]["code"] == "300")
        for sections in (top, structured["section"]):
            sections[:] = [s for s in sections if s["code"]["coding"][0]["code"] != code]

    return change


def entry_of(bundle: dict[str, Any], url: str) -> dict[str, Any]:
    return next(e for e in bundle["entry"] if e["fullUrl"] == url)


def test_the_official_example_reads_into_the_expected_values():
    referral = read_referral(EXAMPLE.read_bytes())
    assert referral.bundle_identifier == "1318814790^2024^0123-Referral-203949583949"
    assert referral.document_identifier == "1311234567-2021-12345678"
    assert referral.written_on == date(2020, 8, 21)
    p = referral.patient
    assert (p.family_name, p.given_name) == ("牧野", "爛漫")
    assert (p.family_name_kana, p.given_name_kana) == ("マキノ", "ランマン")
    assert (p.birth_date, p.sex) == (date(1930, 6, 28), "female")
    assert (p.postal_code, p.address, p.phone) == (
        "781-8125",
        "高知県高知市五台山4200-6",
        "03-123-1234",
    )
    r = referral.referrer
    assert (r.institution, r.department, r.doctor) == ("港診療所", "眼科", "大河内 勘三郎")
    assert (r.address, r.phone) == ("東京都港区新橋１−２−３", "03-9876-5432")
    t = referral.recipient
    assert (t.institution, t.department, t.doctor) == (
        "東京第一テスト病院",
        "循環器内科",
        "野口 英世丸",
    )
    assert referral.purpose == "腹痛精査お願いします。"
    assert [d.text for d in referral.diagnoses] == ["上腹部痛", "腰痛"]
    assert [c.code for c in referral.diagnoses[0].codes] == ["20065011"]
    assert (
        referral.diagnoses[0].codes[0].system
        == "http://medis.or.jp/CodeSystem/master-disease-keyNumber"
    )
    assert [d.onset for d in referral.diagnoses] == ["2022-06-09", "2022-05"]
    assert referral.present_illness.startswith("２０２２年６月上旬から夜食後に時々上腹部痛")


def test_the_text_only_example_reads_its_sections_narrative():
    referral = read_referral(NO_ENTRY.read_bytes())
    assert referral.patient.family_name == "牧野"
    assert referral.referrer.doctor == "大河内 勘三郎"  # the name's text only, split at the space
    assert referral.purpose == "腹痛精査お願いします。"
    assert [d.text for d in referral.diagnoses] == ["2022-06-09 上腹部痛、2022-05 腰痛"]
    assert referral.diagnoses[0].codes == ()
    assert "夜食後に時々上腹部痛" in referral.present_illness


def test_a_narrative_keeps_its_line_breaks_and_drops_markup():
    div = (
        '<div xmlns="http://www.w3.org/1999/xhtml">'
        "港診療所<br/>眼科 &amp; <b>内科</b><script>x</script></div>"
    )
    assert narrative_text(div) == "港診療所\n眼科 & 内科x"


def test_a_relative_reference_resolves_by_type_and_id():
    bundle = example()
    patient = entry_of(bundle, PATIENT_URL)["resource"]
    composition(bundle)["subject"] = {"reference": f"Patient/{patient['id']}"}
    assert read_referral(encoded(bundle)).patient.family_name == "牧野"


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(bundle: dict[str, Any]) -> None:
        target: Any = bundle
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is KeyError:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value

    return change


def _on_composition(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(bundle: dict[str, Any]) -> None:
        if value is KeyError:
            del composition(bundle)[key]
        else:
            composition(bundle)[key] = value

    return change


def _drop_entry(url: str) -> Callable[[dict[str, Any]], None]:
    def change(bundle: dict[str, Any]) -> None:
        bundle["entry"] = [e for e in bundle["entry"] if e["fullUrl"] != url]

    return change


def _first_entry_last(bundle: dict[str, Any]) -> None:
    bundle["entry"].append(bundle["entry"].pop(0))


def _duplicate_url(bundle: dict[str, Any]) -> None:
    bundle["entry"][2]["fullUrl"] = bundle["entry"][1]["fullUrl"]


def _empty_purpose(bundle: dict[str, Any]) -> None:
    purpose = section(bundle, "950")
    purpose.pop("entry")
    purpose["text"]["div"] = '<div xmlns="http://www.w3.org/1999/xhtml"> </div>'


def _diagnosis_points_at_patient(bundle: dict[str, Any]) -> None:
    section(bundle, "340")["entry"][0]["reference"] = PATIENT_URL


def _referrer_without_institution(bundle: dict[str, Any]) -> None:
    referrer = section(bundle, "920")
    referrer["entry"] = [e for e in referrer["entry"] if e["reference"] != FROM_ORG_URL]


def _patient_nameless(bundle: dict[str, Any]) -> None:
    entry_of(bundle, PATIENT_URL)["resource"].pop("name")


def _twice_the_purpose(bundle: dict[str, Any]) -> None:
    structured = next(
        s for s in composition(bundle)["section"] if s["code"]["coding"][0]["code"] == "300"
    )
    structured["section"].append(copy.deepcopy(section(bundle, "950")))


def _section_code_other_system(bundle: dict[str, Any]) -> None:
    section(bundle, "360")["code"]["coding"][0]["system"] = "http://loinc.org"


CASES = [
    ("not a bundle", _set("resourceType", "Patient"), Problem(Code.NOT_BUNDLE, value="Patient")),
    ("a collection", _set("type", "collection"), Problem(Code.NOT_DOCUMENT, value="collection")),
    ("no entries", _set("entry", []), Problem(Code.NO_ENTRIES)),
    (
        "entry without fullUrl",
        _set("entry.3.fullUrl", KeyError),
        Problem(Code.BAD_ENTRY, "Bundle.entry[3]"),
    ),
    (
        "entry without resource",
        _set("entry.3.resource", KeyError),
        Problem(Code.BAD_ENTRY, "Bundle.entry[3]"),
    ),
    ("fullUrl twice", _duplicate_url, Problem(Code.DUPLICATE_FULL_URL, value=PATIENT_URL)),
    (
        "Composition not first",
        _first_entry_last,
        Problem(Code.FIRST_NOT_COMPOSITION, value="Patient"),
    ),
    (
        "discharge summary",
        _set("entry.0.resource.type.coding.0.code", "18842-5"),
        Problem(
            Code.NOT_REFERRAL, value="http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes|18842-5"
        ),
    ),
    (
        "type in another system",
        _set("entry.0.resource.type.coding.0.system", "urn:example"),
        Problem(Code.NOT_REFERRAL, value="urn:example|57133-1"),
    ),
    ("no type", _on_composition("type", KeyError), Problem(Code.NOT_REFERRAL, value="-")),
    (
        "no subject",
        _on_composition("subject", KeyError),
        Problem(Code.MISSING, "Composition.subject"),
    ),
    (
        "subject without reference",
        _on_composition("subject", {"display": "x"}),
        Problem(Code.MISSING, "Composition.subject.reference"),
    ),
    (
        "subject unresolved",
        _on_composition("subject", {"reference": "Patient/xyz"}),
        Problem(Code.UNRESOLVED, "Composition.subject", "Patient/xyz"),
    ),
    (
        "patient entry removed",
        _drop_entry(PATIENT_URL),
        Problem(Code.UNRESOLVED, "Composition.subject", PATIENT_URL),
    ),
    (
        "subject is an Organization",
        _on_composition("subject", {"reference": FROM_ORG_URL}),
        Problem(Code.WRONG_TARGET, "Composition.subject", "Organization"),
    ),
    ("patient without a name", _patient_nameless, Problem(Code.MISSING, "Patient.name")),
    ("no date", _on_composition("date", KeyError), Problem(Code.MISSING, "Composition.date")),
    (
        "no bundle identifier",
        _set("identifier", KeyError),
        Problem(Code.MISSING, "Bundle.identifier"),
    ),
    (
        "no letter number",
        _on_composition("identifier", KeyError),
        Problem(Code.MISSING, "Composition.identifier"),
    ),
    (
        "issue date not a date",
        _set("entry.0.resource.event.0.period.start", "21 Aug 2020"),
        Problem(Code.BAD_DATE, "Composition.event.period.start", "21 Aug 2020"),
    ),
    (
        "issue date partial",
        _set("entry.0.resource.event.0.period.start", "2020-08"),
        Problem(Code.BAD_DATE, "Composition.event.period.start", "2020-08"),
    ),
    (
        "no referrer section",
        drop_section("920"),
        Problem(Code.MISSING_SECTION, value="920 紹介元情報"),
    ),
    (
        "no recipient section",
        drop_section("910"),
        Problem(Code.MISSING_SECTION, value="910 紹介先情報"),
    ),
    (
        "no structured section",
        drop_section("300"),
        Problem(Code.MISSING_SECTION, value="300 構造情報"),
    ),
    (
        "no purpose section",
        drop_section("950"),
        Problem(Code.MISSING_SECTION, value="950 紹介目的"),
    ),
    (
        "no diagnoses section",
        drop_section("340"),
        Problem(Code.MISSING_SECTION, value="340 傷病名・主訴"),
    ),
    (
        "no present illness section",
        drop_section("360"),
        Problem(Code.MISSING_SECTION, value="360 現病歴"),
    ),
    (
        "section code of another system",
        _section_code_other_system,
        Problem(Code.MISSING, "section 300.section[2].code"),
    ),
    ("purpose twice", _twice_the_purpose, Problem(Code.DUPLICATE_SECTION, value="950 紹介目的")),
    ("purpose says nothing", _empty_purpose, Problem(Code.EMPTY_SECTION, value="950 紹介目的")),
    (
        "diagnosis points at the patient",
        _diagnosis_points_at_patient,
        Problem(Code.WRONG_TARGET, "section 340.entry[0]", "Patient"),
    ),
    (
        "referrer without institution",
        _referrer_without_institution,
        Problem(Code.NO_INSTITUTION, value="920 紹介元情報"),
    ),
    (
        "referrer's doctor unresolved",
        _set(
            "entry.0.resource.section.0.entry.1.reference",
            "urn:uuid:00000000-0000-0000-0000-000000000000",
        ),
        Problem(
            Code.UNRESOLVED, "section 920.entry[1]", "urn:uuid:00000000-0000-0000-0000-000000000000"
        ),
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_broken_bundle_is_refused_with_its_reason(change, expected):
    bundle = example()
    change(bundle)
    with pytest.raises(InvalidReferral) as refused:
        read_referral(encoded(bundle))
    assert expected in refused.value.reasons
    assert str(expected) in str(refused.value)


def test_every_problem_is_reported_at_once():
    bundle = example()
    drop_section("950")(bundle)
    drop_section("360")(bundle)
    composition(bundle)["subject"] = {"reference": "Patient/xyz"}
    with pytest.raises(InvalidReferral) as refused:
        read_referral(encoded(bundle))
    assert {p.code for p in refused.value.reasons} == {Code.MISSING_SECTION, Code.UNRESOLVED}
    assert len(refused.value.reasons) == 3


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", Code.EMPTY),
        (b"   \n", Code.EMPTY),
        (b"\xff\xfe{}", Code.NOT_UTF8),
        (b"{not json", Code.NOT_JSON),
        (b'{"resourceType": "Bundle", "resourceType": "Bundle"}', Code.NOT_JSON),
        (b'{"a": NaN}', Code.NOT_JSON),
        (b"[" * 100 + b"]" * 100, Code.NOT_JSON),
        (b'{"a":' * 100 + b"1" + b"}" * 100, Code.NOT_JSON),
        (b"[]", Code.NOT_BUNDLE),
        (b'"Bundle"', Code.NOT_BUNDLE),
        (b"{}", Code.NOT_BUNDLE),
        (b"<ClinicalDocument/>", Code.NOT_JSON),
    ],
    ids=[
        "empty",
        "blank",
        "not utf-8",
        "not json",
        "duplicate key",
        "NaN",
        "nested arrays",
        "nested objects",
        "a list",
        "a string",
        "no resourceType",
        "CDA XML",
    ],
)
def test_what_is_not_a_json_bundle_is_refused(raw, code):
    with pytest.raises(InvalidReferral) as refused:
        read_referral(raw)
    assert [p.code for p in refused.value.reasons] == [code]


def test_a_file_over_the_limit_is_refused_before_it_is_parsed():
    raw = EXAMPLE.read_bytes()
    with pytest.raises(InvalidReferral) as refused:
        read_referral(raw, max_bytes=len(raw) - 1)
    assert refused.value.reasons == [Problem(Code.TOO_LARGE, value=str(len(raw) - 1))]
    assert read_referral(raw, max_bytes=len(raw)).patient.family_name == "牧野"
    assert MAX_BYTES == 5 * 1024 * 1024


def test_a_byte_order_mark_is_accepted():
    assert read_referral(b"\xef\xbb\xbf" + EXAMPLE.read_bytes()).patient.given_name == "爛漫"
