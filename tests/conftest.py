"""Shared test helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# CI: no example database in the clone (a failure found once must not replay forever in a fresh working tree).
settings.register_profile("ci", database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SEED = ROOT.parent / "shared" / "seed" / "000_897bbbef1157af71.txt"


def run_advisor(*args: str, input: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real `advisor` console entry point in a fresh process."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "advisor.cli", *args], input=input, capture_output=True,
                          text=True, cwd=cwd or ROOT, env=env, timeout=120)


@pytest.fixture
def write_yaml(tmp_path):
    def _write(text: str, name: str = "d.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return _write


@pytest.fixture(autouse=True, scope="session")
def _session_signing_key(tmp_path_factory):
    """Model signatures (zoo.trust) use a key made for this test session, never the user's own key."""
    old = os.environ.get("ML_ADVISOR_HOME")
    home = tmp_path_factory.mktemp("advisor-home")
    os.environ["ML_ADVISOR_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("ML_ADVISOR_HOME", None)
    else:
        os.environ["ML_ADVISOR_HOME"] = old
