"""zoo.attributions: SHAP contributions per row add up to the model's raw output; unsupported models: one line."""

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


def test_unsupported_model_gets_one_line(cancer):
    from zoo.attributions import UnsupportedExplanation, explain_rows
    from zoo.classical import TabularSVM

    X, y = cancer
    model = TabularSVM().fit(X.iloc[:200], y.iloc[:200])
    with pytest.raises(UnsupportedExplanation, match="--explain supports tree models"):
        explain_rows(model, X.iloc[:3], model.predict(X.iloc[:3]))


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
    linear = tmp_path / "lin"
    assert run_advisor("train", str(EXAMPLES / "medical_diagnosis_clinical.yaml"), "--model", "tabular_linear",
                       "--out", str(linear), "--quiet").returncode == 0
    refused = run_advisor("predict", str(linear), str(rows), "--explain")
    assert refused.returncode == 2 and "--explain supports tree models" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
