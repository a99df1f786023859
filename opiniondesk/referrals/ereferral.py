"""Read a JP eReferral (JP-CLINS 診療情報提供書) FHIR R4 document Bundle. Pure: no Django.

The profile is JP_Bundle_eReferral / JP_Composition_eReferral of the JAMI clinical-core
implementation guide (github.com/jami-fhir-jp-wg/clinical-core): a `document` Bundle whose first
entry is a Composition of type 57133-1 (診療情報提供書), with the sections 紹介元情報 (920),
紹介先情報 (910) and 構造情報 (300), the latter holding 紹介目的 (950), 傷病名・主訴 (340) and
現病歴 (360). Only what is read here is checked, and strictly: every reference followed must
resolve to an entry of the bundle (by its fullUrl, or `Type/id`), of the type expected.

`read_referral(raw)` returns a `Referral` or raises `InvalidReferral` with every problem found,
each a `Problem` with a stable code and its details (the UI words them, `referrals.wording`).
"""

import json
import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from typing import Any

MAX_BYTES = 5 * 1024 * 1024  # a referral with attached reports; the official example is 48 KB
MAX_DEPTH = 64  # JSON nesting: FHIR resources are shallow

REFERRAL_TYPE_CODE = "57133-1"  # LOINC: Referral note (診療情報提供書)
# The IG's document type code system carries the LOINC code; LOINC's own URI is accepted too.
TYPE_SYSTEMS = frozenset(
    {"http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes", "http://loinc.org"}
)
SECTION_SYSTEM = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section"

REFERRAL_FROM = "920"  # 紹介元情報
REFERRAL_TO = "910"  # 紹介先情報
STRUCTURED = "300"  # 構造情報
PURPOSE = "950"  # 紹介目的
PROBLEMS = "340"  # 傷病名・主訴
PRESENT_ILLNESS = "360"  # 現病歴
SECTION_TITLES = {
    REFERRAL_FROM: "紹介元情報",
    REFERRAL_TO: "紹介先情報",
    STRUCTURED: "構造情報",
    PURPOSE: "紹介目的",
    PROBLEMS: "傷病名・主訴",
    PRESENT_ILLNESS: "現病歴",
}

NAME_REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
DEPARTMENT_EXTENSION = "http://jpfhir.jp/fhir/eCS/Extension/StructureDefinition/JP_eCS_Department"

_FHIR_DATE = re.compile(r"^(\d{4})(-(\d{2})(-(\d{2}))?)?")
_RELATIVE_REFERENCE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


class Code:
    """Why a bundle is refused (stable: the UI and tests use them)."""

    TOO_LARGE = "TOO_LARGE"
    EMPTY = "EMPTY"
    NOT_UTF8 = "NOT_UTF8"
    NOT_JSON = "NOT_JSON"
    NOT_BUNDLE = "NOT_BUNDLE"
    NOT_DOCUMENT = "NOT_DOCUMENT"
    NO_ENTRIES = "NO_ENTRIES"
    BAD_ENTRY = "BAD_ENTRY"
    DUPLICATE_FULL_URL = "DUPLICATE_FULL_URL"
    FIRST_NOT_COMPOSITION = "FIRST_NOT_COMPOSITION"
    NOT_REFERRAL = "NOT_REFERRAL"
    MISSING = "MISSING"
    BAD_DATE = "BAD_DATE"
    UNRESOLVED = "UNRESOLVED"
    WRONG_TARGET = "WRONG_TARGET"
    MISSING_SECTION = "MISSING_SECTION"
    DUPLICATE_SECTION = "DUPLICATE_SECTION"
    NO_INSTITUTION = "NO_INSTITUTION"
    EMPTY_SECTION = "EMPTY_SECTION"
    TOO_LONG = "TOO_LONG"  # found by the service: longer than the case keeps


@dataclass(frozen=True)
class Problem:
    code: str
    where: str = ""  # the element, e.g. "Composition.subject"
    value: str = ""  # what was found there (a reference, a code, a section code)

    def __str__(self) -> str:
        return _ENGLISH[self.code].format(where=self.where, value=self.value)


_ENGLISH = {
    Code.TOO_LARGE: "the file is larger than {value} bytes",
    Code.EMPTY: "the file is empty",
    Code.NOT_UTF8: "the file is not UTF-8 text",
    Code.NOT_JSON: "the file is not valid JSON ({value})",
    Code.NOT_BUNDLE: "the file is not a FHIR Bundle (resourceType {value})",
    Code.NOT_DOCUMENT: "the bundle is not a document (type {value})",
    Code.NO_ENTRIES: "the bundle has no entries",
    Code.BAD_ENTRY: "{where} has no fullUrl or no resource",
    Code.DUPLICATE_FULL_URL: "the fullUrl {value} appears twice in the bundle",
    Code.FIRST_NOT_COMPOSITION: "the first entry is not a Composition ({value})",
    Code.NOT_REFERRAL: "the Composition's type is not LOINC 57133-1 ({value})",
    Code.MISSING: "{where} is missing",
    Code.BAD_DATE: "{where} is not a date ({value})",
    Code.UNRESOLVED: "the reference {value} ({where}) does not resolve in the bundle",
    Code.WRONG_TARGET: "{where} refers to a {value}, not the resource type expected",
    Code.MISSING_SECTION: "the section {value} is missing",
    Code.DUPLICATE_SECTION: "the section {value} appears more than once",
    Code.NO_INSTITUTION: "the section {value} names no institution (Organization)",
    Code.EMPTY_SECTION: "the section {value} has neither text nor entries",
    Code.TOO_LONG: "{where} is longer than {value} characters",
}


class InvalidReferral(Exception):
    """The file is not a JP eReferral document this service can read; `reasons` says why."""

    def __init__(self, reasons: list[Problem]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(str(r) for r in reasons))


@dataclass(frozen=True)
class Coding:
    system: str
    code: str
    display: str = ""


@dataclass(frozen=True)
class Diagnosis:
    text: str
    codes: tuple[Coding, ...] = ()
    onset: str = ""  # as written: "2022-06-09", "2022-05", "2018"


@dataclass(frozen=True)
class Patient:
    family_name: str
    given_name: str
    family_name_kana: str = ""
    given_name_kana: str = ""
    birth_date: date | None = None  # None when absent or partial ("1930")
    sex: str = ""  # FHIR gender: male | female | other | unknown
    postal_code: str = ""
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Party:
    """One side of the referral: the institution, its department and the doctor."""

    institution: str = ""
    department: str = ""
    doctor: str = ""
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Referral:
    bundle_identifier: str
    document_identifier: str  # 診療情報提供書番号
    written_on: date  # the issue date (event.period.start), else the Composition's date
    patient: Patient
    referrer: Party
    recipient: Party
    purpose: str
    diagnoses: tuple[Diagnosis, ...]
    present_illness: str


class _Refused(Exception):
    """Nothing further can be read: the problems so far are the answer."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        duplicate = next(key for key in keys if keys.count(key) > 1)
        raise ValueError(f"the key {duplicate!r} appears twice in one object")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any, limit: int) -> int:
    """The nesting depth, or limit + 1 as soon as it goes past `limit` (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def load_json(raw: bytes, *, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """The bytes as a JSON object, or `InvalidReferral`."""
    if len(raw) > max_bytes:
        raise InvalidReferral([Problem(Code.TOO_LARGE, value=str(max_bytes))])
    if not raw.strip():
        raise InvalidReferral([Problem(Code.EMPTY)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidReferral([Problem(Code.NOT_UTF8)]) from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except RecursionError:
        raise InvalidReferral([Problem(Code.NOT_JSON, value="nested too deeply")]) from None
    except ValueError as error:
        raise InvalidReferral([Problem(Code.NOT_JSON, value=str(error)[:120])]) from None
    if _depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise InvalidReferral([Problem(Code.NOT_JSON, value="nested too deeply")])
    if not isinstance(data, dict):
        raise InvalidReferral([Problem(Code.NOT_BUNDLE, value=type(data).__name__)])
    return data


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _Narrative(HTMLParser):
    """The words of a section's XHTML narrative; <br> and block ends become line breaks."""

    BREAKS = frozenset({"br", "p", "div", "li", "tr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BREAKS and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def narrative_text(div: str) -> str:
    parser = _Narrative()
    parser.feed(div)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _fhir_date(value: str) -> date | None:
    """A full FHIR date or dateTime as a date; None when partial. ValueError when malformed."""
    match = _FHIR_DATE.match(value)
    if match is None:
        raise ValueError(value)
    if match.group(5) is None:
        return None
    return date(int(match.group(1)), int(match.group(3)), int(match.group(5)))


class _Reader:
    def __init__(self, bundle: dict[str, Any]) -> None:
        self.bundle = bundle
        self.problems: list[Problem] = []
        self.by_url: dict[str, dict[str, Any]] = {}
        self.by_type_id: dict[tuple[str, str], dict[str, Any]] = {}

    def problem(self, code: str, where: str = "", value: str = "") -> None:
        self.problems.append(Problem(code, where, value))

    # -- the bundle --

    def entries(self) -> list[dict[str, Any]]:
        bundle = self.bundle
        if bundle.get("resourceType") != "Bundle":
            self.problem(Code.NOT_BUNDLE, value=str(bundle.get("resourceType", ""))[:40])
            raise _Refused
        if bundle.get("type") != "document":
            self.problem(Code.NOT_DOCUMENT, value=str(bundle.get("type", ""))[:40])
        entries = _list(bundle.get("entry"))
        if not entries:
            self.problem(Code.NO_ENTRIES)
            raise _Refused
        resources = []
        for index, entry in enumerate(entries):
            entry = _dict(entry)
            url, resource = _text(entry.get("fullUrl")), _dict(entry.get("resource"))
            resource_type = _text(resource.get("resourceType"))
            if not url or not resource_type:
                self.problem(Code.BAD_ENTRY, where=f"Bundle.entry[{index}]")
                continue
            if url in self.by_url:
                self.problem(Code.DUPLICATE_FULL_URL, value=url[:100])
                continue
            self.by_url[url] = resource
            resource_id = _text(resource.get("id"))
            if resource_id:
                self.by_type_id.setdefault((resource_type, resource_id), resource)
            resources.append(resource)
        if self.problems:
            raise _Refused
        return resources

    def resolve(self, reference: Any, where: str, *types: str) -> dict[str, Any] | None:
        """The entry a Reference points to, of one of `types`; None (and a problem) if not."""
        target = _text(_dict(reference).get("reference"))
        if not target:
            self.problem(Code.MISSING, where=f"{where}.reference")
            return None
        resource = self.by_url.get(target)
        if resource is None:
            match = _RELATIVE_REFERENCE.match(target)
            if match is not None:
                resource = self.by_type_id.get((match.group(1), match.group(2)))
        if resource is None:
            self.problem(Code.UNRESOLVED, where=where, value=target[:100])
            return None
        if types and resource.get("resourceType") not in types:
            self.problem(Code.WRONG_TARGET, where=where, value=str(resource.get("resourceType")))
            return None
        return resource

    # -- the composition --

    def composition(self, first: dict[str, Any]) -> dict[str, Any]:
        if first.get("resourceType") != "Composition":
            self.problem(Code.FIRST_NOT_COMPOSITION, value=str(first.get("resourceType"))[:40])
            raise _Refused
        codings = [_dict(c) for c in _list(_dict(first.get("type")).get("coding"))]
        if not any(
            c.get("code") == REFERRAL_TYPE_CODE and c.get("system") in TYPE_SYSTEMS for c in codings
        ):
            found = ", ".join(f"{_text(c.get('system'))}|{_text(c.get('code'))}" for c in codings)
            self.problem(Code.NOT_REFERRAL, value=found[:120] or "-")
            raise _Refused
        return first

    def sections(self, sections: Any, where: str) -> dict[str, dict[str, Any]]:
        """The sections by their code of the IG's section code system."""
        found: dict[str, dict[str, Any]] = {}
        for index, section in enumerate(_list(sections)):
            section = _dict(section)
            codes = [
                _text(c.get("code"))
                for c in map(_dict, _list(_dict(section.get("code")).get("coding")))
                if c.get("system") == SECTION_SYSTEM
            ]
            if not codes:
                self.problem(Code.MISSING, where=f"{where}[{index}].code")
                continue
            if codes[0] in found:
                self.problem(Code.DUPLICATE_SECTION, value=_section_name(codes[0]))
            found[codes[0]] = section
        return found

    def required(self, sections: dict[str, dict[str, Any]], code: str) -> dict[str, Any] | None:
        section = sections.get(code)
        if section is None:
            self.problem(Code.MISSING_SECTION, value=_section_name(code))
        return section

    # -- the people --

    def patient(self, composition: dict[str, Any]) -> Patient | None:
        if "subject" not in composition:
            self.problem(Code.MISSING, where="Composition.subject")
            return None
        resource = self.resolve(composition["subject"], "Composition.subject", "Patient")
        if resource is None:
            return None
        names = _names(resource)
        written = names.get("IDE") or names.get("")
        if written is None or not (written[0] or written[1]):
            self.problem(Code.MISSING, where="Patient.name")
            return None
        kana = names.get("SYL", ("", ""))
        birth = _text(resource.get("birthDate"))
        birth_date = None
        if birth:
            try:
                birth_date = _fhir_date(birth)
            except ValueError:
                self.problem(Code.BAD_DATE, where="Patient.birthDate", value=birth[:40])
        address = _dict(next(iter(_list(resource.get("address"))), {}))
        return Patient(
            family_name=written[0],
            given_name=written[1],
            family_name_kana=kana[0],
            given_name_kana=kana[1],
            birth_date=birth_date,
            sex=_text(resource.get("gender")),
            postal_code=_text(address.get("postalCode")),
            address=_address_text(address),
            phone=_phone(resource),
        )

    def party(self, section: dict[str, Any], code: str) -> Party:
        """The institution, department and doctor a 紹介元/紹介先 section refers to."""
        institution: dict[str, Any] = {}
        department, doctor = "", ""
        where = f"section {code}"
        for index, entry in enumerate(_list(section.get("entry"))):
            resource = self.resolve(
                entry, f"{where}.entry[{index}]", "Organization", "Practitioner", "PractitionerRole"
            )
            if resource is None:
                continue
            kind = resource["resourceType"]
            if kind == "Practitioner" and not doctor:
                written = _names(resource)
                family, given = written.get("IDE") or written.get("") or ("", "")
                doctor = f"{family} {given}".strip()
            elif kind == "Organization" and _dict(resource.get("partOf")):
                department = department or _text(resource.get("name"))
            elif kind == "Organization" and not institution:
                institution = resource
        if not institution:
            if code == REFERRAL_FROM:  # the recipient may be named in words only
                self.problem(Code.NO_INSTITUTION, value=_section_name(code))
            return Party(department=department, doctor=doctor)
        address = _dict(next(iter(_list(institution.get("address"))), {}))
        return Party(
            institution=_text(institution.get("name")),
            department=department or _department(institution),
            doctor=doctor,
            address=_address_text(address),
            phone=_phone(institution),
        )

    # -- what the letter says --

    def purpose(self, section: dict[str, Any]) -> str:
        reasons = []
        for index, entry in enumerate(_list(section.get("entry"))):
            encounter = self.resolve(entry, f"section {PURPOSE}.entry[{index}]", "Encounter")
            if encounter is not None:
                reasons += [_concept_text(r) for r in _list(encounter.get("reasonCode"))]
        return self.text_or_narrative("\n".join(r for r in reasons if r), section, PURPOSE)

    def diagnoses(self, section: dict[str, Any]) -> tuple[Diagnosis, ...]:
        found = []
        for index, entry in enumerate(_list(section.get("entry"))):
            condition = self.resolve(entry, f"section {PROBLEMS}.entry[{index}]", "Condition")
            if condition is None:
                continue
            concept = _dict(condition.get("code"))
            codings = tuple(
                Coding(_text(c.get("system")), _text(c.get("code")), _text(c.get("display")))
                for c in map(_dict, _list(concept.get("coding")))
                if _text(c.get("code"))
            )
            text = _concept_text(concept)
            if text:
                onset = _text(condition.get("onsetDateTime"))
                found.append(Diagnosis(text=text, codes=codings, onset=onset))
        if found:
            return tuple(found)
        narrative = self.text_or_narrative("", section, PROBLEMS)
        return (Diagnosis(text=narrative),) if narrative else ()

    def present_illness(self, section: dict[str, Any]) -> str:
        notes = []
        for index, entry in enumerate(_list(section.get("entry"))):
            where = f"section {PRESENT_ILLNESS}.entry[{index}]"
            condition = self.resolve(entry, where, "Condition", "Observation", "DocumentReference")
            if condition is not None:
                notes += [_text(_dict(n).get("text")) for n in _list(condition.get("note"))]
        return self.text_or_narrative("\n".join(n for n in notes if n), section, PRESENT_ILLNESS)

    def text_or_narrative(self, text: str, section: dict[str, Any], code: str) -> str:
        """What the entries say, else the section's narrative; a problem if neither says it."""
        if not text:
            text = narrative_text(_text(_dict(section.get("text")).get("div")))
        if not text:
            self.problem(Code.EMPTY_SECTION, value=_section_name(code))
        return text

    def written_on(self, composition: dict[str, Any]) -> date | None:
        start = _text(
            _dict(_dict(next(iter(_list(composition.get("event"))), {})).get("period")).get("start")
        )
        written = _text(composition.get("date"))
        if not written:
            self.problem(Code.MISSING, where="Composition.date")
        for where, value in (
            ("Composition.event.period.start", start),
            ("Composition.date", written),
        ):
            if not value:
                continue
            try:
                day = _fhir_date(value)
            except ValueError:
                self.problem(Code.BAD_DATE, where=where, value=value[:40])
                return None
            if day is not None:
                return day
            self.problem(Code.BAD_DATE, where=where, value=value[:40])
            return None
        return None

    def read(self) -> Referral:
        resources = self.entries()
        composition = self.composition(resources[0])
        bundle_identifier = _text(_dict(self.bundle.get("identifier")).get("value"))
        if not bundle_identifier:
            self.problem(Code.MISSING, where="Bundle.identifier")
        identifiers = composition.get("identifier")
        if isinstance(identifiers, list):  # 0..1 in R4; some writers send a list
            identifiers = next(iter(identifiers), {})
        document_identifier = _text(_dict(identifiers).get("value"))
        if not document_identifier:
            self.problem(Code.MISSING, where="Composition.identifier")
        written_on = self.written_on(composition)
        patient = self.patient(composition)
        top = self.sections(composition.get("section"), "Composition.section")
        referrer_section = self.required(top, REFERRAL_FROM)
        recipient_section = self.required(top, REFERRAL_TO)
        structured = self.required(top, STRUCTURED)
        referrer = self.party(referrer_section, REFERRAL_FROM) if referrer_section else Party()
        recipient = self.party(recipient_section, REFERRAL_TO) if recipient_section else Party()
        inner = self.sections(_dict(structured).get("section"), "section 300.section")
        purpose_section = self.required(inner, PURPOSE) if structured else None
        problem_section = self.required(inner, PROBLEMS) if structured else None
        illness_section = self.required(inner, PRESENT_ILLNESS) if structured else None
        purpose = self.purpose(purpose_section) if purpose_section else ""
        diagnoses = self.diagnoses(problem_section) if problem_section else ()
        illness = self.present_illness(illness_section) if illness_section else ""
        if self.problems or patient is None or written_on is None:
            raise _Refused
        return Referral(
            bundle_identifier=bundle_identifier,
            document_identifier=document_identifier,
            written_on=written_on,
            patient=patient,
            referrer=referrer,
            recipient=recipient,
            purpose=purpose,
            diagnoses=diagnoses,
            present_illness=illness,
        )


def _section_name(code: str) -> str:
    title = SECTION_TITLES.get(code)
    return f"{code} {title}" if title else code


def _names(resource: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Family and given name by representation: IDE (kanji), SYL (kana), "" (not said)."""
    found: dict[str, tuple[str, str]] = {}
    for name in map(_dict, _list(resource.get("name"))):
        representation = ""
        for extension in map(_dict, _list(name.get("extension"))):
            if extension.get("url") == NAME_REPRESENTATION:
                representation = _text(extension.get("valueCode"))
        family = _text(name.get("family"))
        given = " ".join(_text(g) for g in _list(name.get("given")) if _text(g))
        if not family and not given:
            parts = _text(name.get("text")).replace("\u3000", " ").split(maxsplit=1)
            family, given = [*parts, "", ""][:2]
        if family or given:
            found.setdefault(representation, (family, given))
    return found


def _address_text(address: dict[str, Any]) -> str:
    text = _text(address.get("text"))
    if text:
        return text
    lines = " ".join(_text(line) for line in _list(address.get("line")))
    parts = (_text(address.get(k)) for k in ("state", "city"))
    return "".join(parts) + lines


def _phone(resource: dict[str, Any]) -> str:
    phones = [
        _dict(t)
        for t in _list(resource.get("telecom"))
        if _dict(t).get("system") == "phone" and _text(_dict(t).get("value"))
    ]
    phones.sort(key=_rank)
    return _text(phones[0]["value"]) if phones else ""


def _rank(telecom: dict[str, Any]) -> int:
    rank = telecom.get("rank")
    return rank if isinstance(rank, int) else 1_000_000


def _concept_text(concept: Any) -> str:
    concept = _dict(concept)
    text = _text(concept.get("text"))
    if text:
        return text
    displays = [_text(_dict(c).get("display")) for c in _list(concept.get("coding"))]
    return next((d for d in displays if d), "")


def _department(organization: dict[str, Any]) -> str:
    for extension in map(_dict, _list(organization.get("extension"))):
        if extension.get("url") == DEPARTMENT_EXTENSION:
            return _concept_text(extension.get("valueCodeableConcept"))
    return ""


def read_referral(raw: bytes, *, max_bytes: int = MAX_BYTES) -> Referral:
    """The referral in `raw`, or `InvalidReferral` with every problem found."""
    reader = _Reader(load_json(raw, max_bytes=max_bytes))
    try:
        return reader.read()
    except _Refused:
        raise InvalidReferral(reader.problems) from None
