"""The data checks before training (issue 12): the column table, ID-like and constant columns dropped inside the
saved model, date strings as calendar features, a one-column leak flagged, and predict's per-row warning for text
in a column that was numeric at training."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pandas as pd
import pytest

from conftest import EXAMPLES, run_advisor

pytest.importorskip("sklearn")

from advisor.records import DataChecks, read_record  # noqa: E402
from zoo.columns import ColumnPrep, input_problems, leak_scores, leaks, profile_columns  # noqa: E402


def customers(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """A churn-like table: an integer and a UUID key, a constant, a date string, a leak, and honest features."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = np.where(x1 + 0.8 * rng.normal(size=n) > 0, "yes", "no")
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 150, n), unit="D")
    return pd.DataFrame({
        "customer_id": np.arange(1000, 1000 + n), "order_uuid": [str(uuid.UUID(int=int(i) + 10**12)) for i in range(n)],
        "x1": x1.round(3), "x2": x2.round(3), "plan": "basic", "signup": dates.strftime("%Y-%m-%d"),
        "city": rng.choice(["north", "south", "east"], n),
        "refund_flag": np.where(y == "yes", 1.0, 0.0) + rng.normal(scale=0.01, size=n), "churned": y})


@pytest.fixture
def table_run(tmp_path):
    data = tmp_path / "customers.csv"
    customers().to_csv(data, index=False)
    desc = tmp_path / "churn.yaml"
    desc.write_text(f"name: churn-checks\ntask: classification\ndata:\n  modality: tabular\n  path: {data}\n"
                    "  target: churned\n", encoding="utf-8")
    out = tmp_path / "run"
    result = run_advisor("train", str(desc), "--out", str(out), "--quiet", "--model", "tabular_gradient_boosting",
                         "--report")
    assert result.returncode == 0, result.stderr
    return out, result, data


def test_train_prints_the_column_table_drops_ids_and_constants_parses_dates_and_flags_a_leak(table_run):
    out, result, _ = table_run
    err = result.stderr
    assert "data checks on the training split (192 rows, 8 columns):" in err
    table = {line.split()[0]: line for line in err.splitlines() if line.startswith("  ") and line.split()}
    assert table["customer_id"].split()[1] == "ID" and table["order_uuid"].split()[1] == "ID"
    assert table["signup"].split()[1] == "date" and table["plan"].split()[1:3] == ["categorical", "0%"]
    assert "dropped column 'customer_id': ID-like" in err and "dropped column 'order_uuid': ID-like" in err
    assert "dropped column 'plan': constant" in err
    assert "column 'signup' holds dates: parsed into calendar features (signup_year, signup_month" in err
    assert "warning: column 'refund_flag' alone predicts the target (balanced accuracy" in err
    assert not any(f"column '{c}' alone predicts" in err for c in ("x1", "x2", "city", "signup"))

    checks = read_record(out, "checks")
    assert isinstance(checks, DataChecks) and checks.rows == 192 and checks.metric == "balanced_accuracy"
    by = {c.name: c for c in checks.columns}
    assert by["customer_id"].action == "dropped_id" and by["plan"].action == "dropped_constant"
    assert by["signup"].kind == "date" and by["signup"].action == "calendar" and by["signup"].distinct > 100
    assert by["refund_flag"].leak and by["refund_flag"].action == "kept" and by["refund_flag"].leak_score >= 0.99
    assert by["city"].kind == "categorical" and by["city"].distinct == 3 and not by["city"].leak

    import zoo

    model = zoo.load_model(out)                       # the saved pipeline applies the same treatment
    used = [*model.numeric_features_, *model.categorical_features_]
    assert {"signup_year", "signup_month", "signup_day", "signup_day_of_week", "signup_day_of_year"} <= set(used)
    assert not {"customer_id", "order_uuid", "plan", "signup"} & set(used)

    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="data-checks"' in html and "Possible leak" in html and "<code>refund_flag</code>" in html
    assert "dropped: ID-like (unique per row)" in html and "calendar features: year, month, day" in html


def test_predict_warns_per_row_about_text_in_a_numeric_column(table_run, tmp_path):
    out, _, data = table_run
    rows = pd.read_csv(data).drop(columns=["churned", "customer_id"]).head(12)   # a dropped ID need not be there
    rows["x1"] = rows["x1"].astype(object)
    rows.loc[7, "x1"] = "abc"
    rows.to_csv(tmp_path / "new.csv", index=False)
    result = run_advisor("predict", str(out), str(tmp_path / "new.csv"), "--json")
    assert result.returncode == 0, result.stderr
    assert "row 7: column `x1` = 'abc' is not a number; treated as missing" in result.stderr
    assert result.stderr.count("is not a number") == 1
    predictions = json.loads(result.stdout)
    assert len(predictions) == 12 and predictions[7]["prediction"] in ("yes", "no")


def test_kinds_are_inferred_without_dropping_honest_columns():
    rng = np.random.default_rng(1)
    n = 50
    df = pd.DataFrame({"income": rng.permutation(np.arange(20_000, 20_000 + 50 * 37, 37)),   # unique ints, no id
                       "row": np.arange(n), "flag": rng.random(n) > 0.5,
                       "note": [f"customer said item {i} arrived late and the box was damaged" for i in range(n)],
                       "when": pd.date_range("2023-01-01", periods=n, freq="D").strftime("%d/%m/%Y"),
                       "grade": rng.choice(["A", "B"], n), "score": rng.normal(size=n)})
    df.loc[3, "score"] = np.nan
    by = {p.name: p for p in profile_columns(df)}
    assert by["income"].kind == "numeric" and by["income"].action == "kept"
    assert by["row"].kind == "id"                                   # 0, 1, 2, ...: a row number
    assert by["flag"].kind == "categorical" and by["note"].kind == "text" and by["note"].action == "kept"
    assert by["when"].kind == "date" and by["grade"].kind == "categorical"
    assert by["score"].missing_share == pytest.approx(1 / n) and by["score"].distinct == n - 1


def test_prep_never_drops_every_column_and_calls_nothing_an_id_in_a_tiny_table():
    tiny = pd.DataFrame({"id": [1, 2, 3], "k": ["a", "a", "a"]})
    assert ColumnPrep().fit(tiny).dropped_ == {"k": "dropped_constant"}
    only = pd.DataFrame({"c": [5.0] * 20})
    assert ColumnPrep().fit_transform(only).columns.tolist() == ["c"]


def test_a_regression_leak_is_flagged_with_r2_and_an_honest_table_has_none():
    rng = np.random.default_rng(2)
    y = rng.normal(size=300)
    X = pd.DataFrame({"price_again": 3 * y + rng.normal(scale=0.01, size=300), "noise": rng.normal(size=300)})
    profiles, metric, folds = leak_scores(X, y, "regression")
    assert metric == "r2" and folds == 5 and [p.name for p in leaks(profiles)] == ["price_again"]
    cancer = pd.read_csv(EXAMPLES / "data" / "breast_cancer.csv")
    profiles, _, _ = leak_scores(cancer.drop(columns=["target"]), cancer["target"].to_numpy(), "classification")
    assert leaks(profiles) == [] and all(p.leak_score is not None for p in profiles)


def test_input_problems_names_the_row_and_column():
    from zoo.classical import TabularLinear

    df = customers(60)
    model = TabularLinear().fit(df.drop(columns=["churned"]), df["churned"])
    bad = df.drop(columns=["churned"]).astype({"x2": object})
    bad.loc[2, "x2"] = "twelve"
    assert input_problems(model, bad) == ["row 2: column `x2` = 'twelve' is not a number; treated as missing"]
    assert len(model.predict(bad.drop(columns=["customer_id"]))) == 60     # the dropped ID is not needed
    assert input_problems(object(), bad) == []          # a model without column checks: nothing to say
