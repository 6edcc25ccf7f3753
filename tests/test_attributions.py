"""zoo.attributions: SHAP contributions per row add up to the model's raw output (tree, linear and permutation
explainers); a model without the background it needs, or not a table model: one line; the report's summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import EXAMPLES

pytest.importorskip("shap")


@pytest.fixture(scope="module")
def cancer():
    frame = pd.read_csv(EXAMPLES / "data" / "breast_cancer.csv")
    return frame.drop(columns="target"), frame["target"]


@pytest.mark.parametrize("name", ["TabularGradientBoosting", "TabularRandomForest"])
def test_contributions_add_up_to_the_model_output(cancer, name):
    import zoo.classical as classical
    from zoo.attributions import explain_rows

    X, y = cancer
    model = getattr(classical, name)(random_state=0).fit(X.iloc[:400], y.iloc[:400])
    rows = X.iloc[400:410]
    pred = model.predict(rows)
    a = explain_rows(model, rows, pred)
    proba = model.predict_proba(rows)[np.arange(len(rows)), [list(model.classes_).index(p) for p in pred]]
    raw = np.log(proba / (1 - proba)) if a.output == "log-odds" else proba
    assert np.abs(a.contributions.sum(axis=1) + a.expected - raw).max() < 1e-6
    assert {t["feature"] for i in range(len(rows)) for t in a.top(i)} <= set(X.columns)
    assert a.skipped == 0


def test_linear_contributions_add_up_to_the_log_odds(cancer):
    """LinearExplainer against the background: contributions + expected value = the logistic model's margin
    towards the row's class."""
    from zoo.attributions import background_sample, explain_rows
    from zoo.classical import TabularLinear

    X, y = cancer
    model = TabularLinear().fit(X.iloc[:400], y.iloc[:400])
    rows, pred = X.iloc[400:420], model.predict(X.iloc[400:420])
    a = explain_rows(model, rows, pred, background=background_sample(X.iloc[:400]))
    margin = model.pipeline_[-1].decision_function(model.transform_features(rows))
    assert a.output == "log-odds"
    np.testing.assert_allclose(a.contributions.sum(axis=1) + a.expected,
                               np.where(pred == model.classes_[1], margin, -margin), atol=1e-9)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_permutation_contributions_add_up_and_find_the_signal(task):
    """The sampled explainer (any table model; here the SVM): exact additivity to the prediction minus the
    background's mean prediction, a category column included, and the one informative column ranks first."""
    from zoo.attributions import background_sample, explain_rows
    from zoo.classical import TabularSVM

    rng = np.random.default_rng(0)
    n = 240
    X = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n),
                      "clinic": rng.choice(["north", "south", "east"], n).astype(object)})
    X.loc[::9, "clinic"] = np.nan
    target = 3 * X["signal"] + 0.1 * rng.normal(size=n)
    y = np.where(target > 0, "yes", "no") if task == "classification" else target.to_numpy()
    model = TabularSVM(task=task).fit(X.iloc[:200], y[:200])
    rows = X.iloc[200:]
    pred = list(model.predict(rows)) if task == "classification" else None
    a = explain_rows(model, rows, pred, background=background_sample(X.iloc[:200]), seconds=60)
    if task == "classification":
        out = model.predict_proba(rows)[np.arange(len(rows)), [list(model.classes_).index(p) for p in pred]]
    else:
        out = model.predict(rows)
    np.testing.assert_allclose(a.contributions.sum(axis=1) + a.expected, out, atol=1e-9)
    assert a.skipped == 0 and a.output == ("probability" if task == "classification" else "value")
    assert np.abs(a.contributions).mean(axis=0).argmax() == a.columns.index("signal")


def test_a_model_without_its_background_gets_one_line(cancer):
    from zoo.attributions import UnsupportedExplanation, explain_rows
    from zoo.classical import TabularSVM

    X, y = cancer
    model = TabularSVM().fit(X.iloc[:200], y.iloc[:200])
    with pytest.raises(UnsupportedExplanation, match="background sample of the training rows"):
        explain_rows(model, X.iloc[:3], model.predict(X.iloc[:3]))


def test_the_report_gets_a_shap_summary_of_held_out_rows(tmp_path):
    """advisor train keeps the background, explain.json holds the summary, the report draws it."""
    import json

    from conftest import run_advisor

    run = tmp_path / "lin"
    made = run_advisor("train", str(EXAMPLES / "medical_diagnosis_clinical.yaml"), "--model", "tabular_linear",
                       "--out", str(run), "--quiet")
    assert made.returncode == 0, made.stderr
    assert len(pd.read_parquet(run / "shap_background.parquet")) == 50
    shap = json.loads((run / "explain.json").read_text())["shap"]
    assert shap["method"] == "linear" and shap["towards"] == "malignant" and shap["n_items"] == 114
    assert len(shap["features"]) == 12 and all(len(f["points"]) == 114 for f in shap["features"])
    means = [f["mean_abs"] for f in shap["features"]]
    assert means == sorted(means, reverse=True)
    assert run_advisor("report", str(run), "-o", str(tmp_path / "r.html")).returncode == 0
    html = (tmp_path / "r.html").read_text()
    assert "SHAP summary (held-out rows)" in html and html.count("<circle") >= 12 * 114


def test_predict_explain_through_the_cli(tmp_path):
    """`advisor predict --explain`: top contributions per row in plain text, JSON and the -o table."""
    import json

    from conftest import run_advisor

    run = tmp_path / "gb"
    made = run_advisor("train", str(EXAMPLES / "medical_diagnosis_clinical.yaml"), "--model",
                       "tabular_gradient_boosting", "--out", str(run), "--quiet")
    assert made.returncode == 0, made.stderr
    rows = tmp_path / "five.csv"
    frame = pd.read_csv(EXAMPLES / "data" / "breast_cancer.csv").head(5)
    frame.to_csv(rows, index=False)
    got = json.loads(run_advisor("predict", str(run), str(rows), "--explain", "--json").stdout)
    assert all(len(r["explanation"]) == 3 and r["explanation"][0]["feature"] in frame.columns for r in got)
    out = tmp_path / "p.csv"
    assert run_advisor("predict", str(run), str(rows), "--explain", "-o", str(out)).returncode == 0
    table = pd.read_csv(out)
    assert {"top1_feature", "top1_contribution", "top3_feature"} <= set(table.columns)
    assert set(table["top1_feature"]) <= set(frame.columns)
    (run / "shap_background.parquet").unlink()                # tree models need no background
    again = json.loads(run_advisor("predict", str(run), str(rows), "--explain", "--json", "--trust").stdout)
    assert [r["explanation"] for r in again] == [r["explanation"] for r in got]


def test_predict_explain_on_images_writes_a_heat_map_per_image(tmp_path):
    """Images: -o writes PREDICTIONS_saliency/ (one original | overlay PNG per image) and a saliency column;
    without -o, and for a text run, one line, exit 2."""
    from PIL import Image

    import zoo
    from conftest import run_advisor

    rng = np.random.default_rng(0)
    for cls, side in (("left", 0), ("right", 1)):            # a bright square on the left or right half
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(6):
            pixels = rng.integers(0, 60, (32, 32, 3)).astype(np.uint8)
            pixels[8:24, 2 + 16 * side:14 + 16 * side] = 230
            Image.fromarray(pixels).save(tmp_path / "imgs" / cls / f"{i}.png")
    data = zoo.load_dataset(tmp_path / "imgs", "image")
    model = zoo.create_model("image_handcrafted_logistic", image_size=32, n_jobs=1).fit(data.X, data.y)
    zoo.save_model(model, tmp_path / "run", name="image_handcrafted_logistic",
                   extra={"modality": "image", "task": "classification", "target": None, "text_column": None})
    out = tmp_path / "pred.csv"
    done = run_advisor("predict", str(tmp_path / "run"), str(tmp_path / "imgs"), "--explain", "-o", str(out))
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out)
    maps = sorted((tmp_path / "pred_saliency").glob("*.png"))
    assert len(maps) == len(table) == 12 and table["saliency"].notna().all()
    with Image.open(maps[0]) as first:                        # original | gap | overlay, side by side
        pixels = np.asarray(first.convert("RGB")).astype(int)
    half = pixels.shape[0]
    assert pixels.shape[1] >= 2 * half and np.abs(pixels[:, :half] - pixels[:, -half:]).mean() > 1
    refused = run_advisor("predict", str(tmp_path / "run"), str(tmp_path / "imgs"), "--explain")
    assert refused.returncode == 2 and "add -o" in refused.stderr and len(refused.stderr.splitlines()) == 1

    text = zoo.create_model("text_tfidf_linear").fit(["good fun", "dull slow"] * 5, ["pos", "neg"] * 5)
    zoo.save_model(text, tmp_path / "text", name="text_tfidf_linear",
                   extra={"modality": "text", "task": "classification", "target": "label", "text_column": "review"})
    (tmp_path / "notes.txt").write_text("good fun\n")
    said = run_advisor("predict", str(tmp_path / "text"), str(tmp_path / "notes.txt"), "--explain")
    assert said.returncode == 2 and "table and image runs" in said.stderr and len(said.stderr.splitlines()) == 1
