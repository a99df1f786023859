"""No private name crosses an app (docs/architecture.md): a module of another app is used through
its public names only. The layers themselves are checked by import-linter in `make lint`."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the opiniondesk package


def private_names_from_other_apps(source: str, app: str) -> list[str]:
    """`from opiniondesk.<other>... import _name` and `<alias of another app's module>._name`."""
    tree = ast.parse(source)
    found, modules = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("opiniondesk."):
            other = node.module.split(".")[1]
            for alias in node.names:
                modules[alias.asname or alias.name] = (other, f"{node.module}.{alias.name}")
                if alias.name.startswith("_") and other != app:
                    found.append(f"{node.module}.{alias.name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and node.attr != "_meta"  # Django's public model API
            and node.value.id in modules
            and modules[node.value.id][0] != app
        ):
            found.append(f"{modules[node.value.id][1]}.{node.attr}")
    return found


@pytest.mark.parametrize(
    ("source", "found"),
    [
        (
            "from opiniondesk.cases.services import _transition",
            ["opiniondesk.cases.services._transition"],
        ),
        (
            "from opiniondesk.cases import services\nservices._transition()",
            ["opiniondesk.cases.services._transition"],
        ),
        ("from opiniondesk.scheduling.services import _cancel", []),  # its own app
        ("from opiniondesk.cases.lifecycle import case_transition", []),
        ("from opiniondesk.documents.models import Document\nDocument._meta", []),
    ],
)
def test_it_finds_a_private_name_of_another_app(source, found):
    assert private_names_from_other_apps(source, app="scheduling") == found


def test_no_private_name_crosses_an_app():
    crossing = {
        str(path.relative_to(ROOT)): names
        for path in sorted(ROOT.rglob("*.py"))
        if "migrations" not in path.parts
        and (
            names := private_names_from_other_apps(
                path.read_text(), app=path.relative_to(ROOT).parts[0]
            )
        )
    }
    assert crossing == {}
