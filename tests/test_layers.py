"""The advisor's three layers stay visible: deciding imports neither running nor showing; showing never runs."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from conftest import ROOT

FORBIDDEN = {
    "deciding": ("advisor.running", "advisor.showing", "advisor.cli"),
    "showing": ("advisor.running", "advisor.cli"),
    "running": ("advisor.cli",),
}


def _imports(path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer):
    files = sorted((ROOT / "advisor" / layer).glob("*.py"))
    assert files
    bad = [(f.name, name) for f in files for name in _imports(f)
           if any(name == b or name.startswith(b + ".") for b in FORBIDDEN[layer])]
    assert bad == []


def test_deciding_layer_never_imports_a_heavy_library():
    heavy = ("torch", "sklearn", "timm", "transformers", "numpy", "pandas")
    bad = [(f.name, name) for f in sorted((ROOT / "advisor" / "deciding").glob("*.py"))
           for name in _imports(f) if name.split(".")[0] in heavy]
    assert bad == []
    code = ("import sys, advisor; from advisor.deciding import questionnaire, estimates; "
            "advisor.recommend({'name': 'x', 'task': 'regression', 'data': {'modality': 'text', 'n_samples': 9}}); "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_names_survive_the_split():
    import advisor

    for name in ("ProjectDescriptor", "Recommendation", "DescriptorError", "load_descriptor", "recommend",
                 "render_report"):
        assert getattr(advisor, name) is not None
