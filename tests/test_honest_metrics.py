"""Honest metrics (#12): positive class, the deciding metric, class weights, a tuned threshold, baselines.

The fraud-like table: ~370 rows, ~3 % "fraud", a weak signal in three of six columns. Before #12 the run
headlined accuracy 0.973 with a fraud recall of 0, and its ROC curve's positive class was the majority "ok".
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import run_advisor

pytest.importorskip("sklearn")


def fraud_table(n: int = 369, n_pos: int = 12, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = np.array(["ok"] * (n - n_pos) + ["fraud"] * n_pos)
    rng.shuffle(y)
    pos = y == "fraud"
    return pd.DataFrame({
        "amount": (rng.lognormal(3.0, 1.0, n) * np.where(pos, 1.5, 1.0)).round(2),
        "hour": (np.where(pos, rng.normal(9, 4, n), rng.normal(14, 4, n)) % 24).round(1),
        "distance_km": (rng.exponential(5, n) + np.where(pos, 6, 0)).round(2),
        "n1": rng.normal(size=n), "n2": rng.normal(size=n), "n3": rng.normal(size=n), "label": y})


@pytest.fixture
def fraud(tmp_path):
    csv = tmp_path / "fraud.csv"
    fraud_table().to_csv(csv, index=False)
    desc = tmp_path / "fraud.yaml"
    desc.write_text(f"name: fraud\ntask: classification\ndata:\n  path: {csv}\n  modality: tabular\n"
                    "  target: label\n", encoding="utf-8")
    return desc


def test_fraud_like_table_end_to_end(fraud, tmp_path):
    out = tmp_path / "run"
    result = run_advisor("train", str(fraud), "--out", str(out), "--quiet", "--report")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: imbalanced data")]
    assert len(warnings) == 1 and "'fraud'" in warnings[0] and "%" in warnings[0], result.stderr
    m = json.loads((out / "metrics.json").read_text())
    assert m["positive_class"] == "fraud" and m["roc_curve"]["positive"] == "fraud"   # the minority, not labels[1]
    assert m["pr_curve"]["positive"] == "fraud" and m["pr_curve"]["recall"] and m["pr_auc"] is not None
    assert m["balance"]["class_weight"] == "balanced" and m["balance"]["minority"] == "fraud"
    assert m["balance"]["minority_share"] < 0.05 and m["balance"]["imbalanced"] is True
    assert m["threshold"]["tuned_on"] == "training folds" and 0 < m["threshold"]["value"] < 1
    assert m["threshold"]["metric"] == "balanced_accuracy"
    assert m["recall"] > 0 and m["per_class"]["fraud"]["recall"] == m["recall"]
    assert m["headline"]["metric"] == "balanced_accuracy" and m["selection"]["metric"] == "balanced_accuracy"
    assert set(m["baselines"]) == {"majority", "stratified"}
    assert m["baselines"]["majority"]["balanced_accuracy"] == 0.5 and m["baselines"]["majority"]["f1"] == 0
    assert m["headline"]["baseline"] in m["baselines"] and isinstance(m["headline"]["beats_baseline"], bool)
    assert "baselines on the same held-out items: majority balanced_accuracy 0.500" in result.stdout
    assert result.stdout.splitlines()[0].split(": ", 1)[1].startswith("balanced_accuracy ")     # headline first
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="pr-curve"' in html and "Precision-recall curve" in html and 'id="imbalance"' in html
    assert 'id="baselines"' in html and html.index('id="metrics"') < html.index('id="descriptor"')
    model_dir = out
    pred = run_advisor("predict", str(model_dir), str(fraud.parent / "fraud.csv"), "--json")
    assert pred.returncode == 0, pred.stderr
    rows = json.loads(pred.stdout)
    p_fraud = np.array([r["probabilities"]["fraud"] for r in rows])
    said = np.array([r["prediction"] == "fraud" for r in rows])
    assert (said == (p_fraud >= m["threshold"]["value"])).all()        # predict uses the stored threshold


def test_a_model_that_does_not_beat_its_baseline_is_flagged(tmp_path):
    rng = np.random.default_rng(1)
    pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200), "t": rng.normal(size=200)}).to_csv(
        tmp_path / "noise.csv", index=False)                         # the target is noise: a deep tree overfits
    desc = tmp_path / "noise.yaml"
    desc.write_text(f"name: noise\ntask: regression\ndata:\n  path: {tmp_path / 'noise.csv'}\n"
                    "  modality: tabular\n  target: t\n", encoding="utf-8")
    out = tmp_path / "run"
    result = run_advisor("train", str(desc), "--out", str(out), "--quiet", "--report",
                         "--model", "tabular_decision_tree")
    assert result.returncode == 0, result.stderr
    m = json.loads((out / "metrics.json").read_text())
    assert m["headline"]["metric"] == "r2" and m["metric_source"] == "default"
    assert m["headline"]["beats_baseline"] is False and m["headline"]["baseline"] in ("mean", "median")
    assert m["r2"] < max(b["r2"] for b in m["baselines"].values())
    assert "warning: tabular_decision_tree does not beat the" in result.stdout and "baseline on r2" in result.stdout
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="not-beaten"' in html and '<tr class="bad">' in html


def test_regression_baselines_mean_and_median(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 2))
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "t": 3 * x[:, 0] + rng.normal(0, 0.3, 150)}).to_csv(
        tmp_path / "r.csv", index=False)
    desc = tmp_path / "r.yaml"
    desc.write_text(f"name: r\ntask: regression\ndata:\n  path: {tmp_path / 'r.csv'}\n  modality: tabular\n"
                    "  target: t\nneeds:\n  metric: mae\n", encoding="utf-8")
    out = tmp_path / "run"
    result = run_advisor("train", str(desc), "--out", str(out), "--quiet", "--model", "tabular_linear")
    assert result.returncode == 0, result.stderr
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["baselines"]) == {"mean", "median"} and m["headline"]["metric"] == "mae"
    assert m["headline"]["higher_is_better"] is False and m["headline"]["beats_baseline"] is True
    assert m["mae"] < min(b["mae"] for b in m["baselines"].values())
    assert "baselines on the same held-out items: mean mae" in result.stdout


# ----------------------------------------------------------------------------- unit pieces

@pytest.mark.parametrize("task, metric", [("regression", "f1"), ("regression", "accuracy"),
                                          ("classification", "rmse"), ("forecasting", "roc_auc"),
                                          ("anomaly_detection", "f1")])
def test_a_metric_of_another_task_is_refused_naming_the_field(task, metric):
    from advisor.deciding.schema import DescriptorError, parse_descriptor

    with pytest.raises(DescriptorError, match=r"needs\.metric: got " + metric):
        parse_descriptor({"name": "x", "task": task, "data": {"modality": "tabular", "n_samples": 10},
                          "needs": {"metric": metric}})


def test_metric_enum_and_positive_class_accepted():
    from advisor.deciding.schema import DescriptorError, parse_descriptor

    d = parse_descriptor({"name": "x", "task": "classification", "needs": {"metric": "pr_auc"},
                          "data": {"modality": "tabular", "n_samples": 10, "positive_class": 1}})
    assert d.needs.metric == "pr_auc" and d.data.positive_class == "1"
    with pytest.raises(DescriptorError, match=r"needs\.metric: got 'f2'; allowed: accuracy, balanced_accuracy"):
        parse_descriptor({"name": "x", "task": "classification", "needs": {"metric": "f2"},
                          "data": {"modality": "tabular", "n_samples": 10}})
    with pytest.raises(DescriptorError, match=r"needs\.metric: pr_auc needs two classes"):
        parse_descriptor({"name": "x", "task": "classification", "needs": {"metric": "pr_auc"},
                          "data": {"modality": "tabular", "n_samples": 10, "n_classes": 3}})


def test_multiclass_one_vs_rest_auc_is_the_macro_mean():
    from sklearn.metrics import roc_auc_score

    import zoo
    from zoo.data import split_dataset, table_dataset

    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], size=240)
    X = rng.normal(size=(240, 3)) + (y[:, None] == np.array(["a", "b", "c"])) * 1.2
    data = table_dataset(pd.DataFrame(X, columns=["p", "q", "r"]).assign(t=y), "tabular", target="t")
    train, test = split_dataset(data, "classification", seed=0)
    model = zoo.create_model("tabular_linear").fit(train.X, train.y)
    m = zoo.evaluate(model, test, "classification", train=train)
    expected = roc_auc_score(test.y, model.predict_proba(test.X), multi_class="ovr", average="macro")
    assert m["roc_auc"] == pytest.approx(expected) and m["roc_auc_average"] == "macro one-vs-rest"
    assert set(m["roc_curves"]) == {"a", "b", "c"}
    assert np.mean([c["auc"] for c in m["roc_curves"].values()]) == pytest.approx(expected)
    assert "positive_class" not in m and m["headline"]["metric"] == "macro_f1"
    from advisor.showing.report import render_report

    m.update(model="tabular_linear", family="classical", task="classification", modality="tabular",
             train_seconds=0.1, n_train=len(train))
    html = render_report({"metrics": json.loads(json.dumps(m, default=str))})
    assert "One-vs-rest ROC curves" in html and "macro AUC" in html and 'id="pr-curve"' not in html


def test_default_metric_and_positive_class_follow_the_training_labels():
    from zoo.imbalance import resolve_positive
    from zoo.metrics import default_metric

    rare = np.array(["ok"] * 95 + ["fraud"] * 5)
    assert default_metric("classification", rare) == "balanced_accuracy"
    assert default_metric("classification", np.array(["a", "b"] * 50)) == "macro_f1"
    assert default_metric("classification", np.array(["a"] * 90 + ["b"] * 5 + ["c"] * 5)) == "macro_f1"
    assert default_metric("regression") == "r2" and default_metric("forecasting") == "mase"
    assert resolve_positive(rare) == "fraud" and resolve_positive(np.array([0, 0, 1, 1, 1])) == 0
    assert resolve_positive(np.array([0, 1, 1]), "1") == 1
    with pytest.raises(ValueError, match="data.positive_class: 'spam' is not a class"):
        resolve_positive(rare, "spam")


def test_threshold_is_tuned_on_training_folds_and_honoured_by_predict():
    import zoo
    from zoo.data import split_dataset, table_dataset
    from zoo.imbalance import set_threshold, tune_threshold

    data = table_dataset(fraud_table(), "tabular", target="label")
    train, test = split_dataset(data, "classification", seed=0)
    make = lambda: zoo.create_model("tabular_linear")  # noqa: E731
    tuned = tune_threshold(make, train, "fraud", "f1", seed=0)
    assert tuned["folds"] == 3 and tuned["score"] >= tuned["default_score"]
    model = make().fit(train.X, train.y)
    before = model.predict(test.X)
    set_threshold(model, tuned["value"], "fraud")
    p = model.predict_proba(test.X)[:, list(model.classes_).index("fraud")]
    assert (model.predict(test.X) == np.where(p >= tuned["value"], "fraud", "ok")).all()
    set_threshold(model, None, "fraud")
    assert (model.predict(test.X) == before).all()


def test_selection_scores_the_chosen_metric():
    from zoo.data import table_dataset
    from zoo.validation import baseline_cv, plan_folds, selection_metric

    assert selection_metric("regression", "mae") == "neg_mae" and selection_metric("classification") == "macro_f1"
    data = table_dataset(fraud_table(), "tabular", target="label")
    plan = plan_folds(data, "classification", seed=0)
    _, cv = baseline_cv(data, plan, "classification", "balanced_accuracy", "fraud")
    assert cv.scores and all(s == pytest.approx(0.5) for s in cv.scores)     # majority: half the mean recall
    _, cv = baseline_cv(data, plan, "classification", "f1", "fraud")
    assert all(s == 0 for s in cv.scores)


def test_balanced_many_classes_are_not_called_imbalanced():
    from zoo.imbalance import wants_class_weights

    ten = np.repeat(np.arange(10), 30)                      # 10 % each: balanced, no warning, no weights
    assert not wants_class_weights(ten)
    skewed = np.concatenate([np.repeat(np.arange(9), 30), [9] * 5])     # one class at 1.8 %
    assert wants_class_weights(skewed)
    assert wants_class_weights(np.array([0] * 90 + [1] * 10)) and not wants_class_weights(np.array([0] * 70 + [1] * 30))
