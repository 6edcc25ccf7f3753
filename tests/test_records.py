"""Typed run records: round trips, old run folders, one-line errors for hand-edited files, layering, enums."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, ROOT, run_advisor

from advisor.deciding.engine import recommend
from advisor.deciding.recommendation import Approach, Recommendation
from advisor.records import (CompareResult, Explanation, MeasuredFamily, RecordError, RunInfo, RunMetrics,
                             RunRecords, SkippedFamily, Unparsable, dump_record, parse_record)
from advisor.running.measure import prepare
from advisor.showing.report import ReportError, build_context, load_run, render_report

MED = str(EXAMPLES / "medical_diagnosis_clinical.yaml")

# what zoo.metrics.evaluate and train_run put in metrics.json for a binary classifier
METRICS = {
    "model": "tabular_linear", "family": "classical", "task": "classification", "modality": "tabular",
    "train_seconds": 0.25, "n_train": 455, "n_test": 4, "device": "cpu", "seed": 0,
    "estimated_train_minutes": 0.0017, "history": None, "skipped_inputs": 0, "resumed_after_epoch": None,
    "processes": 1, "model_size_bytes": 2345, "inference_ms_per_item": 0.01,
    "accuracy": 0.75, "macro_f1": 0.733,
    "per_class": {"benign": {"precision": 1.0, "recall": 0.5, "f1-score": 0.667, "support": 2},
                  "malignant": {"precision": 0.667, "recall": 1.0, "f1-score": 0.8, "support": 2},
                  "accuracy": 0.75,
                  "macro avg": {"precision": 0.833, "recall": 0.75, "f1-score": 0.733, "support": 4},
                  "weighted avg": {"precision": 0.833, "recall": 0.75, "f1-score": 0.733, "support": 4}},
    "confusion_matrix": [[1, 1], [0, 2]], "labels": ["benign", "malignant"], "unseen_test_labels": [],
    "roc_auc": 0.9, "roc_curve": {"fpr": [0.0, 0.5, 1.0], "tpr": [0.0, 1.0, 1.0], "positive": "malignant"},
}
HISTORY = {"train_loss": [0.7, 0.5], "val_loss": [0.6, None], "val_metric": [0.8, 0.9], "epoch_seconds": [0.1, 0.1],
           "lr": [0.001, 0.001], "best_epoch": 2, "best_score": 0.9, "monitor": "val_metric",
           "stop_reason": "completed", "device": "cpu", "device_reason": "no GPU", "items_per_second": 900.0,
           "total_seconds": 0.2, "checkpoint": None, "resumed_epoch": 0}
EXPLAIN = {
    "model": "tabular_linear", "family": "classical", "modality": "tabular", "task": "classification",
    "importance": {"method": "permutation", "metric": "accuracy", "n_items": 4, "repeats": 5, "note": "Drop in...",
                   "features": [{"name": "mean radius", "value": 0.1, "std": 0.01}]},
    "coefficients": {"method": "coefficients", "signed": True, "note": "Weights...",
                     "features": [{"name": "mean radius", "value": -1.5}]},
    "saliency": {"error": "RuntimeError: no probabilities"},
    "misclassified": {"total": 1, "n_items": 4, "kind": "tabular", "items": [
        {"true": "benign", "pred": "malignant", "confidence": 0.9, "values": {"mean radius": 14.2}}],
        "order": "most confident first", "columns": ["mean radius"]},
    "seconds": 0.5,
}
RUN = {"seed": 0, "versions": {"python": "3.11.7", "scikit-learn": "1.9"}, "classes": ["benign", "malignant"],
       "finished": "2026-12-01T23:00:00"}


@pytest.fixture(scope="module")
def desc_rec():
    desc, measured = prepare(MED)
    return desc, recommend(desc, measured=measured)


def _write_folder(folder: Path, desc, rec, metrics=METRICS, explain=EXPLAIN, run=RUN) -> Path:
    """A run folder as `advisor train` writes it (without the model files, which the report never reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "descriptor.yaml").write_text(yaml.safe_dump(desc.model_dump(mode="json", exclude_none=True)))
    (folder / "recommendation.json").write_text(rec.model_dump_json(indent=2))
    for name, piece in (("metrics.json", metrics), ("explain.json", explain), ("run.json", run)):
        if piece is not None:
            (folder / name).write_text(json.dumps(piece, indent=2))
    return folder


def _compare_result(desc, rec) -> dict:
    """compare.json's content from compare's own assembly, over made-up runs (no training)."""
    from advisor.running.compare import _assemble

    runs = [{"family": fam, "model": model, "size": size, "seed": seed, "n_train": int(400 * size),
             "metric": score + size * slope + seed / 100, "macro_f1": score + size * slope + seed / 100,
             "accuracy": 0.9,
             "roc_auc": None, "train_seconds": 0.1 * size, "wall_seconds": 0.2 * size, "inference_ms_per_item": 0.01,
             "model_size_bytes": 1000, "device": "cpu", "interpretability": "signed coefficients", "pid": 1}
            for fam, model, score, slope in (("classical", "tabular_linear", 0.8, 0.1), ("deep", "tabular_mlp", 0.6, 0.2))
            for size in (0.5, 1.0) for seed in (0, 1)]
    skipped = [{"family": "hybrid", "model": None, "reason": "the advisor names no hybrid model for tabular"}]
    return _assemble(desc, rec, runs, skipped, {"classical": "tabular_linear", "deep": "tabular_mlp"},
                     ["classical", "hybrid", "deep"], [0.5, 1.0], 2, ("macro_f1", "accuracy", "roc_auc"), True,
                     {"items": 569, "train": 400, "test": 114, "source": "x.csv"},
                     {"minutes": None, "used_seconds": 3.0, "workers": 1, "backend": "sequential"})


# ----------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("kind, model, content", [
    ("metrics", RunMetrics, METRICS),
    ("metrics", RunMetrics, {**METRICS, "history": HISTORY, "family": "deep", "model": "tabular_mlp"}),
    ("metrics", RunMetrics, {"model": "ts_lag_gradient_boosting", "family": "classical", "task": "forecasting",
                             "modality": "time_series", "train_seconds": 1.0, "n_train": 90, "n_test": 10,
                             "mae": 1.5, "rmse": 2.0, "r2": None, "horizon": 10}),
    ("explain", Explanation, EXPLAIN),
    ("explain", Explanation, {"error": "ImportError: no sklearn"}),
    ("run", RunInfo, RUN),
])
def test_records_round_trip_exactly(kind, model, content):
    record = parse_record(kind, json.dumps(content))
    assert isinstance(record, model)
    assert json.loads(dump_record(record)) == content           # same keys, same values, nothing added
    assert parse_record(kind, dump_record(record)) == record


def test_records_are_typed(desc_rec):
    m = parse_record("metrics", json.dumps({**METRICS, "history": HISTORY}))
    assert m.family == Approach.classical == "classical" and m.task == "classification"
    assert isinstance(m.train_seconds, float) and m.per_class["benign"].f1_score == 0.667
    assert m.per_class["accuracy"] == 0.75 and m.roc_curve.positive == "malignant"
    assert m.history.val_loss == [0.6, None] and m.history.best_epoch == 2
    e = parse_record("explain", json.dumps(EXPLAIN))
    assert e.usable("importance").features[0].name == "mean radius" and e.usable("saliency") is None
    assert e.saliency.error.startswith("RuntimeError") and e.misclassified.items[0].values == {"mean radius": 14.2}
    assert set(e.pieces()) == {"importance", "coefficients", "saliency", "misclassified"}


def test_compare_result_round_trips_and_is_typed(desc_rec, tmp_path):
    from advisor.running.compare import _write

    desc, rec = desc_rec
    result = _compare_result(desc, rec)
    _write(tmp_path, desc, rec, {**result, "versions": {"python": "3.11"}})
    text = (tmp_path / "compare.json").read_text()
    assert json.loads(text) == json.loads(json.dumps({**result, "versions": {"python": "3.11"}}))
    cmp = parse_record("compare", text)
    assert isinstance(cmp, CompareResult) and isinstance(cmp.classical, MeasuredFamily)
    assert isinstance(cmp.hybrid, SkippedFamily) and "names no hybrid" in cmp.hybrid.reason
    assert cmp.row("deep").model == "tabular_mlp" and cmp.row("nonsense") is None
    assert cmp.learning_curves.families["classical"][-1].n_train == 400
    assert cmp.agreement.verdict == "agrees" and cmp.agreement.best == "classical"
    assert cmp.crossover.by_family["deep"].status in ("none", "extrapolated")
    records = load_run(tmp_path)
    assert records.compare == cmp and records.metrics is None and records.recommendation == rec
    html = render_report(tmp_path)
    assert 'id="comparison"' in html and "tabular_mlp" in html and "names no hybrid" in html


def test_recommendation_enums_compare_as_strings_and_dump_the_same_json(desc_rec):
    _, rec = desc_rec
    assert isinstance(rec.approach, Approach) and rec.approach == "classical" and "classical" == rec.approach
    assert f"{rec.approach}/{rec.task}/{rec.modality}" == "classical/classification/tabular"
    assert str(rec.approach) == "classical" and {"classical": 1}[rec.approach] == 1
    assert all(isinstance(a.approach, Approach) for a in [*rec.alternatives, *rec.estimates])
    plain = json.loads(rec.model_dump_json())
    assert plain["approach"] == "classical" and plain["task"] == "classification" and plain["modality"] == "tabular"
    assert json.dumps({"a": rec.approach}) == '{"a": "classical"}'
    assert Recommendation.model_validate_json(rec.model_dump_json()) == rec
    with pytest.raises(ValueError):
        Recommendation.model_validate({**plain, "approach": "magic"})


# ----------------------------------------------------------------------------- what the report gets

def test_load_run_returns_typed_records_and_renders(desc_rec, tmp_path):
    desc, rec = desc_rec
    records = load_run(_write_folder(tmp_path / "run", desc, rec))
    assert isinstance(records, RunRecords) and records.source == str(tmp_path / "run") and records.problems == []
    assert records.metrics.accuracy == 0.75 and records.run.versions["scikit-learn"] == "1.9"
    assert records.descriptor == desc and records.recommendation == rec and records.compare is None
    assert records.explain.coefficients.signed
    html = render_report(records)                        # RunRecords, a folder, or a mapping all render
    same = [{k: v for k, v in build_context(x).items() if k != "generated"} for x in (records, tmp_path / "run")]
    assert same[0] == same[1]
    assert "Confusion matrix" in html and "mean radius" in html and "no probabilities" in html
    mapping = build_context({"descriptor": desc.model_dump(mode="json"), "recommendation": rec,
                             "metrics": METRICS, "explain": Explanation.model_validate(EXPLAIN)})
    assert mapping["kind"] == "run" and ("accuracy", "0.750") in mapping["headline"]


def test_an_old_run_folder_renders_with_defaults_and_extra_keys(desc_rec, tmp_path):
    """A folder from an earlier release: later fields absent, and keys this release does not know."""
    desc, rec = desc_rec
    old = {k: v for k, v in METRICS.items() if k not in ("processes", "resumed_after_epoch", "model_size_bytes",
                                                         "skipped_inputs", "roc_curve", "unseen_test_labels")}
    old["legacy_note"] = {"kept": True}
    rec_old = {**json.loads(rec.model_dump_json()), "retired_field": 1}
    rec_old.pop("measured")
    rec_old.pop("excluded")
    folder = _write_folder(tmp_path / "old", desc, rec, metrics=old, run={"seed": 3, "versions": {}})
    (folder / "recommendation.json").write_text(json.dumps(rec_old))
    raw = yaml.safe_load((folder / "descriptor.yaml").read_text())
    raw["data"]["retired_option"] = True
    (folder / "descriptor.yaml").write_text(yaml.safe_dump(raw))
    records = load_run(folder)
    m = records.metrics
    assert m.processes == 1 and m.resumed_after_epoch is None and m.model_size_bytes is None and m.skipped_inputs == 0
    assert m.model_extra == {"legacy_note": {"kept": True}}
    assert json.loads(dump_record(m)) == old                      # unknown keys survive a rewrite
    assert records.recommendation.measured == [] and records.run.seed == 3 and records.run.finished is None
    html = render_report(folder)
    assert "Confusion matrix" in html and "tabular_linear" in html


# ----------------------------------------------------------------------------- one-line failures

def _one_line_exit_2(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("advisor: error:"), result.stderr
    return lines[0]


def test_hand_edited_metrics_is_one_line_exit_2(desc_rec, tmp_path):
    desc, rec = desc_rec
    folder = _write_folder(tmp_path / "run", desc, rec, metrics={**METRICS, "train_seconds": "abc"})
    line = _one_line_exit_2(run_advisor("report", str(folder)))
    assert line.endswith("metrics.json: train_seconds: expected a number, got 'abc'"), line
    assert not (folder / "report.html").exists()


def test_nested_garbage_is_one_line_exit_2(desc_rec, tmp_path):
    desc, rec = desc_rec
    folder = _write_folder(tmp_path / "run", desc, rec)
    (folder / "metrics.json").write_text("[" * 100000)
    assert "metrics.json: not a run record: nested too deeply" in _one_line_exit_2(run_advisor("report", str(folder)))
    (folder / "metrics.json").write_text(json.dumps(METRICS))
    (folder / "descriptor.yaml").write_text("[" * 100000)
    assert "descriptor.yaml: not a run record: nested too deeply" in _one_line_exit_2(
        run_advisor("report", str(folder)))


@pytest.mark.parametrize("name, edit, needle", [
    ("metrics.json", lambda d: d.update(n_test="many"), "metrics.json: n_test: expected a whole number, got 'many'"),
    ("metrics.json", lambda d: d.update(family="quantum"), "metrics.json: family: got quantum; allowed: classical"),
    ("metrics.json", lambda d: d.pop("model"), "metrics.json: model: missing (required)"),
    ("metrics.json", lambda d: d["confusion_matrix"][1].__setitem__(0, "z"),
     "metrics.json: confusion_matrix[1][0]: expected a whole number, got 'z'"),
    ("metrics.json", lambda d: d["per_class"]["macro avg"].update(recall=[1]),
     "metrics.json: per_class.macro avg.recall: expected a number, got a list"),
    ("metrics.json", lambda d: d.update({"history": {"train_loss": [1, "x\ny"]}}),
     r"metrics.json: history.train_loss[1]: expected a number, got 'x\ny'"),
    ("explain.json", lambda d: d["importance"]["features"][0].update(value="big"),
     "explain.json: importance.features[0].value: expected a number, got 'big'"),
    ("explain.json", lambda d: d.update(coefficients=5), "explain.json: coefficients: expected a mapping"),
    ("run.json", lambda d: d.update(versions=["1.0"]), "run.json: versions: expected a mapping (JSON object), got a list"),
    ("recommendation.json", lambda d: d.update(confidence="high"),
     "recommendation.json: confidence: expected a number, got 'high'"),
    ("recommendation.json", lambda d: d.update(approach="magic"), "recommendation.json: approach: got magic"),
])
def test_wrong_shapes_are_one_report_error_line_naming_file_and_field(desc_rec, tmp_path, name, edit, needle):
    desc, rec = desc_rec
    folder = _write_folder(tmp_path / "run", desc, rec)
    content = json.loads((folder / name).read_text())
    edit(content)
    (folder / name).write_text(json.dumps(content))
    with pytest.raises(ReportError) as info:
        load_run(folder)
    message = str(info.value)
    assert "\n" not in message and needle in message and message.startswith(str(folder)), message
    assert len(message) < 300 + len(str(folder))


def test_descriptor_and_compare_of_the_wrong_shape(desc_rec, tmp_path):
    desc, rec = desc_rec
    folder = _write_folder(tmp_path / "run", desc, rec)
    (folder / "descriptor.yaml").write_text("name: x\ntask: classification\ndata: {modality: tabular, n_samples: lots}\n")
    with pytest.raises(ReportError, match=r"descriptor.yaml: data.n_samples: expected a whole number, got 'lots'$"):
        load_run(folder)
    (folder / "descriptor.yaml").unlink()
    cmp = _compare_result(desc, rec)
    cmp["deep"]["status"] = "pending"
    (folder / "compare.json").write_text(json.dumps(cmp))
    with pytest.raises(ReportError, match=r"compare.json: deep: got pending; allowed: measured, skipped"):
        load_run(folder)
    cmp["deep"]["status"] = "measured"
    cmp["deep"]["n_train"] = "all"
    (folder / "compare.json").write_text(json.dumps(cmp))
    with pytest.raises(ReportError, match=r"compare.json: deep.n_train: expected a whole number, got 'all'$"):
        load_run(folder)


def test_unparsable_files_are_listed_not_fatal(desc_rec, tmp_path):
    desc, rec = desc_rec
    folder = _write_folder(tmp_path / "run", desc, rec)
    (folder / "run.json").write_bytes(b"\xff\xfe not text")
    (folder / "explain.json").write_text('{"model": "trunc')
    records = load_run(folder)
    assert records.run is None and records.explain is None and records.metrics is not None
    assert [p.split(":")[0] for p in records.problems] == ["explain.json", "run.json"]
    assert all("unreadable" in p and "\n" not in p for p in records.problems)
    with pytest.raises(Unparsable):
        parse_record("metrics", "{not json")
    with pytest.raises(RecordError):
        parse_record("metrics", "[1, 2]")


def test_python_callers_get_one_line_too(desc_rec):
    desc, rec = desc_rec
    with pytest.raises(ReportError, match=r"^metrics.json: train_seconds: expected a number, got 'slow'$"):
        render_report({"recommendation": rec, "metrics": {**METRICS, "train_seconds": "slow"}})


# ----------------------------------------------------------------------------- layering

def test_showing_layer_and_records_do_not_import_the_running_layer():
    code = ("import sys, advisor.records, advisor.showing.report, advisor.showing.tables, advisor.showing.charts\n"
            "print(sorted(m for m in sys.modules if m.startswith('advisor.running')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    for path in [ROOT / "advisor" / "records.py", *(ROOT / "advisor" / "showing").glob("*.py")]:
        assert "advisor.running" not in path.read_text(encoding="utf-8"), path
