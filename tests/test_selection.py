"""Measured choice: fold plans, the probe's noise rule, candidates and search inside a family, the feature memo."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sklearn")

import advisor  # noqa: E402
from advisor.running import selection  # noqa: E402
from zoo import catalogue  # noqa: E402
from zoo.data import Dataset  # noqa: E402
from zoo.validation import CvResult, paired_gap, plan_folds  # noqa: E402


def _table(n: int, seed: int = 0, kind: str = "linear") -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    if kind == "linear":                    # a linear boundary with noise: logistic regression's home ground
        y = (X @ np.array([1.5, -1.0, 0.8, 0.0, 0.0, 0.5]) + 0.6 * rng.normal(size=n) > 0).astype(int)
    else:                                   # an interaction no linear model can draw (XOR of two signs)
        y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    return Dataset("tabular", df, np.array(["no", "yes"])[y], "test", target="y")


def _descriptor(tmp_path, ds: Dataset, **needs):
    path = tmp_path / "t.csv"
    ds.X.assign(y=ds.y).to_csv(path, index=False)
    return advisor.load_descriptor({"name": "t", "task": "classification",
                                    "data": {"modality": "tabular", "path": str(path), "target": "y"},
                                    "needs": needs})


def test_fold_plans_stay_inside_the_training_rows_and_never_overlap():
    small = _table(300)
    plan = plan_folds(small, "classification", seed=1)
    assert len(plan.folds) == 10 and "x 2 repeats" in plan.text            # small data: repeated folds
    for tr, va in plan.folds:
        assert not set(tr) & set(va) and set(tr) | set(va) == set(range(300))
    big = _table(12_000)
    plan = plan_folds(big, "classification")
    assert plan.rows == 5_000 and len(plan.folds) == 5 and "subsample" in plan.text   # big data: a subsample
    assert max(max(tr.max(), va.max()) for tr, va in plan.folds) < 12_000
    shares = [np.mean(big.y[va] == "yes") for _, va in plan.folds]
    assert max(shares) - min(shares) < 0.02                                # stratified


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_fold_plans_keep_each_speaker_whole(task):
    """With groups (speakers), no group is on both sides of a validation fold, as in the held-out split."""
    ds = _table(240)
    ds.groups = np.repeat([f"voice{i}" for i in range(12)], 20)
    if task == "regression":
        ds.y = np.arange(240, dtype=float)
    plan = plan_folds(ds, task, seed=0)
    assert "by group (12 speakers/groups" in plan.text
    assert len(plan.folds) == (10 if task == "classification" else 5)
    for tr, va in plan.folds:
        assert not set(ds.groups[tr]) & set(ds.groups[va])
        assert set(tr) | set(va) == set(range(240))


def test_paired_gap_is_the_mean_difference_and_its_standard_error():
    gap, se = paired_gap([0.9, 0.8, 0.85], [0.8, 0.8, 0.8])
    assert gap == pytest.approx(0.05)
    assert se == pytest.approx(np.std([0.1, 0.0, 0.05], ddof=1) / np.sqrt(3))
    assert paired_gap([0.5], [0.4])[1] == float("inf")                     # one fold: no noise estimate


def test_interpretability_required_chooses_the_best_readable_model_and_states_the_price(tmp_path):
    ds = _table(200, kind="xor")
    desc = _descriptor(tmp_path, ds, interpretability="required")
    rec = advisor.recommend(desc)
    choice = selection.choose_model(desc, rec, ds, seed=0, echo=lambda s: None)
    readable = {e.name for e in catalogue.CATALOGUE if e.readable}
    assert choice.model in readable
    scored = [r for r in choice.leaderboard if r["stage"] == "candidate" and r["mean"] is not None]
    assert choice.model == max((r for r in scored if r["readable"]), key=lambda r: r["mean"])["model"]
    top = max(r["mean"] for r in scored)
    assert choice.readability_price == pytest.approx(top - max(r["mean"] for r in scored if r["readable"]), abs=1e-5)
    assert choice.readability_price > 0                                   # trees beat readable models on XOR
    assert "price of readability" in choice.trace[-1].reason or any(
        "price of readability" in t.reason for t in choice.trace)


def test_the_probe_switches_family_only_beyond_the_noise(monkeypatch, tmp_path):
    ds = _table(200)
    desc = _descriptor(tmp_path, ds)
    rec = advisor.recommend(desc)
    fake = {"tabular_gradient_boosting": [0.80, 0.82, 0.78], "tabular_mlp": [0.804, 0.824, 0.784]}

    def cv(make, data, plan, task, **kw):
        est = make()
        return CvResult(scores=list(fake[type(est).__name__ == "TabularMLP" and "tabular_mlp"
                                         or "tabular_gradient_boosting"]), seconds=0.1)

    monkeypatch.setattr("zoo.validation.cross_validate", cv)
    choice = selection.Choice(model=rec.model, family="classical", metric="macro_f1")
    assert selection._probe(selection._Context(desc, "classification", "tabular", 0, None, print), rec, ds, choice,
                            float("inf"), None, False) == "classical"     # +0.004: below the 0.005 floor
    fake["tabular_mlp"] = [0.90, 0.93, 0.88]
    choice = selection.Choice(model=rec.model, family="classical", metric="macro_f1")
    fam = selection._probe(selection._Context(desc, "classification", "tabular", 0, None, print), rec, ds, choice,
                           float("inf"), None, False)
    assert fam == "deep" and choice.model == "tabular_mlp"
    assert "switched to deep" in choice.trace[0].reason
    fake["tabular_mlp"] = [0.95, 0.70, 0.86]                               # higher mean, but noisy
    choice = selection.Choice(model=rec.model, family="classical", metric="macro_f1")
    assert selection._probe(selection._Context(desc, "classification", "tabular", 0, None, print), rec, ds, choice,
                            float("inf"), None, False) == "classical"
    assert "kept the rules' pick" in choice.trace[0].reason


def test_train_chooses_by_cross_validation_on_the_training_split_and_records_it(tmp_path):
    ds = _table(150)
    desc = _descriptor(tmp_path, ds)
    rec = advisor.recommend(desc)
    assert rec.model == "tabular_gradient_boosting"                        # the rules' default for tables
    from advisor.running.train import train_run

    metrics = train_run(desc, rec, out=tmp_path / "run", quiet=True, echo=lambda s: None)
    sel = metrics["selection"]
    assert metrics["model"] == sel["model"] and metrics["n_train"] == 120 and metrics["n_test"] == 30
    board = sel["leaderboard"]
    assert {r["model"] for r in board if r["stage"] == "candidate"} == {
        e.name for e in catalogue.serving("tabular", "classification", "classical")}
    assert all(r["folds"] == 10 for r in board if r["stage"] == "candidate")     # 5-fold x 2 on 120 rows
    assert sel["model"] in ("tabular_linear", "tabular_svm")              # a linear boundary
    chosen = next(r for r in board if r["model"] == sel["model"] and r["params"] == sel["params"])
    assert chosen["mean"] == pytest.approx(max(r["mean"] for r in board if r["folds"] == 10))
    assert all(r["params"] for r in board if r["stage"] == "tuned")        # the defaults are not re-run
    assert sel["baseline"]["name"] == "majority class" and sel["baseline"]["mean"] < 0.5 < chosen["mean"]
    probed = [(r["family"], r["model"]) for r in sel["probe"]]
    assert probed[0] == ("classical", "tabular_gradient_boosting") and ("deep", "tabular_mlp") in probed
    assert len(probed) == len(catalogue.serving("tabular", "classification", "classical")) + 1
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["selection"]["leaderboard"] == json.loads(json.dumps(board))
    traced = json.loads((tmp_path / "run" / "recommendation.json").read_text())["trace"]
    assert [t["id"] for t in traced if t["id"].startswith("measured.")][-3:] == [
        "measured.probe", "measured.selection", "measured.search"]
    html = advisor.render_report(tmp_path / "run")
    assert "Measured choice" in html and f"on your data {sel['model']} scored" in html
    rules = train_run(desc, rec, out=tmp_path / "rules", quiet=True, echo=lambda s: None, select=False)
    assert rules["model"] == rec.model and rules["selection"] is None


def test_the_feature_memo_computes_each_item_once_and_changes_nothing():
    from zoo.features import HandcraftedImageFeatures
    from zoo.memo import feature_memo

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, size=(12, 32, 32, 3), dtype=np.uint8)
    ext = HandcraftedImageFeatures(image_size=32, n_jobs=1).fit()
    plain = ext.transform(images)
    calls = []
    original = ext._extract

    def counted(items):
        calls.append(len(items))
        return original(items)

    ext._extract = counted
    with feature_memo():
        a = ext.transform(images[:8])
        b = ext.transform(images[4:])                                      # 4 seen, 4 new
        c = ext.transform(images)
    assert calls == [8, 4]
    np.testing.assert_array_equal(np.vstack([a[:4], b]), plain)
    np.testing.assert_array_equal(c, plain)
    ext.transform(images)                                                   # outside the block: no memo
    assert calls == [8, 4, 12]


@pytest.mark.slow
def test_recommend_measure_prints_what_train_would_measure(tmp_path):
    from conftest import run_advisor

    ds = _table(90)
    path = tmp_path / "t.csv"
    ds.X.assign(y=ds.y).to_csv(path, index=False)
    yml = tmp_path / "t.yaml"
    yml.write_text(f"name: t\ntask: classification\ndata:\n  modality: tabular\n  path: {path}\n  target: y\n")
    result = run_advisor("recommend", str(yml), "--measure", "--time-budget", "2")
    assert result.returncode == 0, result.stderr
    assert "measured.probe:" in result.stderr and "measured.selection:" in result.stderr
    assert "measured pick: tabular_" in result.stderr and "CLASSICAL" in result.stdout
    bad = run_advisor("recommend", str(yml), "--measure", "--data", str(tmp_path / "nothing.csv"))
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
