"""`advisor export --format onnx`: the export runs under onnxruntime in a process that cannot import the project
(nor scikit-learn) and predicts the held-out split as the project's own model does.

Tolerance: labels identical; probabilities within 1e-4 (the export computes in float32, the project in float64).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import EXAMPLES, run_advisor

pytest.importorskip("sklearn")
pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")

import zoo  # noqa: E402

PROBA_TOL = 1e-4
DESCRIPTOR = EXAMPLES / "medical_diagnosis_clinical.yaml"

# Run in `python -I` from a temporary folder: the editable install's path hook is removed first, then the script
# checks that neither the project nor scikit-learn can be imported, and reads the CSV with the csv module.
PORTABLE = r"""
import csv, json, sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()
                    and "editable" not in getattr(f, "__name__", "").lower()]
sys.path[:] = [p for p in sys.path if "editable" not in p]
import importlib.util
assert importlib.util.find_spec("zoo") is None and importlib.util.find_spec("advisor") is None, "project importable"
import numpy as np
import onnxruntime as ort
model, table, out = sys.argv[1:4]
side = json.load(open(model + ".json"))
rows = [] if table.endswith(".npy") else list(csv.DictReader(open(table, newline="")))
feeds = {side["inputs"][0]["name"]: np.load(table)} if table.endswith(".npy") else {}
for spec in side["inputs"] if rows else []:
    values = [r[spec["column"]] for r in rows]
    if spec["dtype"] == "float32":
        feeds[spec["name"]] = np.array([float(v) if v != "" else np.nan for v in values], np.float32).reshape(-1, 1)
    else:
        feeds[spec["name"]] = np.array(values, dtype=object).reshape(-1, 1)
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
results = dict(zip(side["outputs"], session.run(None, feeds)))
assert "sklearn" not in sys.modules and "torch" not in sys.modules
json.dump({k: v.tolist() for k, v in results.items()}, open(out, "w"))
"""


def run_portable(model: Path, table: Path, tmp_path: Path) -> dict[str, list]:
    """Run the export on `table` with onnxruntime in a fresh `python -I` outside the project."""
    out = tmp_path / "onnx_out.json"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    result = subprocess.run([sys.executable, "-I", "-c", PORTABLE, str(model), str(table), str(out)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


def split(task: str = "classification") -> tuple[zoo.Dataset, zoo.Dataset]:
    """The train / held-out split `advisor train --seed 0` uses (same loader, same split); "regression_area":
    the tumour's mean area from the other measurements."""
    if task == "regression_area":
        df = pd.read_csv(EXAMPLES / "data" / "breast_cancer.csv").drop(columns=["target"])
        data = zoo.Dataset(modality="tabular", X=df.drop(columns=["mean area"]), y=df["mean area"].to_numpy(),
                           source="breast_cancer.csv", target="mean area")
        return zoo.split_dataset(data, "regression", seed=0)
    data = zoo.load_dataset(EXAMPLES / "data" / "breast_cancer.csv", "tabular", task=task, target="target")
    return zoo.split_dataset(data, task, seed=0)


def agrees_on_held_out(native, model: Path, test: zoo.Dataset, tmp_path: Path) -> None:
    test.X.to_csv(tmp_path / "test.csv", index=False)
    got = run_portable(model, tmp_path / "test.csv", tmp_path)
    assert got["label"] == list(native.predict(test.X))
    np.testing.assert_allclose(got["probabilities"], native.predict_proba(test.X), atol=PROBA_TOL, rtol=0)


def test_cli_export_of_a_trained_run_agrees_on_the_held_out_split(tmp_path):
    run = tmp_path / "run"
    trained = run_advisor("train", str(DESCRIPTOR), "--model", "tabular_linear", "--out", str(run), "--quiet")
    assert trained.returncode == 0, trained.stderr
    exported = run_advisor("export", str(run), "--format", "onnx", "-o", str(tmp_path / "model.onnx"))
    assert exported.returncode == 0, exported.stderr
    side = json.loads((tmp_path / "model.onnx.json").read_text())
    assert side["model"] == "tabular_linear" and side["outputs"] == ["label", "probabilities"]
    assert len(side["inputs"]) == 30 and side["classes"] == ["benign", "malignant"]
    test = split()[1]
    assert len(test) == json.loads((run / "metrics.json").read_text())["n_test"]
    agrees_on_held_out(zoo.load_model(run), tmp_path / "model.onnx", test, tmp_path)

    check = json.loads((run / "export.json").read_text())         # checked at export time, for the report
    assert check["rows"] == 50 and check["labels_equal"] == 1.0 and check["max_abs_diff"] < PROBA_TOL
    assert check["onnx_ms_per_item"] > 0 and check["native_ms_per_item"] > 0
    assert "checked under onnxruntime on 50 items" in exported.stdout
    assert run_advisor("report", str(run), "-o", str(tmp_path / "r.html")).returncode == 0
    html = (tmp_path / "r.html").read_text()
    assert '<section id="export">' in html and "native ÷ onnxruntime" in html
    rows = tmp_path / "rows.csv"
    test.X.head(3).to_csv(rows, index=False)
    assert run_advisor("predict", str(run), str(rows)).returncode == 0   # the folder is still trusted


@pytest.mark.parametrize("model, params", [("tabular_random_forest", {"n_estimators": 50}),
                                           ("tabular_extra_trees", {"n_estimators": 50}),
                                           ("tabular_decision_tree", {}),
                                           ("tabular_gradient_boosting", {"max_iter": 50}),
                                           ("tabular_svm", {})])
def test_tree_and_kernel_models_export_and_agree_on_the_held_out_split(model, params, tmp_path):
    from zoo.export import export_onnx

    train, test = split()
    native = zoo.create_model(model, **params).fit(train.X, train.y)
    export_onnx(native, tmp_path / "m.onnx", name=model)
    agrees_on_held_out(native, tmp_path / "m.onnx", test, tmp_path)


@pytest.mark.parametrize("model", ["tabular_linear", "tabular_random_forest", "tabular_gradient_boosting",
                                   "tabular_svm"])
def test_regression_exports_values(model, tmp_path):
    """Regressors output `value` ([N, 1]); float32 arithmetic: within 1e-5 of the target's spread."""
    from zoo.export import export_onnx

    train, test = split("regression_area")
    native = zoo.create_model(model, task="regression").fit(train.X, train.y)
    side = export_onnx(native, tmp_path / "m.onnx", name=model)
    assert side["outputs"] == ["value"] and side["classes"] is None
    test.X.to_csv(tmp_path / "test.csv", index=False)
    got = np.asarray(run_portable(tmp_path / "m.onnx", tmp_path / "test.csv", tmp_path)["value"])[:, 0]
    np.testing.assert_allclose(got, native.predict(test.X), atol=1e-5 * float(np.std(train.y)), rtol=0)


def test_tabular_mlp_exports_as_one_graph_and_agrees_on_the_held_out_split(tmp_path):
    """Preprocessing (skl2onnx) + torch network (torch.onnx, dynamic batch) + label lookup in one file."""
    pytest.importorskip("torch")
    from zoo.export import export_onnx

    train, test = split()
    native = zoo.create_model("tabular_mlp", epochs=3, verbose=False).fit(train.X, train.y)
    side = export_onnx(native, tmp_path / "m.onnx", name="tabular_mlp")
    assert side["family"] == "deep" and side["outputs"] == ["label", "probabilities"]
    agrees_on_held_out(native, tmp_path / "m.onnx", test, tmp_path)


@pytest.mark.parametrize("name, params", [("tabular_linear", {}), ("tabular_mlp", {"epochs": 3, "verbose": False})])
def test_string_columns_and_missing_values_export(name, params, tmp_path):
    """A categorical column (string tensor, "" = missing) and missing numbers (NaN, with indicator columns)."""
    from zoo.export import export_onnx

    df = pd.read_csv(EXAMPLES / "data" / "breast_cancer.csv")
    y = df.pop("target").to_numpy()
    rng = np.random.default_rng(0)
    df.insert(0, "clinic", rng.choice(["north", "south", "east"], len(df)).astype(object))
    df.loc[::7, "clinic"] = np.nan
    df.loc[::5, "mean radius"] = np.nan
    df["clinic"] = np.where(y == "malignant", df["clinic"].fillna("missing") + "-m", df["clinic"])  # informative
    model = zoo.create_model(name, **params).fit(df.iloc[:400], y[:400])
    side = export_onnx(model, tmp_path / "m.onnx", name=name)
    kinds = {s["column"]: s["dtype"] for s in side["inputs"]}
    assert kinds["clinic"] == "string" and kinds["mean radius"] == "float32"

    test = df.iloc[400:]
    test.to_csv(tmp_path / "t.csv", index=False)          # NaN -> "" in the CSV: missing for both dtypes
    got = run_portable(tmp_path / "m.onnx", tmp_path / "t.csv", tmp_path)
    assert got["label"] == list(model.predict(test))
    np.testing.assert_allclose(got["probabilities"], model.predict_proba(test), atol=PROBA_TOL, rtol=0)


def needs_timm() -> None:
    pytest.importorskip("torch")
    from zoo._compat import ensure_torchvision_ops

    ensure_torchvision_ops()                  # before timm imports torchvision
    pytest.importorskip("timm")


@pytest.fixture(scope="module")
def photo_crops() -> tuple[list[np.ndarray], list[str]]:
    """24 images of three classes from the shipped Fashion-MNIST demo (8 each), as RGB arrays."""
    data = np.load(EXAMPLES / "data" / "fashion_mnist_demo.npz", allow_pickle=False)
    X, y = [], []
    for k in (0, 1, 7):                                        # T-shirt/top, Trouser, Sneaker
        for i in np.flatnonzero(data["y"] == k)[:8]:
            X.append(np.repeat(data["X"][i][:, :, None], 3, axis=2))
            y.append(str(data["classes"][k]))
    return X, y


def image_export_agrees(native, name: str, X: list, tmp_path: Path) -> dict:
    """Export, preprocess the held-out images as the side JSON says (the project's timm transform), run alone."""
    from PIL import Image

    from zoo.export import export_onnx
    from zoo.weights import timm_transform

    side = export_onnx(native, tmp_path / "m.onnx", name=name)
    pre = side["preprocessing"]
    config = {"input_size": tuple(pre["input_size"]), "interpolation": pre["interpolation"],
              "crop_pct": pre["crop_pct"], "mean": tuple(pre["mean"]), "std": tuple(pre["std"])}
    transform = timm_transform(config, resize_mode=pre["resize_mode"])
    np.save(tmp_path / "images.npy", np.stack([transform(Image.fromarray(x)).numpy() for x in X]))
    got = run_portable(tmp_path / "m.onnx", tmp_path / "images.npy", tmp_path)
    assert got["label"] == list(native.predict(X))
    np.testing.assert_allclose(got["probabilities"], native.predict_proba(X), atol=PROBA_TOL, rtol=0)
    return side


@pytest.mark.slow
def test_image_hybrid_exports_backbone_and_head_as_one_graph(photo_crops, tmp_path):
    """EfficientNet-Lite0 features + standardised logistic head in one file (held out: every other image)."""
    needs_timm()
    X, y = photo_crops
    native = zoo.create_model("image_effnet_lite0_features_linear", verbose=False).fit(X[::2], y[::2])
    side = image_export_agrees(native, "image_effnet_lite0_features_linear", X[1::2], tmp_path)
    assert side["family"] == "hybrid" and side["preprocessing"]["mean"] == [0.5, 0.5, 0.5]
    assert side["inputs"][0]["shape"] == [None, 3, 128, 128]


@pytest.mark.slow
def test_fine_tuned_cnn_exports_with_a_dynamic_batch_axis(photo_crops, tmp_path):
    needs_timm()
    X, y = photo_crops
    native = zoo.create_model("image_effnet_lite0_finetune", epochs=1, freeze_epochs=1, batch_size=8,
                              image_size=64, augment=False, verbose=False).fit(X[::2], y[::2])
    side = image_export_agrees(native, "image_effnet_lite0_finetune", X[1::2], tmp_path)
    assert side["family"] == "deep" and side["inputs"][0]["shape"] == [None, 3, 64, 64]


def test_boosting_with_missing_values_agrees_on_every_row(tmp_path):
    """NaNs take the trees' learned missing-value branch in the export too."""
    from zoo.export import export_onnx

    train, test = split()
    train.X.loc[train.X.index[::3], "mean radius"] = np.nan
    test.X.loc[test.X.index[::3], "mean radius"] = np.nan
    native = zoo.create_model("tabular_gradient_boosting", max_iter=50).fit(train.X, train.y)
    export_onnx(native, tmp_path / "m.onnx", name="tabular_gradient_boosting")
    agrees_on_held_out(native, tmp_path / "m.onnx", test, tmp_path)


def test_a_tuned_decision_threshold_travels_with_the_export(tmp_path):
    """The export's labels follow the tuned threshold (zoo.imbalance), not the arg-max, and the side JSON says so."""
    from zoo.export import export_onnx
    from zoo.imbalance import set_threshold

    train, test = split()
    native = set_threshold(zoo.create_model("tabular_linear").fit(train.X, train.y), 0.02, "malignant")
    assert (native.predict(test.X) != native.classes_[native.predict_proba(test.X).argmax(1)]).any()
    side = export_onnx(native, tmp_path / "m.onnx", name="tabular_linear")
    assert side["decision_threshold"]["threshold"] == 0.02 and side["outputs"] == ["label", "probabilities"]
    agrees_on_held_out(native, tmp_path / "m.onnx", test, tmp_path)


def test_a_model_that_cannot_export_says_why(tmp_path):
    """Histogram boosting with a categorical column: skl2onnx would drop the categorical splits, so it refuses."""
    train, _ = split()
    train.X.insert(0, "clinic", np.where(np.arange(len(train)) % 2, "north", "south").astype(object))
    native = zoo.create_model("tabular_gradient_boosting", max_iter=10).fit(train.X, train.y)
    zoo.save_model(native, tmp_path / "run", name="tabular_gradient_boosting", extra={"modality": "tabular"})
    result = run_advisor("export", str(tmp_path / "run"), "-o", str(tmp_path / "m.onnx"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "categorical splits" in result.stderr and "clinic" in result.stderr
    assert not (tmp_path / "m.onnx").exists() and not (tmp_path / "m.onnx.json").exists()


def test_export_of_a_folder_that_is_not_a_run_is_one_line(tmp_path):
    result = run_advisor("export", str(tmp_path), "-o", str(tmp_path / "m.onnx"))
    assert result.returncode == 2 and "not a run folder" in result.stderr and result.stderr.count("\n") == 1


def test_a_text_model_says_why_it_does_not_export(tmp_path):
    from zoo.export import NotExportable, export_onnx

    texts = ["the cat sat", "a dog ran", "the cat ran", "a dog sat"] * 5
    native = zoo.create_model("text_tfidf_linear").fit(texts, ["cat", "dog", "cat", "dog"] * 5)
    with pytest.raises(NotExportable, match="tokens"):
        export_onnx(native, tmp_path / "m.onnx", name="text_tfidf_linear")
    assert not (tmp_path / "m.onnx").exists()
