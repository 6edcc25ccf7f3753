"""`advisor compare`: the bake-off on the breast-cancer table, the time budget, crossover maths, bad input."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import EXAMPLES, ROOT, run_advisor

from advisor.running.compare import (CompareError, agreement, cost_estimate, crossover, parse_families, parse_sizes,
                             subsample)

MED = str(EXAMPLES / "medical_diagnosis_clinical.yaml")
CATS_DOGS = ROOT.parent / "shared" / "data" / "cats-dogs" / "train"


def _one_line_exit_2(result, needle: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("advisor: error:") and needle in last, result.stderr
    return last


# ----------------------------------------------------------------------------- a real comparison (~15 s)

@pytest.fixture(scope="module")
def med_compare(tmp_path_factory) -> tuple[Path, str]:
    pytest.importorskip("torch")
    out = tmp_path_factory.mktemp("cmp") / "med"
    result = run_advisor("compare", MED, "--families", "classical,deep", "--sizes", "0.5,1.0", "--seeds", "2",
                         "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    (out.parent / "stderr.txt").write_text(result.stderr, encoding="utf-8")
    return out, result.stdout


def test_compare_prints_the_data_checks_table(med_compare):
    err = (med_compare[0].parent / "stderr.txt").read_text(encoding="utf-8")
    assert "data checks on the training split (455 rows, 30 columns):" in err
    assert "dropped column" not in err and "alone predicts the target" not in err    # an honest table


def test_compare_writes_both_families_curves_and_agreement(med_compare):
    out, stdout = med_compare
    cmp = json.loads((out / "compare.json").read_text())
    for fam in ("classical", "deep"):
        row = cmp[fam]
        assert row["status"] == "measured" and row["n_train"] == cmp["data"]["train"]
        assert 0.8 < row["macro_f1"] <= 1 and 0 < row["accuracy"] <= 1 and row["train_seconds"] > 0
        assert row["inference_ms_per_item"] > 0 and row["model_size_bytes"] > 0 and row["device"] == "cpu"
        assert row["interpretability"] and row["seeds"] == 2
        curve = cmp["learning_curves"]["families"][fam]
        assert len(curve) >= 2 and curve[0]["n_train"] < curve[-1]["n_train"]
        assert all(p["min"] <= p["mean"] <= p["max"] and p["seeds"] == 2 for p in curve)
    assert cmp["classical"]["model"] == "tabular_linear" and cmp["deep"]["model"] == "tabular_mlp"
    assert cmp["predicted"]["family"] == "classical" and cmp["classical"]["predicted"]
    assert cmp["agreement"]["verdict"] in ("agrees", "disagrees") and cmp["agreement"]["text"]
    assert "deep" in cmp["crossover"]["by_family"] and cmp["crossover"]["summary"]
    assert {"predicted", "agreement", "learning_curves", "crossover", "skipped", "budget"} <= set(cmp)
    assert len({r["n_train"] for r in cmp["runs"] if r["size"] == 0.5}) == 1      # same subsample per size
    assert "macro F1" in stdout and "classical *" in stdout and cmp["agreement"]["text"] in stdout
    assert f"report: {out / 'report.html'}" in stdout


def test_compare_report_has_table_and_learning_curves(med_compare):
    out, _ = med_compare
    html = (out / "report.html").read_text(encoding="utf-8")
    for needle in ('id="comparison"', 'id="learning-curves"', "Measured comparison", "tabular_mlp",
                   "advisor's pick", "comparison report", "training items (log scale)", "Crossover"):
        assert needle in html, needle
    table = html[html.index('<table class="data compare">'):]
    assert table.index("classical") < table.index("</table>") and "macro F1" in table[:table.index("</table>")]
    assert html.count("<svg") >= 2 and "<script" not in html.lower()
    result = run_advisor("report", str(out), "-o", str(out / "again.html"))             # re-render the folder
    assert result.returncode == 0 and 'id="comparison"' in (out / "again.html").read_text(encoding="utf-8")


def test_tiny_budget_skips_the_slowest_family(tmp_path):
    out, desc = tmp_path / "b", tmp_path / "med.yaml"      # 0.12 s: under --time-budget's 1 s minimum (a typo guard)
    desc.write_text(Path(MED).read_text().replace("path: data/", f"path: {EXAMPLES}/data/")
                    + "resources:\n  time_budget_minutes: 0.002\n")
    result = run_advisor("compare", str(desc), "--families", "classical,deep", "--sizes", "0.5,1.0", "--seeds", "1",
                         "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    cmp = json.loads((out / "compare.json").read_text())
    assert cmp["classical"]["status"] == "measured" and cmp["deep"]["status"] == "skipped"
    # the rules already rule the network out: its estimate does not fit the budget (rule budget.deep_cannot_finish)
    assert "longer than the time available" in cmp["deep"]["reason"] and cmp["budget"]["minutes"] == 0.002
    assert cmp["agreement"]["verdict"] == "unchallenged"


@pytest.mark.slow
def test_fan_out_over_two_workers_matches_the_sequential_runs(med_compare, tmp_path):
    seq = json.loads((med_compare[0] / "compare.json").read_text())
    out = tmp_path / "par"
    result = run_advisor("compare", MED, "--families", "classical,deep", "--sizes", "0.5,1.0", "--seeds", "2",
                         "--workers", "2", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    par = json.loads((out / "compare.json").read_text())
    assert par["budget"]["workers"] == 2 and par["budget"]["backend"] == "loky" and par["budget"]["runs"] == 8
    assert "fan-out: 8 run(s) over 2 loky worker(s)" in result.stderr and "on 2 loky workers" in result.stdout
    assert len({r.get("pid") for r in par["runs"]}) == 2                       # really two processes
    key = lambda r: (r["family"], r["size"], r["seed"])                       # noqa: E731
    seq_runs = {key(r): r for r in seq["runs"]}
    for run in par["runs"]:                                                    # same split, same seeds
        twin = seq_runs[key(run)]
        assert run["n_train"] == twin["n_train"]
        if run["family"] == "classical":
            assert run["macro_f1"] == pytest.approx(twin["macro_f1"], abs=1e-9)
        else:
            assert run["macro_f1"] == pytest.approx(twin["macro_f1"], abs=0.05)


# ----------------------------------------------------------------------------- the pieces

def test_crossover_inside_range_is_interpolated_on_log_size():
    c = crossover([100, 1000], [0.80, 0.85], [0.70, 0.95])
    assert c["status"] == "inside" and c["holds"]
    assert math.isclose(c["n_train"], 10 ** 2.5, rel_tol=1e-9)                         # midway on the log axis
    c = crossover([10, 100, 1000], [5.0, 4.0, 3.0], [6.0, 3.0, 2.0], higher_is_better=False)  # e.g. MAE
    assert c["status"] == "inside" and 10 < c["n_train"] < 100


def test_crossover_outside_range_is_extrapolated_or_none():
    c = crossover([100, 200, 400], [0.90, 0.91, 0.92], [0.70, 0.80, 0.90])
    assert c["status"] == "extrapolated" and c["n_train"] > 400 and "extrapolated" in c["text"]
    assert math.isclose(c["n_train"], 400 * 2 ** (0.02 / 0.09), rel_tol=1e-6)           # lines meet
    none = crossover([100, 200, 400], [0.90, 0.92, 0.94], [0.80, 0.81, 0.82])
    assert none["status"] == "none" and none["n_train"] is None and "no crossover in range" in none["text"]
    below = crossover([100, 400], [0.7, 0.8], [0.9, 0.95])
    assert below["status"] == "below_range" and below["n_train"] == 100
    back = crossover([100, 400], [0.7, 0.9], [0.8, 0.85])
    assert back["status"] == "below_range" and not back["holds"] and "behind again" in back["text"]
    assert crossover([100], [0.9], [0.8])["status"] == "none"


def test_crossover_within_the_seeds_spread_is_a_tie_not_a_lead():
    noisy = crossover([100, 400], [0.80, 0.85], [0.82, 0.86], noise=[0.05, 0.05])
    assert noisy["status"] == "tie" and not noisy["holds"] and "tie within noise" in noisy["text"]
    real = crossover([100, 400], [0.80, 0.85], [0.78, 0.95], noise=[0.01, 0.01])
    assert real["status"] == "inside" and real["holds"]
    level = crossover([100, 400], [0.70, 0.90], [0.80, 0.89], noise=[0.01, 0.02])
    assert level["status"] == "below_range" and not level["holds"] and "level within noise" in level["text"]


def test_a_model_answering_one_class_is_not_overtaken():
    from advisor.running.compare import _crossovers

    point = lambda n, mean, one=False: {"size": n / 100, "n_train": n, "mean": mean, "std": 0.0,  # noqa: E731
                                        "one_class": one}
    curves = {"classical": [point(12, 0.33, one=True), point(100, 0.90)],
              "deep": [point(12, 0.60), point(100, 0.85)]}
    out = _crossovers(curves, True)
    assert out["by_family"]["deep"]["status"] != "below_range" and "overtake" not in out["summary"]
    assert "n≈12" not in out["summary"]


def test_agreement_verdicts():
    def row(mean, n=100, std=0.0):
        return {"status": "measured", "metric": {"mean": mean, "std": std}, "n_train": n}

    res = {"metric": {"key": "macro_f1", "label": "macro F1"}, "seeds": 2,
           "classical": row(0.90, std=0.01), "hybrid": row(0.95, std=0.08), "deep": row(0.80, n=25)}
    a = agreement(res, "classical", True)
    assert a["verdict"] == "tie" and a["best"] == "hybrid" and a["delta"] == pytest.approx(0.05)
    a = agreement({**res, "hybrid": row(0.95, std=0.01)}, "classical", True)
    assert a["text"].startswith("disagrees: hybrid measured better by Δ 0.050") and "beyond the seeds' spread" in a["text"]
    a = agreement(res, "hybrid", True)
    assert a["verdict"] == "tie" and a["text"].startswith("tie within noise: hybrid and classical differ by Δ 0.050")
    calm = {**res, "hybrid": row(0.95, std=0.01)}
    a = agreement(calm, "hybrid", True)
    assert a["verdict"] == "agrees" and a["text"] == "agrees: hybrid measured best, by 0.050 macro F1 over classical"
    one = agreement({**calm, "seeds": 1}, "hybrid", True)
    assert one["verdict"] == "agrees" and "one seed: no spread measured" in one["text"]
    assert agreement({**res, "hybrid": {"status": "skipped", "reason": "time budget"}}, "hybrid",
                     True)["verdict"] == "not measured"
    assert agreement(res, "deep", False)["best"] == "deep"                              # lower is better (MAE)


def test_subsample_is_stratified_with_two_per_class():
    y = np.array(["a"] * 90 + ["b"] * 8 + ["c"] * 2)
    idx = subsample(y, len(y), 0.1, 0, "classification")
    labels, counts = np.unique(y[idx], return_counts=True)
    assert list(labels) == ["a", "b", "c"] and counts.min() >= 2 and counts[0] == 9
    assert np.array_equal(idx, subsample(y, len(y), 0.1, 0, "classification"))
    assert not np.array_equal(idx, subsample(y, len(y), 0.1, 1, "classification"))
    assert list(subsample(None, 50, 0.2, 0, "forecasting")) == list(range(40, 50))     # the latest points
    assert len(subsample(y, len(y), 1.0, 3, "classification")) == 100


def test_cost_estimate_scales_with_size():
    assert cost_estimate([], 100, 7.0) == 7.0
    assert cost_estimate([(100, 2.0)], 400, None) == pytest.approx(8.0)
    assert cost_estimate([(100, 3.0), (200, 5.0)], 400, None) == pytest.approx(9.0)   # fixed + per item


def test_parse_arguments():
    assert parse_families("deep, classical") == ["classical", "deep"]
    assert parse_sizes("0.5,0.1,0.5") == [0.1, 0.5]
    for bad in ("", "deep,quantum"):
        with pytest.raises(CompareError):
            parse_families(bad)
    for bad in ("", "0", "1.5", "a,b", "nan"):
        with pytest.raises(CompareError):
            parse_sizes(bad)


# ----------------------------------------------------------------------------- bad input: one line, exit 2

@pytest.mark.parametrize("args, needle", [
    (("--families", "classical,quantum"), "--families"),
    (("--sizes", "0.1,2"), "--sizes"),
    (("--seeds", "zero"), "--seeds"),
    (("--families", "hybrid"), "nothing to compare"),
])
def test_bad_arguments_exit_2_one_line(tmp_path, args, needle):
    result = run_advisor("compare", MED, *args, "--out", str(tmp_path / "x"))
    line = _one_line_exit_2(result, needle)
    if needle.startswith("--"):
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "x").exists() and line


def test_untrainable_modality_and_missing_data_exit_2(tmp_path, write_yaml):
    _one_line_exit_2(run_advisor("compare", str(EXAMPLES / "speech_recognition.yaml"), "--out", str(tmp_path / "x")),
                     "no zoo model trains generation on audio data")
    desc = write_yaml("name: t\ntask: classification\ndata:\n  modality: tabular\n  n_samples: 100\n"
                      "  path: nowhere.csv\n")
    _one_line_exit_2(run_advisor("compare", str(desc), "--families", "classical", "--out", str(tmp_path / "y")),
                     "does not exist")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


# ----------------------------------------------------------------------------- real images (opt-in)

@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("ML_ADVISOR_SLOW") != "1", reason="set ML_ADVISOR_SLOW=1 (minutes on CPU)")
@pytest.mark.skipif(not CATS_DOGS.is_dir(), reason=f"{CATS_DOGS} is absent")
def test_cats_dogs_classical_vs_hybrid(tmp_path, write_yaml):
    desc = write_yaml(f"name: cats-dogs\ntask: classification\ndata:\n  modality: image\n  path: {CATS_DOGS}\n"
                      "resources:\n  accelerator: none\nneeds:\n  interpretability: preferred\n")
    out = tmp_path / "cd"
    result = run_advisor("compare", str(desc), "--families", "classical,hybrid", "--sizes", "0.25,1.0",
                         "--seeds", "1", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    cmp = json.loads((out / "compare.json").read_text())
    assert cmp["classical"]["status"] == cmp["hybrid"]["status"] == "measured"
    assert cmp["hybrid"]["accuracy"] > 0.8 and cmp["agreement"]["text"]
    assert re.search(r"hybrid .*image_effnet_lite0_features_linear", result.stdout)


def test_each_seed_draws_its_own_split_and_the_report_leads_with_the_comparison(med_compare):
    out, _ = med_compare
    cmp = json.loads((out / "compare.json").read_text())
    assert cmp["data"]["split_seeds"] == list(range(cmp["seeds"])) and cmp["seeds"] >= 2
    classical = [r["macro_f1"] for r in cmp["runs"] if r["family"] == "classical" and r["size"] == 1.0]
    assert len(set(classical)) > 1, "full-size runs of a deterministic model differ only if the split differs"
    html = run_advisor("report", str(out), "-o", str(out / "r.html"))
    assert html.returncode == 0, html.stderr
    text = (out / "r.html").read_text()
    assert text.index('id="comparison"') < text.index('id="descriptor"') < text.index('id="trace"')
    assert "one per seed" in text
