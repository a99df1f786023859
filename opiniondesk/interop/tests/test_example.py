"""docs/fhir/case-bundle.json: an exported Bundle of a demo-like case (invented people), its fee
paid and its opinion signed by the specialist (so the example shows the opinion's Composition).

It round-trips through the R4 models, and its shape (resource types in order, the keys of each
resource) is what the export writes today, so a changed export fails here until the example is
written again: FHIR_EXAMPLE_WRITE=1 pytest opiniondesk/interop/tests/test_example.py
"""

import json
import os
from pathlib import Path

from django.conf import settings
from fhir.resources import get_fhir_model_class
from fhir.resources.bundle import Bundle

from opiniondesk.interop.fhir_export import case_bundle
from opiniondesk.testing.builders import opinion_signed

EXAMPLE = Path(settings.BASE_DIR) / "docs" / "fhir" / "case-bundle.json"


def shape(bundle: dict) -> list[tuple[str, list[str]]]:
    return [(e["resource"]["resourceType"], sorted(e["resource"])) for e in bundle["entry"]]


def test_the_example_round_trips_through_the_r4_models():
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    parsed = Bundle.parse_obj(example)
    assert json.loads(parsed.json()) == example  # equal JSON, whatever the order of keys
    for entry in example["entry"]:
        resource = entry["resource"]
        model = get_fhir_model_class(resource["resourceType"])
        assert json.loads(model.parse_obj(resource).json()) == resource


def test_the_example_has_the_signed_opinion():
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    (opinion,) = [
        e["resource"] for e in example["entry"] if e["resource"]["resourceType"] == "Composition"
    ]
    assert opinion["status"] == "final"
    assert opinion["type"]["coding"][0]["code"] == "11488-4"
    assert opinion["attester"][0]["mode"] == "legal"
    assert "心不全" in opinion["section"][0]["text"]["div"]


def test_the_example_is_what_the_export_writes(charged, dr_tanaka):
    opinion_signed(
        charged,
        specialist=dr_tanaka,
        on_current="慢性心不全の診断と、現在の薬物治療は妥当と考えます。",
        on_future="内服治療を続け、3か月後に心エコー検査で再評価されることをお勧めします。",
        remarks="ご不明な点はセカンドオピニオン外来までお問い合わせください。",
        answers=["現時点で手術の必要はないと考えます。"],
    )
    bundle = case_bundle(charged)
    if os.environ.get("FHIR_EXAMPLE_WRITE") == "1":
        text = json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"
        EXAMPLE.write_text(text, encoding="utf-8")
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert shape(example) == shape(bundle)
