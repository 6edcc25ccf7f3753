"""`advisor train`: the advisor's pick, built from the zoo, trained on the user's data, saved as a run folder.

Uses only the zoo's public API (zoo.create_model, zoo.load_dataset, ...). The run folder holds the fitted model,
metrics.json, the descriptor and recommendation used, library versions and the seed; it is built in a temporary
sibling folder and renamed into place, so a failed or interrupted run never leaves a half-written folder.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

from advisor.atomic import write_text_atomic
from advisor.recommendation import Recommendation
from advisor.schema import ProjectDescriptor

TRAINABLE_MODALITIES = ("tabular", "image", "text", "time_series")


class TrainError(ValueError):
    """Training cannot start or finish; the message is one line."""


def check_trainable(desc: ProjectDescriptor, rec: Recommendation) -> None:
    """Refuse what the zoo cannot train yet, in one line."""
    modality, task = desc.data.modality.value, desc.task.value
    if task == "generation" or modality not in TRAINABLE_MODALITIES:
        what = "generation tasks" if task == "generation" else f"{modality} data"
        raise TrainError(f"the zoo does not train {what} yet (the advisor recommends {rec.approach} "
                         f"{rec.architecture}, model '{rec.model}'); supported: "
                         f"{', '.join(TRAINABLE_MODALITIES)} for classification, regression, anomaly detection, "
                         "forecasting")
    if not desc.data.path:
        raise TrainError("data.path: missing; say where the data is (in the descriptor or with --data)")


def _params_for(estimator: Any, wanted: dict[str, Any]) -> dict[str, Any]:
    known = estimator.get_params(deep=False)
    return {k: v for k, v in wanted.items() if k in known and v is not None}


def _jsonable(value: Any) -> Any:
    if is_dataclass(value):
        return asdict(value)
    return value


def train_run(desc: ProjectDescriptor, rec: Recommendation, *, out: Path, model_name: Optional[str] = None,
              device: Optional[str] = None, time_budget_minutes: Optional[float] = None, seed: int = 0,
              quiet: bool = False, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Train `model_name` (default: the recommendation's) on desc.data.path; write the run folder `out`."""
    import zoo

    check_trainable(desc, rec)
    name = model_name or rec.model
    task, modality = desc.task.value, desc.data.modality.value
    info = zoo.model_info(name)
    if info.modality != modality and not (modality == "time_series" and info.modality == "tabular"):
        raise TrainError(f"model '{name}' is for {info.modality} data, but data.modality is {modality}")
    if task not in info.tasks:
        raise TrainError(f"model '{name}' does not do {task} (it does: {', '.join(info.tasks)})")

    data = zoo.load_dataset(desc.data.path, modality, task=task, target=desc.data.target,
                            text_column=desc.data.text_column)
    for note in data.notes:
        echo(f"data: {note}")
    train, test = zoo.split_dataset(data, task, seed=seed)
    echo(f"data: {len(data):,} items from {data.source}; train {len(train):,}, held-out test {len(test):,}"
         + (f"; {len(data.classes)} classes" if task == "classification" else ""))

    budget = time_budget_minutes or desc.resources.time_budget_minutes
    estimator = zoo.create_model(name)
    estimator.set_params(**_params_for(estimator, {
        "task": task if task in ("classification", "regression") else None,
        "device": device, "time_budget_s": budget * 60 if budget else None, "random_state": seed,
        "weights_path": desc.resources.weights_path,
        "verbose": not quiet}))
    uses_torch = info.family in ("deep", "hybrid")
    if uses_torch:
        echo(f"device: {zoo.pick_device(device).reason}")
    else:
        echo("device: cpu (scikit-learn model; no accelerator needed)")
    echo(f"training {info.family} model '{name}' ...")
    start = time.perf_counter()
    if task == "anomaly_detection":
        estimator.fit(train.X)
    else:
        estimator.fit(train.X, train.y)
    train_seconds = time.perf_counter() - start
    metrics = zoo.evaluate(estimator, test, task)
    estimate = next((e for e in rec.estimates if e.approach == info.family), None)
    metrics.update({
        "model": name, "family": info.family, "task": task, "modality": modality,
        "train_seconds": train_seconds, "n_train": len(train), "n_test": len(test),
        "device": getattr(estimator, "device_", "cpu"), "seed": seed,
        "estimated_train_minutes": estimate.train_minutes if estimate else None,
        "history": _jsonable(getattr(estimator, "history_", None)) if uses_torch else None,
        "skipped_inputs": len(data.skipped),
    })
    explanation = _explain(estimator, name, info.family, test, task, seed, echo)
    _write_run(out, estimator, name, desc, rec, metrics, data.classes, modality, explanation)
    return metrics


def _explain(estimator: Any, name: str, family: str, test: Any, task: str, seed: int,
             echo: Callable[[str], None]) -> dict[str, Any]:
    """zoo.explain for the report; a failure is recorded, never raised."""
    try:
        from zoo.explain import explain

        result = explain(estimator, name, family, test, task, seed=seed)
        echo(f"explanations: {result.get('seconds', 0):.1f} s")
        return result
    except Exception as exc:  # noqa: BLE001 - explanations must never break training
        return {"error": f"{type(exc).__name__}: {str(exc).strip()[:300]}"}


def _write_run(out: Path, estimator: Any, name: str, desc: ProjectDescriptor, rec: Recommendation,
               metrics: dict[str, Any], classes: list[Any], modality: str,
               explanation: Optional[dict[str, Any]] = None) -> None:
    """Build the run folder beside `out`, then swap it in (never half-written)."""
    import zoo

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        zoo.save_model(estimator, staging, name=name, extra={"modality": modality, "task": desc.task.value,
                                                             "target": desc.data.target,
                                                             "text_column": desc.data.text_column})
        metrics["model_size_bytes"] = (staging / "model.joblib").stat().st_size
        write_text_atomic(staging / "metrics.json", json.dumps(metrics, indent=2, default=str))
        write_text_atomic(staging / "descriptor.yaml",
                          yaml.safe_dump(desc.model_dump(mode="json", exclude_none=True), sort_keys=False))
        write_text_atomic(staging / "recommendation.json", rec.model_dump_json(indent=2))
        if explanation is not None:
            write_text_atomic(staging / "explain.json", json.dumps(explanation, indent=1, default=str))
        write_text_atomic(staging / "run.json", json.dumps(
            {"seed": metrics["seed"], "versions": zoo.library_versions(), "classes": classes,
             "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2, default=str))
        backup = None
        if out.exists():
            backup = out.with_name(f".{out.name}.old")
            shutil.rmtree(backup, ignore_errors=True)
            out.rename(backup)
        staging.rename(out)
        if backup:
            shutil.rmtree(backup, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
