"""The HTML report: recommend-only, from a real run, escaping, missing pieces, bad output paths, a real browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, run_advisor

SECTIONS = {"descriptor", "recommendation", "trace", "counterfactuals", "risks", "costs", "environment"}
RUN_SECTIONS = SECTIONS | {"curves", "metrics", "interpretability", "gallery"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                "--enable-logging=stderr", "--v=0"]


def _sections(html: str) -> set[str]:
    return set(re.findall(r'<section id="([\w-]+)"', html))


def _self_contained(html: str) -> None:
    """No scripts, no external fetches (the SVG namespace is an identifier, not a request)."""
    low = html.lower().replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in low and "@import" not in low and "url(" not in low
    assert not re.search(r'(src|href)="(https?:)?//', low)


def _one_line_exit_2(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("advisor: error:"), result.stderr
    return lines[0]


def _train(out: Path, *args: str):
    return run_advisor("train", *args, "--out", str(out), "--quiet", "--report")


# ----------------------------------------------------------------------------- recommend-only

def test_recommend_only_report_renders_every_section():
    from advisor import load_descriptor, recommend
    from advisor.showing.report import render_report

    desc = load_descriptor(EXAMPLES / "cats_dogs_2000.yaml")
    html = render_report({"descriptor": desc.model_dump(mode="json"), "recommendation": recommend(desc)})
    assert SECTIONS <= _sections(html) and "metrics" not in _sections(html)
    assert "recommend-only" in html and "image_handcrafted_forest" in html
    assert "interpretability.required" in html and "feature_ceiling" in html   # trace and risks
    assert html.count("<svg") >= 1                                             # the scores chart
    _self_contained(html)


def test_recommend_report_cli_writes_file_without_heavy_imports(tmp_path):
    out = tmp_path / "r.html"
    code = ("import sys; from advisor.cli import cli\n"
            "try:\n    cli(['recommend', sys.argv[1], '--report', sys.argv[2]], standalone_mode=False)\n"
            "except SystemExit: pass\n"
            "heavy = [m for m in ('torch', 'timm', 'transformers', 'sklearn', 'zoo.classical') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    result = subprocess.run([sys.executable, "-c", code, str(EXAMPLES / "credit_scoring.yaml"), str(out)],
                            capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    assert "credit-scoring" in out.read_text(encoding="utf-8")


def test_bad_output_paths_exit_2_and_write_nothing(tmp_path):
    before = sorted(tmp_path.iterdir())
    line = _one_line_exit_2(run_advisor("recommend", str(EXAMPLES / "credit_scoring.yaml"),
                                        "--report", str(tmp_path / "no" / "such" / "r.html")))
    assert "does not exist" in line
    _one_line_exit_2(run_advisor("recommend", str(EXAMPLES / "credit_scoring.yaml"), "--report", str(tmp_path)))
    assert sorted(tmp_path.iterdir()) == before
    _one_line_exit_2(run_advisor("report", str(tmp_path / "not_a_run")))
    assert "not a run folder" in _one_line_exit_2(run_advisor("report", str(tmp_path)))


# ----------------------------------------------------------------------------- a real run

@pytest.fixture(scope="module")
def med_run(tmp_path_factory) -> Path:
    """The shipped breast-cancer example trained through the CLI with --report (about 2 s)."""
    pytest.importorskip("sklearn")
    out = tmp_path_factory.mktemp("runs") / "med"
    result = _train(out, str(EXAMPLES / "medical_diagnosis_clinical.yaml"))
    assert result.returncode == 0, result.stderr
    assert f"report: {out / 'report.html'}" in result.stdout
    return out


def test_train_report_shows_metrics_importance_and_confusion(med_run):
    html = (med_run / "report.html").read_text(encoding="utf-8")
    assert RUN_SECTIONS <= _sections(html)
    for needle in ("Held-out metrics", "accuracy", "macro F1", "ROC curve", "Confusion matrix", "Per class",
                   "Permutation importance", "Linear coefficients", "malignant", "held-out items misclassified",
                   "scikit-learn", "estimate was"):
        assert needle in html, needle
    explain = json.loads((med_run / "explain.json").read_text())
    top = explain["importance"]["features"]
    assert 0 < len(top) <= 15 and {"name", "value", "std"} <= set(top[0]) and top[0]["name"] in html
    assert explain["coefficients"]["signed"] and "misclassified" in explain
    metrics = json.loads((med_run / "metrics.json").read_text())
    assert len(metrics["roc_curve"]["fpr"]) <= 50 and metrics["roc_curve"]["tpr"][-1] == 1.0
    _self_contained(html)


def test_report_command_rewrites_and_honours_output(med_run, tmp_path):
    out = tmp_path / "copy.html"
    result = run_advisor("report", str(med_run), "-o", str(out))
    assert result.returncode == 0 and result.stdout.strip() == f"report: {out}"
    assert "Confusion matrix" in out.read_text(encoding="utf-8")
    _one_line_exit_2(run_advisor("report", str(med_run), "-o", str(tmp_path / "missing" / "r.html")))


def test_missing_pieces_render_what_is_there(med_run, tmp_path):
    from advisor.showing.report import ReportError, render_report

    partial = tmp_path / "partial"
    shutil.copytree(med_run, partial)
    (partial / "explain.json").unlink()
    (partial / "run.json").unlink()
    (partial / "metrics.json").write_text("{not json")
    html = render_report(partial)
    assert "missing explain.json" in html and "missing run.json" in html and "metrics.json: unreadable" in html
    assert "Rule trace" in html and "tabular_linear" in html and "Not available" in html
    only = tmp_path / "only"
    only.mkdir()
    shutil.copy(med_run / "recommendation.json", only)
    assert "missing descriptor.yaml" in render_report(only)
    with pytest.raises(ReportError):
        render_report(tmp_path / "empty_nothing_here")


def test_labels_and_column_names_are_escaped(tmp_path):
    pytest.importorskip("sklearn")
    evil, col = "<script>alert(1)</script>", '<img src=x onerror="alert(2)">'
    rows = ["a,b,label"] + [f"{i},{(i * 7) % 5},{evil if i % 2 else 'benign'}" for i in range(40)]
    (tmp_path / "evil.csv").write_text("\n".join(rows).replace("a,b", f"a,\"{col.replace(chr(34), chr(34) * 2)}\"", 1))
    (tmp_path / "evil.yaml").write_text("name: evil\ntask: classification\ndata:\n  modality: tabular\n"
                                        "  path: evil.csv\n  target: label\n")
    result = _train(tmp_path / "run", str(tmp_path / "evil.yaml"), "--model", "tabular_linear")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html
    _self_contained(html)


def test_explain_failures_are_recorded_not_raised():
    np = pytest.importorskip("numpy")
    from zoo.data import Dataset
    from zoo.explain import explain

    class Broken:
        classes_ = np.array(["a", "b"])

        def predict(self, X):
            raise RuntimeError("no predictions today")

        def predict_proba(self, X):
            raise RuntimeError("no probabilities either")

    test = Dataset(modality="image", X=np.zeros((4, 8, 8), np.uint8), y=np.array(["a", "b", "a", "b"]), source="t")
    out = explain(Broken(), "broken", "deep", test, "classification")
    assert "no probabilities" in out["saliency"]["error"] and "error" in out["misclassified"]
    json.dumps(out)


# ----------------------------------------------------------------------------- a real browser

def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@pytest.mark.skipif(not CHROMIUM, reason="headless Chromium not on PATH (Debian: apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(med_run, tmp_path):
    import numpy as np
    from PIL import Image

    uri = (med_run / "report.html").resolve().as_uri()
    shot = tmp_path / "report.png"
    result = _chromium(f"--screenshot={shot}", "--window-size=1280,2400", uri, profile=tmp_path / "p1")
    assert shot.is_file(), result.stderr[-2000:]
    with Image.open(shot) as img:
        assert img.size == (1280, 2400) and len(np.unique(np.asarray(img.convert("L")))) > 20
    assert not _console(result.stderr), _console(result.stderr)
    dom = _chromium("--dump-dom", uri, profile=tmp_path / "p2")
    assert RUN_SECTIONS <= _sections(dom.stdout) and "Confusion matrix" in dom.stdout
    assert not _console(dom.stderr), _console(dom.stderr)
    # the console check is real: a page that tries the network or runs a script is caught
    bad = tmp_path / "bad.html"
    bad.write_text((med_run / "report.html").read_text(encoding="utf-8").replace(
        "</main>", '<img src="http://example.invalid/x.png"></main>'))
    assert _console(_chromium("--dump-dom", bad.as_uri(), profile=tmp_path / "p3").stderr)


def test_planning_figures_are_written_without_exponents():
    from advisor.units import duration, times

    assert [times(r) for r in (0.123, 1.5, 12.4, 170.2, 1712.0)] == ["0.12×", "1.5×", "12×", "170×", "1,712×"]
    assert [duration(s) for s in (3, 40, 150, 1300 * 60, 5_000_000)] == ["3 s", "40 s", "2.5 min", "22 h", "1,389 h"]
