"""`advisor train` / `advisor predict` end to end on shipped data, and the zoo's refusals of bad data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import EXAMPLES, run_advisor

pytest.importorskip("sklearn")


def _train(*args: str):
    return run_advisor("train", *args, "--quiet")


def test_train_tabular_writes_a_complete_run_and_predicts(tmp_path):
    out = tmp_path / "med"
    result = _train(str(EXAMPLES / "medical_diagnosis_clinical.yaml"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert {"model.joblib", "model.json", "metrics.json", "descriptor.yaml", "recommendation.json",
            "run.json"} <= {p.name for p in out.iterdir()}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.9 and metrics["n_test"] == 114
    assert len(metrics["confusion_matrix"]) == 2 and set(metrics["labels"]) == {"benign", "malignant"}
    assert "scikit-learn" in json.loads((out / "run.json").read_text())["versions"]
    assert "device: cpu" in result.stderr
    pred = run_advisor("predict", str(out), str(EXAMPLES / "data" / "breast_cancer.csv"), "--json")
    rows = json.loads(pred.stdout)
    assert len(rows) == 569 and rows[0]["prediction"] in ("benign", "malignant")
    assert abs(sum(rows[0]["probabilities"].values()) - 1) < 1e-6
    truth = pd.read_csv(EXAMPLES / "data" / "breast_cancer.csv")["target"]
    assert np.mean([r["prediction"] == t for r, t in zip(rows, truth)]) > 0.93


@pytest.mark.slow
def test_train_is_repeatable_with_a_seed(tmp_path):
    runs = []
    for name in ("a", "b"):
        result = _train(str(EXAMPLES / "medical_diagnosis_clinical.yaml"), "--out", str(tmp_path / name),
                        "--model", "tabular_gradient_boosting", "--seed", "3")
        assert result.returncode == 0, result.stderr
        runs.append(json.loads((tmp_path / name / "metrics.json").read_text()))
    assert runs[0]["confusion_matrix"] == runs[1]["confusion_matrix"]


def test_train_text_classical_on_austen(tmp_path):
    result = _train(str(EXAMPLES / "novel_authorship.yaml"), "--model", "text_tfidf_linear",
                    "--out", str(tmp_path / "austen"))
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "austen" / "metrics.json").read_text())["accuracy"] > 0.6


@pytest.mark.slow
def test_train_forecasting_time_ordered(tmp_path):
    result = _train(str(EXAMPLES / "weather_forecasting.yaml"), "--out", str(tmp_path / "w"))
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "w" / "metrics.json").read_text())
    sel = metrics["selection"]                       # chosen by rolling-origin backtests on the training part
    assert sel["folds"].startswith("3 rolling origins, horizon ") and sel["metric"] == "neg_mase"
    assert metrics["model"] == sel["model"] and metrics["model"].startswith("ts_") and metrics["mae"] < 8
    assert metrics["mase"] < metrics["baselines"]["seasonal_naive"]["mase"]      # beats same-day-last-year


def _one_line_exit_2(result, needle: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("advisor: error:") and needle in last, result.stderr


def test_untrainable_modality(tmp_path):
    _one_line_exit_2(_train(str(EXAMPLES / "speech_recognition.yaml"), "--out", str(tmp_path / "x")),
                     "no zoo model trains generation on audio data yet")
    assert not (tmp_path / "x").exists()


def test_unknown_model_lists_close_matches(tmp_path):
    _one_line_exit_2(_train(str(EXAMPLES / "medical_diagnosis_clinical.yaml"), "--model", "tabular_linar",
                            "--out", str(tmp_path / "x")), "tabular_linear")
    assert not (tmp_path / "x").exists()


BAD_TABLES = {
    "single class": ("a,target\n1,x\n2,x\n3,x\n", "only one class"),
    "target absent": ("a,b\n1,2\n3,4\n", "columns are"),
    "header only": ("a,target\n", "no rows"),
    "singleton class": ("a,target\n1,x\n2,x\n3,y\n", "has 1 example"),
    "float labels": ("a,target\n1,0.5\n2,1.7\n3,2.2\n", "regression"),
}


@pytest.mark.parametrize("label", sorted(BAD_TABLES))
def test_bad_tables_are_refused(label, tmp_path, write_yaml):
    text, needle = BAD_TABLES[label]
    data = tmp_path / "t.csv"
    data.write_text(text)
    desc = write_yaml(f"name: t\ntask: classification\ndata:\n  modality: tabular\n  path: {data}\n"
                      "  target: target\n  n_samples: 3\n")
    _one_line_exit_2(_train(str(desc), "--out", str(tmp_path / "run")), needle)
    assert not (tmp_path / "run").exists()


def test_missing_data_path(tmp_path, write_yaml):
    desc = write_yaml("name: t\ntask: classification\ndata:\n  modality: tabular\n  path: nowhere.csv\n"
                      "  n_samples: 3\n")
    _one_line_exit_2(_train(str(desc), "--out", str(tmp_path / "run")), "does not exist")


@pytest.mark.slow
def test_nans_and_text_columns_are_handled(tmp_path, write_yaml):
    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame({"x": rng.normal(size=n), "colour": rng.choice(["red", "green", None], size=n),
                       "empty": [None] * n})
    df.loc[::7, "x"] = np.nan
    df["target"] = np.where(df["x"].fillna(0) > 0, "hi", "lo")
    data = tmp_path / "t.csv"
    df.to_csv(data, index=False)
    desc = write_yaml(f"name: t\ntask: classification\ndata:\n  modality: tabular\n  path: {data}\n  target: target\n")
    result = _train(str(desc), "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    assert "all-empty" in result.stderr


def test_corrupt_images_are_counted_or_refused(tmp_path):
    from zoo import DataError, load_dataset
    from PIL import Image

    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(10):
            Image.new("RGB", (16, 16), (i * 20, 0, 0)).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "a" / "bad.jpg").write_text("not an image")
    ds = load_dataset(tmp_path, "image")
    assert len(ds) == 20 and len(ds.skipped) == 1 and ds.notes
    for i in range(5):
        (tmp_path / "b" / f"bad{i}.png").write_bytes(b"\x89PNG\r\n")
    with pytest.raises(DataError, match="cannot be read"):
        load_dataset(tmp_path, "image")


@pytest.mark.slow
def test_predict_reports_unreadable_images_and_predicts_the_rest(tmp_path, write_yaml):
    from PIL import Image

    data = tmp_path / "imgs"
    for cls, colour in (("red", (220, 20, 20)), ("blue", (20, 20, 220))):
        (data / cls).mkdir(parents=True)
        for i in range(12):
            Image.new("RGB", (32, 32), tuple(min(255, c + 3 * i) for c in colour)).save(data / cls / f"{i}.png")
    desc = write_yaml(f"name: colours\ntask: classification\ndata:\n  modality: image\n  path: {data}\n")
    out = tmp_path / "run"
    assert _train(str(desc), "--model", "image_handcrafted_forest", "--out", str(out)).returncode == 0
    new = tmp_path / "new"
    new.mkdir()
    Image.new("RGB", (32, 32), (230, 10, 10)).save(new / "a_red.png")
    (new / "b_fake.jpg").write_text("not an image")
    (new / "c_truncated.png").write_bytes((data / "red" / "0.png").read_bytes()[:40])
    result = run_advisor("predict", str(out), str(new), "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["input"].rsplit("/", 1)[-1]: r for r in json.loads(result.stdout)}
    assert rows["a_red.png"]["prediction"] == "red"
    assert rows["b_fake.jpg"]["prediction"] is None and rows["b_fake.jpg"]["error"] == "cannot be decoded"
    assert rows["c_truncated.png"]["error"] == "cannot be decoded"
    plain = run_advisor("predict", str(out), str(new))
    assert "b_fake.jpg\tnot predicted: cannot be decoded" in plain.stdout
    only_bad = run_advisor("predict", str(out), str(new / "b_fake.jpg"))
    assert only_bad.returncode == 2 and "none of the 1 image(s) can be read" in only_bad.stderr
    assert "Traceback" not in only_bad.stderr


def test_device_is_said_once_per_run(tmp_path):
    """The run says its device and why; the deep model's own fit does not say it again."""
    result = run_advisor("train", str(EXAMPLES / "medical_diagnosis_clinical.yaml"), "--model", "tabular_mlp",
                         "--out", str(tmp_path / "mlp"), "--time-budget", "1")
    assert result.returncode == 0, result.stderr
    assert sum(line.startswith("device:") for line in result.stderr.splitlines()) == 1, result.stderr


def test_hybrid_run_says_its_backbone_size_beside_its_own(tmp_path, write_yaml):
    """model.joblib of a hybrid leaves the frozen network out; metrics.json and the report say both sizes."""
    from PIL import Image

    data = tmp_path / "imgs"
    for cls, colour in (("red", (220, 20, 20)), ("blue", (20, 20, 220))):
        (data / cls).mkdir(parents=True)
        for i in range(10):
            Image.new("RGB", (32, 32), tuple(min(255, c + 3 * i) for c in colour)).save(data / cls / f"{i}.png")
    desc = write_yaml(f"name: colours\ntask: classification\ndata:\n  modality: image\n  path: {data}\n")
    out = tmp_path / "run"
    result = _train(str(desc), "--model", "image_effnet_lite0_features_linear", "--out", str(out), "--report")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["backbone"] == "tf_efficientnet_lite0"
    assert metrics["backbone_size_bytes"] > 10 * metrics["model_size_bytes"] > 0
    html = (out / "report.html").read_text()
    assert "tf_efficientnet_lite0 backbone" in html and "in all:" in html
