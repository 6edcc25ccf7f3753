"""A non-editable install works: the wheel carries the rulebook, the evidence and the report templates, and the
advisor, the zoo and the report run from it in a folder outside the source tree (the source tree not importable)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".venv", ".git", "runs", "__pycache__", ".cache", "*.egg-info", "build", "tests",
                              "examples", "benchmarks", "*.db", ".hypothesis", ".pytest_cache")

FROM_THE_WHEEL = r"""
import sys
from pathlib import Path
site = Path(sys.argv[1])
import advisor, zoo, templates
for module in (advisor, zoo, templates):
    assert Path(module.__file__).resolve().is_relative_to(site.resolve()), module.__file__
import pandas as pd
frame = pd.read_csv(sys.argv[2])
run = advisor.fit(frame, target="target", model="tabular_linear")
html = run.report()
assert "<svg" in html and "tabular_linear" in html
print(f"accuracy {run.metrics.accuracy:.3f}")
"""


@pytest.mark.slow
def test_a_wheel_install_runs_outside_the_source_tree(tmp_path):
    source = tmp_path / "source"                       # a copy: building writes build/ and *.egg-info
    shutil.copytree(ROOT, source, ignore=SKIP)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("ml_advisor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"advisor/deciding/rulebook.yaml", "advisor/deciding/evidence.json", "templates/report.html.j2",
            "zoo/catalogue.py"} <= names
    site = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
                                str(wheel)], capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr

    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(ROOT / "examples" / "customer_churn.yaml", work / "project.yaml")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(site)                      # ahead of the editable install's finder
    advice = subprocess.run([sys.executable, "-m", "advisor.cli", "recommend", "project.yaml"], cwd=work, env=env,
                            capture_output=True, text=True, timeout=120)
    assert advice.returncode == 0, advice.stderr
    assert "approach" in advice.stdout.lower()
    fitted = subprocess.run([sys.executable, "-c", FROM_THE_WHEEL, str(site),
                             str(ROOT / "examples" / "data" / "breast_cancer.csv")], cwd=work, env=env,
                            capture_output=True, text=True, timeout=600)
    assert fitted.returncode == 0, fitted.stderr
    assert fitted.stdout.startswith("accuracy 0.9")
