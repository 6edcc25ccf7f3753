"""ONNX export beside the native model: file size and per-item latency (`python -m benchmarks export`).

For each exportable tabular model fitted on the breast-cancer training split (seed 0): the size of the native
`model.joblib` (compressed, as `advisor train` writes it) and of the `.onnx` file; the seconds per item of
`predict_proba` (native, a DataFrame of one row / of the whole held-out split) and of onnxruntime's `run` on the
same rows, timed interleaved (onnxruntime with one intra-op thread for the tables); and the image hybrid
and fine-tuned CNN (`measure_image`). Needs the `export` extra; without it prints one line and exits 0.
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import ROOT, interleaved, machine, save_results, stats, table

MODELS = {"tabular_linear": {}, "tabular_decision_tree": {}, "tabular_random_forest": {},
          "tabular_extra_trees": {}, "tabular_gradient_boosting": {}, "tabular_svm": {},
          "tabular_mlp": {"verbose": False}}


def _feeds(side: dict[str, Any], df: Any) -> dict[str, np.ndarray]:
    return {s["name"]: (df[[s["column"]]].to_numpy(np.float32) if s["dtype"] == "float32"
                        else df[[s["column"]]].fillna("").astype(str).to_numpy(object)) for s in side["inputs"]}


def measure(name: str, repeats: int, folder: Path) -> dict[str, Any]:
    import joblib
    import onnxruntime as ort

    import zoo
    from zoo.export import export_onnx

    data = zoo.load_dataset(ROOT / "examples" / "data" / "breast_cancer.csv", "tabular", task="classification",
                            target="target")
    train, test = zoo.split_dataset(data, "classification", seed=0)
    model = zoo.create_model(name, **MODELS[name]).fit(train.X, train.y)
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    path = folder / f"{name}.onnx"
    side = export_onnx(model, path, name=name)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    one, batch = test.X.iloc[:1], test.X
    f_one, f_batch = _feeds(side, one), _feeds(side, batch)
    times = interleaved({"native_1": lambda: model.predict_proba(one), "onnx_1": lambda: session.run(None, f_one),
                         "native_b": lambda: model.predict_proba(batch),
                         "onnx_b": lambda: session.run(None, f_batch)}, repeats)
    n = len(batch)
    got = session.run(None, f_batch)[1]
    return {"model": name, "native_kb": len(buffer.getvalue()) / 1e3, "onnx_kb": path.stat().st_size / 1e3,
            "native_1_ms": stats(times["native_1"])["median"] * 1e3, "onnx_1_ms": stats(times["onnx_1"])["median"] * 1e3,
            "native_item_us": stats(times["native_b"])["median"] / n * 1e6,
            "onnx_item_us": stats(times["onnx_b"])["median"] / n * 1e6, "n_batch": n,
            "max_proba_diff": float(np.abs(got - model.predict_proba(batch)).max())}


IMAGES = {"image_effnet_lite0_features_linear": {},
          "image_effnet_lite0_finetune": {"epochs": 1, "freeze_epochs": 1, "batch_size": 8, "augment": False}}


def measure_image(name: str, repeats: int, folder: Path) -> dict[str, Any]:
    """An image model on 24 crops of three photos (12 train, 12 timed): native = the torch network(s) (+ the
    scikit-learn head of the hybrid) on the same normalised batch the ONNX graph takes (no feature cache)."""
    import joblib
    import onnxruntime as ort
    import torch
    from PIL import Image
    from skimage import data as photos

    import zoo
    from zoo.export import export_onnx
    from zoo.weights import timm_transform

    rng = np.random.default_rng(0)
    X, y = [], []
    for label, photo in {"cat": photos.chelsea(), "coffee": photos.coffee(), "astronaut": photos.astronaut()}.items():
        for _ in range(8):
            size = int(rng.integers(96, 200))
            top, left = int(rng.integers(0, photo.shape[0] - size)), int(rng.integers(0, photo.shape[1] - size))
            X.append(np.ascontiguousarray(photo[top:top + size, left:left + size]))
            y.append(label)
    model = zoo.create_model(name, verbose=False, **IMAGES[name]).fit(X[::2], y[::2])
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    path = folder / f"{name}.onnx"
    export_onnx(model, path, name=name)
    hybrid = hasattr(model, "pipeline_")
    config = model.pipeline_[0].data_config_ if hybrid else model.data_config_
    transform = timm_transform(config, resize_mode="center_crop")
    batch = np.stack([transform(Image.fromarray(x)).numpy() for x in X[1::2]])
    net = model.pipeline_[0].network() if hybrid else model.model_

    def native(b: np.ndarray) -> Any:
        with torch.inference_mode():
            out = net(torch.from_numpy(b))
            return model.pipeline_[1:].predict_proba(out.numpy()) if hybrid else torch.softmax(out, 1).numpy()

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    times = interleaved({"native_1": lambda: native(batch[:1]), "onnx_1": lambda: session.run(None, {"image": batch[:1]}),
                         "native_b": lambda: native(batch), "onnx_b": lambda: session.run(None, {"image": batch})},
                        repeats)
    n = len(batch)
    got = session.run(None, {"image": batch})[1]
    return {"model": name, "native_kb": len(buffer.getvalue()) / 1e3, "onnx_kb": path.stat().st_size / 1e3,
            "native_1_ms": stats(times["native_1"])["median"] * 1e3, "onnx_1_ms": stats(times["onnx_1"])["median"] * 1e3,
            "native_item_us": stats(times["native_b"])["median"] / n * 1e6,
            "onnx_item_us": stats(times["onnx_b"])["median"] / n * 1e6, "n_batch": n,
            "max_proba_diff": float(np.abs(got - model.predict_proba(X[1::2])).max())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks export", description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    try:
        import onnxruntime  # noqa: F401
        import skl2onnx  # noqa: F401
    except ImportError as exc:
        print(f"export: skipped ({exc.name} is not installed; pip install -e '.[export]')")
        return
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(name, args.repeats, Path(tmp)) for name in MODELS] + [measure_image(name, args.repeats, Path(tmp))
                                                                         for name in IMAGES]
    print(table([[r["model"], f"{r['native_kb']:.1f}", f"{r['onnx_kb']:.1f}", f"{r['native_1_ms']:.2f}",
                  f"{r['onnx_1_ms']:.2f}", f"{r['native_item_us']:.1f}", f"{r['onnx_item_us']:.1f}",
                  f"{r['max_proba_diff']:.1e}"] for r in rows],
                ["model", "joblib kB", "onnx kB", "native 1 row ms", "ort 1 row ms", "native µs/item",
                 "ort µs/item", "max |Δp|"]))
    if not args.no_save:
        save_results("export", {"machine": machine(), "repeats": args.repeats, "rows": rows})


if __name__ == "__main__":
    main()
