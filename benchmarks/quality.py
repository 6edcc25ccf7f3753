"""Accuracy and wall time of each zoo family on real data, and the advisor's cost estimates against them.

Every run: load the data with ``zoo.load_dataset``, hold out a test split with ``zoo.split_dataset`` (seed 0,
20 %, stratified), ``zoo.create_model(name)`` with ``random_state=0``, ``device="cpu"``, ``verbose=False`` and the
parameters shown, time ``fit`` on the training split (model loading and feature extraction included), then
``zoo.evaluate`` on the held-out split (accuracy, macro-F1, inference ms per item).

Estimates: ``advisor.recommend`` on a descriptor matching each data set (modality, classes, ``n_samples`` = the
training split's size, no accelerator, interpretability ``none`` so that every approach stays live) returns one
estimate per approach; each run is compared with its family's estimate. Two ratios are shown: measured over the
estimate the advisor shows (``train_minutes``, rounded up to 0.1 min, so small jobs always read >= 6 s), and
measured over the cost model's unrounded seconds scaled to the epochs actually run (the estimate assumes 5
image / 3 text / 30 tabular epochs for the deep family).

Sets: ``demo`` (examples/data/fashion_mnist_demo.npz, 3,000 images), ``text`` (examples/data/austen_paragraphs.csv),
``tabular`` (examples/data/breast_cancer.csv), ``cats_dogs`` (``--cats-dogs`` folder, default
/work/shared/data/cats-dogs/train; skipped cleanly when absent). Results are written to
runs/benchmarks/results.json after every run, so a long run in the background can be followed (``--no-save`` off).

Run: python -m benchmarks.quality [--sets demo,text,tabular,cats_dogs] [--skip-text-finetune]
The full set takes about 15-20 minutes on 2 CPU cores; longer than one 10-minute shell command, so:
nohup python -m benchmarks.quality > /tmp/quality.log 2>&1 &
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path
from typing import Any

from advisor.deciding.estimates import cpu_seconds
from benchmarks._common import ROOT, loadavg, machine, save_results, table, torch_threads

DATA = ROOT / "examples" / "data"
DEFAULT_CATS_DOGS = Path(os.environ.get("ML_ADVISOR_CATS_DOGS", ROOT.parent / "shared" / "data" / "cats-dogs" / "train"))
TEXT_FINETUNE_BUDGET_S = 240.0          # text_minilm_finetune is stopped (and said so) past ~4 minutes


def _sets(cats_dogs: Path, skip_text_finetune: bool) -> dict[str, dict[str, Any]]:
    text_models: list[tuple[str, dict[str, Any]]] = [("text_tfidf_linear", {}), ("text_minilm_features_linear", {})]
    if not skip_text_finetune:
        text_models.append(("text_minilm_finetune", {"epochs": 1, "time_budget_s": TEXT_FINETUNE_BUDGET_S}))
    return {
        "demo": {"title": "Fashion-MNIST demo (examples/data/fashion_mnist_demo.npz)", "modality": "image",
                 "path": DATA / "fashion_mnist_demo.npz", "load": {},
                 "models": [("image_handcrafted_forest", {}), ("image_effnet_lite0_features_linear", {}),
                            ("image_effnet_lite0_finetune", {"epochs": 2})]},
        "text": {"title": "Austen paragraphs (examples/data/austen_paragraphs.csv)", "modality": "text",
                 "path": DATA / "austen_paragraphs.csv", "load": {"text_column": "text", "target": "label"},
                 "models": text_models},
        "tabular": {"title": "Breast cancer (examples/data/breast_cancer.csv)", "modality": "tabular",
                    "path": DATA / "breast_cancer.csv", "load": {"target": "target"},
                    "models": [("tabular_gradient_boosting", {}), ("tabular_linear", {}),
                               ("tabular_decision_tree", {}), ("tabular_mlp", {})]},
        "cats_dogs": {"title": f"cats-dogs ({cats_dogs}, ImageFolder)", "modality": "image", "path": cats_dogs,
                      "load": {},
                      "models": [("image_handcrafted_forest", {}),
                                 ("image_effnet_lite0_features_linear", {"image_size": 128}),
                                 ("image_effnet_lite0_finetune", {"image_size": 128, "epochs": 3})]},
    }


def _estimates(modality: str, n_train: int, n_classes: int) -> tuple[dict[str, Any], str]:
    """The advisor's estimates per approach for a descriptor matching this data, and its pick."""
    from advisor import recommend

    rec = recommend({"name": f"bench-{modality}", "task": "classification",
                     "data": {"modality": modality, "n_samples": n_train, "n_classes": n_classes},
                     "resources": {"accelerator": "none"}, "needs": {"interpretability": "none"}})
    return {e.approach: e for e in rec.estimates}, rec.model


def _model_seconds(approach: str, modality: str, n: int) -> tuple[float, int]:
    """The cost model's unrounded seconds and assumed passes (read from advisor.deciding.estimates, for the ratio)."""
    from advisor.deciding import estimates as est

    passes = est._CPU_COST.get((approach, modality), est._FALLBACK)[1]
    return cpu_seconds(approach, modality, n), passes


def _run_one(name: str, params: dict[str, Any], train: Any, test: Any) -> dict[str, Any]:
    import zoo

    info = zoo.model_info(name)
    model = zoo.create_model(name)
    known = model.get_params(deep=False)
    wanted = {"task": "classification", "random_state": 0, "device": "cpu", "verbose": False, **params}
    model.set_params(**{k: v for k, v in wanted.items() if k in known})
    load0 = loadavg()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train.X, train.y)
        fit_s = time.perf_counter() - start
        metrics = zoo.evaluate(model, test, "classification")
    res: dict[str, Any] = {"model": name, "family": info.family, "params": params, "train_s": fit_s,
                           "accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
                           "inference_ms_per_item": metrics["inference_ms_per_item"],
                           "n_train": len(train), "n_test": len(test), "loadavg_before": load0,
                           "loadavg_after": loadavg()}
    hist = getattr(model, "history_", None)
    if hist is not None:
        res.update({"epochs_run": hist.epochs_run, "stop_reason": hist.stop_reason,
                    "items_per_second": hist.items_per_second, "epoch_seconds": hist.epoch_seconds,
                    "val_metric": hist.val_metric, "best_epoch": hist.best_epoch})
    return res


def run_set(key: str, spec: dict[str, Any], save: bool) -> dict[str, Any] | None:
    import zoo

    path = Path(spec["path"])
    print(f"\n== {key}: {spec['title']} ==", flush=True)
    if not path.exists():
        print(f"skipped: {path} not found")
        out = {"skipped": f"{path} not found"}
        if save:
            save_results("quality", {key: out}, merge=True)
        return out
    ds = zoo.load_dataset(path, spec["modality"], task="classification", **spec["load"])
    train, test = zoo.split_dataset(ds, "classification", seed=0)
    n_classes = len(ds.classes)
    estimates, pick = _estimates(spec["modality"], len(train), n_classes)
    print(f"{len(ds):,} items, {n_classes} classes; train {len(train):,}, held-out test {len(test):,}; "
          f"advisor's pick for a matching descriptor: {pick}", flush=True)
    out: dict[str, Any] = {"title": spec["title"], "n": len(ds), "n_train": len(train), "n_test": len(test),
                           "n_classes": n_classes, "advisor_pick": pick, "runs": [],
                           "date": machine()["date"], "loadavg_before": loadavg()}
    for name, params in spec["models"]:
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        print(f"  {name}({shown}) ...", end=" ", flush=True)
        try:
            res = _run_one(name, params, train, test)
        except Exception as exc:  # noqa: BLE001 - one failing model must not lose the others' figures
            print(f"FAILED: {type(exc).__name__}: {exc}")
            out["runs"].append({"model": name, "params": params, "error": f"{type(exc).__name__}: {exc}"})
            continue
        est = estimates.get(res["family"])
        if est is not None:
            raw, passes = _model_seconds(res["family"], spec["modality"], len(train))
            epochs = res.get("epochs_run") or passes
            scaled = cpu_seconds(res["family"], spec["modality"], len(train), epochs if res["family"] == "deep"
                                  else None)
            res["estimate"] = {"approach": est.approach, "model": est.model, "train_minutes": est.train_minutes,
                               "model_seconds": raw, "assumed_passes": passes,
                               "model_seconds_for_epochs_run": scaled}
            res["ratio_measured_over_shown_estimate"] = res["train_s"] / (60.0 * est.train_minutes)
            res["ratio_measured_over_model_seconds"] = res["train_s"] / scaled if scaled > 0 else None
        print(f"accuracy {res['accuracy']:.3f}, train {res['train_s']:.1f} s", flush=True)
        out["runs"].append(res)
        if save:
            save_results("quality", {key: out}, merge=True)
    out["loadavg_after"] = loadavg()
    if save:
        save_results("quality", {key: out}, merge=True)
    rows = []
    for r in out["runs"]:
        if "error" in r:
            rows.append([r["model"], "-", None, None, None, None, None, None, r["error"][:60]])
            continue
        e = r.get("estimate", {})
        note = ""
        if "epochs_run" in r:
            note = f"{r['epochs_run']} epoch(s), {r['stop_reason']}, {r['items_per_second']:.0f} items/s train"
        rows.append([r["model"], r["family"], r["accuracy"], r["macro_f1"], r["train_s"],
                     r["inference_ms_per_item"], e.get("train_minutes"), r.get("ratio_measured_over_shown_estimate"),
                     note])
    print(table(rows, ["model", "family", "accuracy", "macro-F1", "train s", "infer ms/item", "est. min",
                       "measured/est.", "notes"]))
    return out


def print_estimates(results: dict[str, Any]) -> None:
    rows = []
    for key, res in results.items():
        for r in (res or {}).get("runs", []):
            if "estimate" not in r:
                continue
            e = r["estimate"]
            rows.append([key, r["model"], r["family"], "yes" if r["model"] == e.get("model") else "",
                         r["train_s"], 60.0 * e["train_minutes"], r["ratio_measured_over_shown_estimate"],
                         e["model_seconds_for_epochs_run"], r["ratio_measured_over_model_seconds"]])
    if rows:
        print("\n== advisor estimates vs measured train time (goal: within 2x, i.e. ratio 0.5-2) ==")
        print(table(rows, ["set", "model", "family", "estimated model", "measured s", "shown est. s",
                           "measured/shown", "model s (epochs run)", "measured/model"]))
        print("'estimated model': the model the advisor names for that family (its estimate is for that model)")


SETS = ("demo", "text", "tabular", "cats_dogs")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated subset of " + ",".join(SETS))
    parser.add_argument("--cats-dogs", type=Path, default=DEFAULT_CATS_DOGS,
                        help="cats-dogs ImageFolder (default: $ML_ADVISOR_CATS_DOGS or /work/shared/data/...)")
    parser.add_argument("--skip-text-finetune", action="store_true", help="leave out text_minilm_finetune")
    parser.add_argument("--no-save", action="store_true", help="do not write runs/benchmarks/results.json")
    args = parser.parse_args(argv)
    wanted = [s.strip() for s in args.sets.split(",") if s.strip()]
    bad = [s for s in wanted if s not in SETS]
    if bad:
        parser.error(f"unknown set(s) {bad}; choose from {SETS}")
    specs = _sets(args.cats_dogs, args.skip_text_finetune)
    start, load_before = time.perf_counter(), loadavg()
    results: dict[str, Any] = {}
    for key in wanted:
        results[key] = run_set(key, specs[key], save=not args.no_save)
    print_estimates(results)
    meta = machine()
    meta.update({"loadavg_before": load_before, "torch_threads": torch_threads(),
                 "wall_s": time.perf_counter() - start, "sets": wanted})
    print(f"\nload average before {load_before}, after {loadavg()}; {meta['wall_s']:.0f} s")
    if not args.no_save:
        save_results("quality", {"machine": meta}, merge=True)
    return {**results, "machine": meta}


if __name__ == "__main__":
    main()
