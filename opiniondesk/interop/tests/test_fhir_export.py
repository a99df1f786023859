"""The FHIR R4 export of a case: valid R4 (fhir.resources 6.4, FHIR 4.0.1), references that
resolve within the Bundle, every resource of a charged case, and nothing of another case."""

import json
from typing import Any

import fhir.resources
from fhir.resources import get_fhir_model_class
from fhir.resources.bundle import Bundle

from opiniondesk.documents.models import Document
from opiniondesk.interop.fhir_export import case_bundle
from opiniondesk.interop.tests.conftest import charged_case
from opiniondesk.readiness.models import ConsentSignature


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def references(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def test_it_exports_fhir_r4_that_the_r4_models_accept(charged):
    assert fhir.resources.__fhir_version__ == "4.0.1"
    bundle = case_bundle(charged)
    parsed = Bundle.parse_obj(bundle)
    assert parsed.type == "collection"
    for entry in bundle["entry"]:
        model = get_fhir_model_class(entry["resource"]["resourceType"])
        model.parse_obj(entry["resource"])  # raises on any field R4 does not have
    # What the models read back is what was written (nothing dropped as unknown).
    assert json.loads(parsed.json()) == json.loads(json.dumps(bundle))


def test_every_reference_resolves_within_the_bundle(charged):
    bundle = case_bundle(charged)
    urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(urls) == len(set(urls))
    assert all(
        url == f"urn:uuid:{e['resource']['id']}"
        for url, e in zip(urls, bundle["entry"], strict=True)
    )
    refs = references(bundle["entry"])
    assert refs and set(refs) <= set(urls)


def test_a_charged_case_has_every_resource(charged, dr_tanaka):
    bundle = case_bundle(charged)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    for kind in (
        "Patient",
        "RelatedPerson",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "ServiceRequest",
        "Appointment",
        "Encounter",
        "DocumentReference",
        "Consent",
        "ChargeItem",
        "Invoice",
    ):
        assert kind in kinds, kind
    (patient,) = resources(bundle, "Patient")
    assert [n["text"] for n in patient["name"]] == ["山田 花", "ヤマダ ハナ"]
    assert [n["extension"][0]["valueCode"] for n in patient["name"]] == ["IDE", "SYL"]
    assert (patient["birthDate"], patient["gender"]) == ("1950-04-01", "female")
    assert patient["address"][0]["postalCode"] == charged.patient_postal_code
    applicant, attending = resources(bundle, "RelatedPerson")
    assert applicant["relationship"][0]["coding"][0]["code"] == "CHILD"
    assert attending["name"][1]["text"] == "ヤマダ ケン"
    (request,) = resources(bundle, "ServiceRequest")
    assert request["status"] == "completed"
    assert any(charged.questions in note["text"] for note in request["note"])
    assert request["requester"]["reference"] == f"urn:uuid:{applicant['id']}"
    (encounter,) = resources(bundle, "Encounter")
    assert encounter["class"]["code"] == "VR"  # an online consult
    assert encounter["status"] == "finished"
    assert encounter["period"]["start"] < encounter["period"]["end"]
    documents = resources(bundle, "DocumentReference")
    assert len(documents) == Document.objects.filter(case=charged).count()
    for reference in documents:
        attachment = reference["content"][0]["attachment"]
        assert "data" not in attachment  # never the file itself
        document = Document.objects.get(sha256=attachment["extension"][0]["valueString"])
        assert attachment["url"].endswith(f"/documents/{document.pk}/")
        assert (attachment["size"], attachment["contentType"]) == (document.size, "application/pdf")
    consents = resources(bundle, "Consent")
    assert {c["scope"]["coding"][0]["code"] for c in consents} == {"patient-privacy", "treatment"}
    signature = ConsentSignature.objects.get(case=charged)
    assert f"online-consult-consent:{signature.form.version}" in json.dumps(consents)
    (invoice,) = resources(bundle, "Invoice")
    charge = charged.charge
    assert invoice["status"] == "balanced"
    assert invoice["totalGross"] == {"value": charge.amount, "currency": "JPY"}
    assert invoice["totalNet"]["value"] == charge.amount - charge.tax
    assert invoice["identifier"][0]["value"] == f"{charge.receipts.get().number:08d}"
    (practitioner,) = [p for p in resources(bundle, "Practitioner") if "IDE" in json.dumps(p)]
    assert practitioner["name"][0]["text"] == f"{dr_tanaka.last_name} {dr_tanaka.first_name}"


def test_it_names_the_same_resources_alike_in_every_export(charged):
    first, second = case_bundle(charged), case_bundle(charged)
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]


def test_it_carries_nothing_of_another_case(charged, billing_ito):
    other = charged_case(
        billing_ito,
        patient_family_name="高橋",
        patient_given_name="次郎",
        patient_phone="06-5555-0000",
        patient_address="大阪府架空市別町9-9",
    )
    exported = json.dumps(case_bundle(charged), ensure_ascii=False)
    for value in ("高橋", "次郎", "06-5555-0000", "大阪府架空市別町9-9", other.reference):
        assert value not in exported
    # (The builders' PDFs may be byte-identical across cases, so their hashes may match.)
    for document in Document.objects.filter(case=other):
        assert f"/documents/{document.pk}/" not in exported
    ids = {e["resource"]["id"] for e in case_bundle(other)["entry"]}
    assert not ids & {e["resource"]["id"] for e in case_bundle(charged)["entry"]}


def test_the_signed_opinion_and_its_correction_are_compositions(charged, dr_tanaka):
    from opiniondesk.opinions import services as opinions

    def sign(version):
        return opinions.sign(
            version_id=version.pk, actor=dr_tanaka, previewed_hash=version.computed_hash(charged.pk)
        )

    count = len(opinions.questions_of(charged))
    first = sign(
        opinions.draft_save(
            case_id=charged.pk,
            actor=dr_tanaka,
            on_current="現在の治療は妥当です。",
            on_future="今後も薬物治療を続けてください。",
            answers=["はい。"] * count,
            remarks="",
        )
    )
    correction = opinions.correction_start(version_id=first.pk, actor=dr_tanaka, reason="誤記")
    second = sign(
        opinions.draft_save(
            case_id=charged.pk,
            actor=dr_tanaka,
            on_current="現在の治療は妥当です（訂正）。",
            on_future="今後も薬物治療を続けてください。",
            answers=["はい。"] * count,
            remarks="",
        )
    )
    assert correction.pk == second.pk

    bundle = case_bundle(charged)
    Bundle.parse_obj(bundle)  # the R4 models accept it
    compositions = resources(bundle, "Composition")
    assert [c["identifier"]["value"] for c in compositions] == [
        f"{charged.reference}-1",
        f"{charged.reference}-2",
    ]
    old, new = compositions
    assert new["relatesTo"][0]["code"] == "replaces"
    assert new["relatesTo"][0]["targetReference"]["reference"] == f"urn:uuid:{old['id']}"
    assert new["extension"][0]["valueString"] == second.content_hash
    assert new["attester"][0]["mode"] == "legal"
    assert "（訂正）" in new["section"][0]["text"]["div"]
    assert new["type"]["coding"][0]["code"] == "11488-4"
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    for composition in compositions:
        for reference in references(composition):
            assert reference in full_urls, reference
