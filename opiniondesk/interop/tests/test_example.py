"""docs/fhir/case-bundle.json: an exported Bundle of a demo-like case (invented people).

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


def test_the_example_is_what_the_export_writes(charged):
    bundle = case_bundle(charged)
    if os.environ.get("FHIR_EXAMPLE_WRITE") == "1":
        text = json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"
        EXAMPLE.write_text(text, encoding="utf-8")
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert shape(example) == shape(bundle)
