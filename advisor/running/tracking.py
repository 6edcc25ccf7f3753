"""MLflow tracking of a finished run folder: `advisor train/compare --mlflow`.

Everything logged is read back from the run folder's records (advisor.records), never threaded through
training. Store: $MLFLOW_TRACKING_URI when set, else `sqlite:///mlruns.db` in the current folder (MLflow 3.x
refuses the `./mlruns` file store unless MLFLOW_ALLOW_FILE_STORE is set). Experiment: the project's name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Optional

from advisor.records import read_record

DEFAULT_URI = "sqlite:///mlruns.db"
INSTALL_HINT = "--mlflow needs MLflow: pip install 'ml-advisor[tracking]'"


class TrackingError(RuntimeError):
    """MLflow is missing or the store cannot be written; one line."""


def wanted(flag: Optional[bool]) -> bool:
    """--mlflow / --no-mlflow, else on when MLFLOW_TRACKING_URI is set."""
    return bool(os.environ.get("MLFLOW_TRACKING_URI")) if flag is None else flag


def check_ready(flag: Optional[bool]) -> bool:
    """Before any training: whether to track, and if so that MLflow is installed (else TrackingError, at once,
    not after the run). Finds the package without importing it."""
    import importlib.util

    if not wanted(flag):
        return False
    if importlib.util.find_spec("mlflow") is None:
        raise TrackingError(INSTALL_HINT)
    return True


def _mlflow() -> Any:
    try:
        import mlflow
    except ImportError:
        raise TrackingError(INSTALL_HINT) from None
    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI)
    return mlflow


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested mappings as dotted keys (`data.modality`), values as short strings."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: str(value)[:500]} if value is not None and prefix else {}


def numbers(mapping: dict[str, Any]) -> dict[str, float]:
    """The top-level numeric entries (no bools, no nested records)."""
    return {k: float(v) for k, v in mapping.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _log_history(mlflow: Any, history: Optional[dict[str, Any]]) -> None:
    for key in ("train_loss", "val_loss", "val_metric", "lr", "epoch_seconds"):
        for step, value in enumerate((history or {}).get(key) or [], start=1):
            if value is not None:
                mlflow.log_metric(f"history.{key}", float(value), step=step)


def _log_model(mlflow: Any, folder: Path) -> str:
    """The model through the sklearn flavour (cloudpickle); the outcome in words. The folder is this user's own
    signed run (just written), loaded through zoo.persist's trust check like any other."""
    import mlflow.sklearn

    import zoo

    try:
        mlflow.sklearn.log_model(zoo.load_model(folder), name="model",
                                 serialization_format="cloudpickle")
    except Exception as exc:  # noqa: BLE001 - an unpicklable model: the run folder is logged anyway
        mlflow.set_tag("advisor.model_logged", "no")
        return f"model not logged as an MLflow model ({type(exc).__name__}); it is in the run folder artifact"
    return "model logged (sklearn flavour)"


def _common(mlflow: Any, folder: Path) -> None:
    desc = read_record(folder, "descriptor")
    rec = read_record(folder, "recommendation")
    if desc is not None:
        mlflow.log_params(flatten(desc.model_dump(mode="json")))
    if rec is not None:
        mlflow.set_tags({"advisor.approach": str(getattr(rec.approach, "value", rec.approach)),
                         "advisor.architecture": rec.architecture,
                         "advisor.model": str(rec.model), "advisor.confidence": str(rec.confidence),
                         "advisor.rules": ",".join(t.id for t in rec.trace)})


def log_train(folder: Path, render: Callable[[Path], Path], echo: Callable[[str], None] = print) -> str:
    """Log a finished `advisor train` folder as one MLflow run; returns the run id."""
    mlflow = _mlflow()
    folder = Path(folder)
    metrics = read_record(folder, "metrics")
    data = metrics.model_dump(mode="json") if metrics is not None else {}
    mlflow.set_experiment(_name(folder))
    with mlflow.start_run(run_name=folder.name) as run:
        _common(mlflow, folder)
        mlflow.log_metrics(numbers(data))
        _log_history(mlflow, data.get("history"))
        report = folder / "report.html"
        mlflow.log_artifact(str(report if report.is_file() else render(folder)))
        mlflow.log_artifacts(str(folder), artifact_path="run")
        echo(f"mlflow: {_log_model(mlflow, folder)}")
    echo(f"mlflow: run {run.info.run_id} in {mlflow.get_tracking_uri()}")
    return run.info.run_id


def log_compare(folder: Path, echo: Callable[[str], None] = print) -> str:
    """Log a finished `advisor compare` folder: a parent run, one nested run per (family, size, seed)."""
    mlflow = _mlflow()
    folder = Path(folder)
    result = read_record(folder, "compare")
    mlflow.set_experiment(_name(folder))
    with mlflow.start_run(run_name=folder.name) as parent:
        _common(mlflow, folder)
        mlflow.set_tag("advisor.kind", "compare")
        for file in ("report.html",):
            if (folder / file).is_file():
                mlflow.log_artifact(str(folder / file))
        mlflow.log_artifacts(str(folder), artifact_path="run")
        for row in (result.runs if result is not None else []):
            with mlflow.start_run(run_name=f"{row.family}-{row.size:g}-seed{row.seed}", nested=True):
                mlflow.log_params({"family": row.family, "model": row.model, "size": row.size,
                                   "seed": row.seed, "n_train": row.n_train})
                mlflow.log_metrics(numbers(row.model_dump(mode="json")))
    echo(f"mlflow: run {parent.info.run_id} in {mlflow.get_tracking_uri()}")
    return parent.info.run_id


def _name(folder: Path) -> str:
    desc = read_record(folder, "descriptor")
    return desc.name if desc is not None else folder.name
