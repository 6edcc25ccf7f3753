"""`advisor train`: the advisor's pick, built from the zoo, trained on the user's data, saved as a run folder.

Uses only the zoo's public API (zoo.create_model, zoo.load_dataset, ...). The run folder holds the fitted model,
metrics.json, the descriptor and recommendation used, library versions and the seed; it is built in a temporary
sibling folder and renamed into place, so a failed or interrupted run never leaves a half-written folder.

Interruptions: a deep model's training state is saved after every epoch in the hidden sibling
`.NAME.checkpoint/` (never inside the run folder, which holds a complete run or nothing). The next
`advisor train` with the same model and settings, data and seed resumes after the last complete epoch; anything
else (or `--fresh`) removes that checkpoint and starts clean, saying so. Classical and hybrid models are not
checkpointed: an interrupted run leaves nothing, and the next one starts clean.
"""

from __future__ import annotations

import json
import shutil
import time
from contextlib import nullcontext
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

from zoo.io import publish_folder, write_text_atomic
from advisor.deciding.recommendation import Recommendation
from advisor.deciding.schema import ProjectDescriptor
from advisor.records import Explanation, RunInfo, RunMetrics, dump_record
from advisor.running.checks import check_data
from advisor.running.fitting import (Scoring, TrainError, build_estimator, check_model_serves, fit_for_task,
                                     params_for, scoring_for, weigh_classes)
from advisor.running.outfolder import MARKERS, claim_out
from advisor.running.selection import choose_model
from zoo import distributed


class TrainInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during `train_run`; the one-line message says what was kept and what the next run does."""


def checkpoint_dir_for(out: Path) -> Path:
    """The hidden sibling folder holding an interrupted deep run's resumable state: `.NAME.checkpoint`."""
    out = Path(out)
    return out.parent / f".{out.name}.checkpoint"


FINGERPRINT_FILE = "fingerprint.json"
_UNTRACKED_PARAMS = ("verbose", "device", "time_budget_s")


def _data_stamp(path: Path) -> dict[str, Any]:
    """Cheap identity of the training data: resolved path, file count, total size, newest mtime."""
    path = Path(path).resolve()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
    stats = [p.stat() for p in files]
    return {"path": str(path), "files": len(stats), "bytes": sum(st.st_size for st in stats),
            "mtime_ns": max((st.st_mtime_ns for st in stats), default=0)}


def _fingerprint(desc: ProjectDescriptor, name: str, estimator: Any, seed: int, data: Any) -> dict[str, Any]:
    """What must match for a checkpoint to be resumed: model, its parameters, target columns, data, seed."""
    import joblib

    import zoo

    params = {k: repr(v) for k, v in sorted(estimator.get_params(deep=False).items()) if k not in _UNTRACKED_PARAMS}
    versions = zoo.library_versions()
    return {"model": name, "seed": seed, "task": desc.task.value, "modality": desc.data.modality.value,
            "target": desc.data.target, "text_column": desc.data.text_column, "params": params,
            "data": _data_stamp(Path(desc.data.path)) if desc.data.path else
            {"in_memory": joblib.hash((data.X, data.y))},       # advisor.fit's table: its contents
            "versions": {k: versions.get(k) for k in ("ml-advisor", "torch")}}


def _state_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("state-*.pt"))


def _prepare_checkpoints(folder: Path, fingerprint: Optional[dict[str, Any]], fresh: bool,
                         echo: Callable[[str], None]) -> None:
    """Keep a matching checkpoint (announcing the resume), remove any other, make the folder for a deep model."""
    if folder.exists():
        try:
            saved = json.loads((folder / FINGERPRINT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = None
        keep = not fresh and fingerprint is not None and saved == fingerprint and bool(_state_files(folder))
        if keep:
            echo(f"checkpoint: resuming the interrupted run from {folder} (--fresh starts over)")
            return
        if _state_files(folder):
            why = "--fresh" if fresh else "it is from a different model, model settings, data or seed"
            echo(f"checkpoint: removed {folder} ({why}); starting clean")
        shutil.rmtree(folder)
    if fingerprint is not None:
        folder.mkdir(parents=True)
        write_text_atomic(folder / FINGERPRINT_FILE, json.dumps(fingerprint, indent=2))


def _interrupted(out: Path, folder: Path) -> str:
    """The one-line account of an interrupted run (and removal of a checkpoint folder with nothing in it)."""
    kept = f"{out} left as it was" if out.exists() else f"{out} not written"
    states = _state_files(folder) if folder.is_dir() else []
    if not states:
        shutil.rmtree(folder, ignore_errors=True)
        return f"{kept}; no complete epoch to resume from, the next run starts clean"
    epoch = "?"
    try:
        import torch

        epoch = str(torch.load(states[-1], map_location="cpu", weights_only=True, mmap=True)["epoch"])
    except Exception:  # noqa: BLE001 - the message must come out whatever the file holds
        pass
    return (f"{kept}; the last complete checkpoint (epoch {epoch}) is kept in {folder}: the same command "
            "resumes from it, --fresh starts over")


def check_trainable(desc: ProjectDescriptor, rec: Recommendation, model_name: Optional[str] = None, *,
                    dataset: Any = None) -> None:
    """Refuse up front, in one line, what the zoo cannot train (the recommendation's own words) or has no data for
    (no data.path and no `dataset` in memory)."""
    if model_name is None and rec.model is None:
        raise TrainError(f"{rec.model_note}; to train another zoo model: --model NAME (see `advisor models`)")
    if not desc.data.path and dataset is None:
        raise TrainError("data.path: missing; say where the data is (in the descriptor or with --data)")


def _jsonable(value: Any) -> Any:
    if is_dataclass(value):
        return asdict(value)
    return value


def train_run(desc: ProjectDescriptor, rec: Recommendation, *, out: Path, model_name: Optional[str] = None,
              device: Optional[str] = None, time_budget_minutes: Optional[float] = None, seed: int = 0,
              quiet: bool = False, fresh: bool = False, select: bool = True,
              echo: Callable[[str], None] = print, dataset: Any = None,
              refit_full: bool = False) -> dict[str, Any]:
    """Train `model_name` (default: the measured choice, see advisor.running.selection, or the recommendation's
    own pick with `select=False`) on desc.data.path, or on `dataset` (a zoo Dataset already in memory, e.g.
    from zoo.table_dataset); write the run folder `out`.

    A deep model resumes from a matching checkpoint left by an interrupted run (`fresh=True`: start over);
    Ctrl-C raises :class:`TrainInterrupted` saying what was kept. `refit_full=True`: after the held-out split is
    scored, the chosen model (same settings) is refit on all the data and saved; metrics.json keeps the held-out
    scores of the model fit on the training split and records the refit (`refit_full`, `n_refit`).
    """
    out = Path(out)
    folder = checkpoint_dir_for(out)
    try:
        return _train_run(desc, rec, out=out, model_name=model_name, device=device,
                          time_budget_minutes=time_budget_minutes, seed=seed, quiet=quiet, fresh=fresh,
                          select=select, echo=echo, dataset=dataset, refit_full=refit_full)
    except KeyboardInterrupt:
        raise TrainInterrupted(_interrupted(out, folder)) from None
    except BaseException:
        if folder.is_dir() and not _state_files(folder):
            shutil.rmtree(folder, ignore_errors=True)       # no epoch finished: nothing worth keeping
        raise


def _train_run(desc: ProjectDescriptor, rec: Recommendation, *, out: Path, model_name: Optional[str],
               device: Optional[str], time_budget_minutes: Optional[float], seed: int, quiet: bool, fresh: bool,
               select: bool, echo: Callable[[str], None], dataset: Any = None,
               refit_full: bool = False) -> dict[str, Any]:
    from zoo.devices import small_fit_threads
    from zoo.memo import feature_memo

    check_trainable(desc, rec, model_name, dataset=dataset)
    if refit_full and distributed.active():
        raise TrainError("--refit-full is for one process; drop --launcher torchrun or --refit-full")
    claim_out(out, "train", echo)
    name = model_name or rec.model
    assert name is not None
    task, modality = desc.task.value, desc.data.modality.value
    info = check_model_serves(name, modality, task)

    data, train, test = _load_and_split(desc, task, modality, seed, echo, dataset)
    budget = time_budget_minutes or desc.resources.time_budget_minutes
    if task == "generation":
        from advisor.running.generating import train_generation

        if refit_full or distributed.active():
            raise TrainError("generation trains in one process on the training split: drop "
                             + ("--refit-full" if refit_full else "--launcher torchrun"))

        return train_generation(desc, rec, out=out, name=name, info=info, train=train, test=test, device=device,
                                budget_minutes=budget, seed=seed, quiet=quiet, echo=echo)
    checks = check_data(train, task, modality, seed=seed, echo=echo)      # tabular: the column table, drops, leaks
    scoring = _scoring(desc, train, echo)
    with feature_memo():                        # features computed while selecting are reused by the final fit
        measure = select and not model_name and not distributed.active()      # torchrun: the rules' pick as is
        horizon = len(test) if task == "forecasting" else None      # backtests forecast as far as the test does
        choice = _choose(desc, rec, train, budget, seed, device, echo, horizon, scoring) if measure else None
        if choice is not None:
            name = choice.model
            info = check_model_serves(name, modality, task)
        estimator = build_estimator(name, task, device=device, time_budget_s=budget * 60 if budget else None,
                                    seed=seed, weights_path=desc.resources.weights_path, verbose=not quiet)
        weigh_classes(estimator, scoring)
        estimator.set_params(**(choice.params if choice else {}))
        small = info.family == "classical" and modality in ("tabular", "time_series")
        with small_fit_threads(len(train)) if small else nullcontext():
            return _fit_and_write(desc, rec, out, name, info, estimator, data, train, test, choice,
                                  device=device, seed=seed, fresh=fresh, echo=echo, checks=checks,
                                  refit_full=refit_full, scoring=scoring)


def measure_choice(desc: ProjectDescriptor, rec: Recommendation, *, seed: int = 0,
                   time_budget_minutes: Optional[float] = None, device: Optional[str] = None,
                   echo: Callable[[str], None] = print, dataset: Any = None) -> tuple[Recommendation, Any]:
    """What `advisor train` would measure before training, without training: the recommendation with the
    measured trace entries added, and the Choice (None when the task is not measured). Training split only."""
    check_trainable(desc, rec, dataset=dataset)
    _, train, test = _load_and_split(desc, desc.task.value, desc.data.modality.value, seed, echo, dataset)
    budget = time_budget_minutes or desc.resources.time_budget_minutes
    horizon = len(test) if desc.task.value == "forecasting" else None
    choice = _choose(desc, rec, train, budget, seed, device, echo, horizon, _scoring(desc, train, echo))
    if choice is not None:
        rec = rec.model_copy(update={"trace": rec.trace + choice.trace})
    return rec, choice


def _choose(desc: ProjectDescriptor, rec: Recommendation, train: Any, budget: Optional[float], seed: int,
            device: Optional[str], echo: Callable[[str], None], horizon: Optional[int] = None,
            scoring: Optional[Scoring] = None) -> Any:
    """The measured choice (probe, candidates, search) on the training split, announced in one line."""
    choice = choose_model(desc, rec, train, budget_s=budget * 60 if budget else None, seed=seed, device=device,
                          horizon=horizon, echo=echo, scoring=scoring)
    if choice is None:
        return None
    best = next((r for r in reversed(choice.leaderboard) if r["model"] == choice.model and r["mean"] is not None),
                None) or next((r for r in choice.probe if r["model"] == choice.model), None)
    score = f" ({best['mean']:.3f} ± {best['std'] or 0:.3f} {choice.metric}, {choice.folds})" if best and \
        best["mean"] is not None else ""
    said = "the rules' pick" if choice.model == rec.model else f"over the rules' {rec.model}"
    echo(f"selection: {choice.model}{score}, {said}; measured in {choice.seconds:.1f} s on the training split")
    return choice


def _fit_and_write(desc: ProjectDescriptor, rec: Recommendation, out: Path, name: str, info: Any, estimator: Any,
                   data: Any, train: Any, test: Any, choice: Any, *, device: Optional[str], seed: int, fresh: bool,
                   echo: Callable[[str], None], checks: Any = None, refit_full: bool = False,
                   scoring: Optional[Scoring] = None) -> dict[str, Any]:
    """Fit the chosen model on the whole training split, score the held-out split once, write the run folder."""
    import zoo
    from zoo.devices import announce_device
    from zoo.training import checkpointing

    task, modality = desc.task.value, desc.data.modality.value
    uses_torch = info.family in ("deep", "hybrid")
    if uses_torch:
        announce_device(zoo.pick_device(device), echo)
    else:
        echo("device: cpu (scikit-learn model; no accelerator needed)")
    folder = checkpoint_dir_for(out)
    fingerprint = _fingerprint(desc, name, estimator, seed, data) if info.family == "deep" else None
    ddp = _join_processes(info.family, name, device, echo)
    if distributed.is_main():
        _prepare_checkpoints(folder, fingerprint, fresh, echo)
    if ddp:
        distributed.barrier()                   # every process sees the checkpoint folder rank 0 prepared
    echo(f"training {info.family} model '{name}' ...")
    start = time.perf_counter()
    with checkpointing(folder) if fingerprint is not None else nullcontext() as session:
        fit_for_task(estimator, train, task)
    if session is not None and session.resumed:
        echo(f"checkpoint: resumed after epoch {session.resumed[-1]} of the interrupted run")
    train_seconds = time.perf_counter() - start
    if ddp:
        distributed.finish()                    # training is over for every process
    if not distributed.is_main():
        return {}                               # rank 0 evaluates and writes the run folder
    scoring = scoring or Scoring(metric=None)
    threshold = _tune_threshold(estimator, info.family, train, task, scoring, seed, echo)
    metrics = zoo.evaluate(estimator, test, task, train=train, positive=scoring.positive, metric=scoring.metric,
                           seed=seed)
    estimate = next((e for e in rec.estimates if e.approach == info.family), None)
    metrics.update({
        "model": name, "family": info.family, "task": task, "modality": modality,
        "train_seconds": train_seconds, "n_train": len(train), "n_test": len(test),
        "device": getattr(estimator, "device_", "cpu"), "seed": seed,
        "estimated_train_minutes": estimate.train_minutes if estimate else None,
        "history": _jsonable(getattr(estimator, "history_", None)) if uses_torch else None,
        "skipped_inputs": len(data.skipped),
        "resumed_after_epoch": session.resumed[-1] if session is not None and session.resumed else None,
        "processes": distributed.world()[1],
        "selection": choice.record() if choice is not None else None,
        **_balance_record(estimator, info.family, scoring, threshold),
    })
    if choice is not None:
        rec = rec.model_copy(update={"trace": rec.trace + choice.trace})
    background = _shap_background(train, modality, task, seed)
    explanation = _explain(estimator, name, info.family, test, task, seed, echo, background)
    if refit_full:
        estimator = _refit_full(estimator, data, task, echo, threshold=threshold, positive=scoring.positive)
        metrics.update({"refit_full": True, "n_refit": len(data)})
    _write_run(out, estimator, name, desc, rec, metrics, data.classes, modality, explanation, checks=checks,
               background=background)
    shutil.rmtree(folder, ignore_errors=True)
    return metrics


def _refit_full(estimator: Any, data: Any, task: str, echo: Callable[[str], None], *,
                threshold: Optional[dict[str, Any]] = None, positive: Any = None) -> Any:
    """A fresh copy of `estimator` (same settings) fit on all of `data` (train + held-out test; for forecasting
    the whole series). A deep model trains for the epochs its split fit chose (its best epoch), with no
    validation split and no early stopping. A decision threshold tuned on the training split is kept."""
    from sklearn.base import clone

    refit = clone(estimator)
    history = getattr(estimator, "history_", None)
    if history is not None and getattr(history, "epochs_run", 0):
        epochs = history.best_epoch or history.epochs_run
        refit.set_params(**params_for(refit, {"epochs": epochs, "val_fraction": 0.0}))
        if "patience" in refit.get_params(deep=False):
            refit.set_params(patience=None)
    echo(f"refit: fitting the same model on all {len(data):,} items (train + held-out test) ...")
    start = time.perf_counter()
    fit_for_task(refit, data, task)
    if threshold and threshold.get("value") is not None:
        from zoo.imbalance import set_threshold

        set_threshold(refit, threshold["value"], positive)
    echo(f"refit: done in {time.perf_counter() - start:.1f} s; the held-out scores are those of the model fit "
         "on the training split")
    return refit


def _scoring(desc: ProjectDescriptor, train: Any, echo: Callable[[str], None]) -> Scoring:
    """The run's metric, positive class and class weights (training labels only); the imbalance warning."""
    scoring = scoring_for(desc, train)
    if scoring.warning():
        echo(f"warning: {scoring.warning()}")
    return scoring


def _tune_threshold(estimator: Any, family: str, train: Any, task: str, scoring: Scoring, seed: int,
                    echo: Callable[[str], None]) -> dict[str, Any]:
    """A binary classifier's decision threshold, tuned on out-of-fold probabilities of the training split for
    the run's metric and stored on the fitted model (zoo.imbalance); what was done, or why not."""
    from sklearn.base import clone

    from zoo.imbalance import set_threshold, tune_threshold

    if task != "classification" or not scoring.binary:
        return {}
    if not hasattr(estimator, "predict_proba"):
        return {"value": None, "skipped": "the model gives no probabilities"}
    if family == "deep":
        return {"value": None, "skipped": "deep models are not refitted on folds to tune it (cost); 0.5 kept"}
    try:
        quiet = {"verbose": False} if "verbose" in estimator.get_params(deep=False) else {}
        tuned = tune_threshold(lambda: clone(estimator).set_params(**quiet), train, scoring.positive,
                               scoring.metric or "f1", seed=seed, fit=lambda est, d: fit_for_task(est, d, task))
    except ValueError as exc:
        return {"value": None, "skipped": str(exc)}
    set_threshold(estimator, tuned["value"], scoring.positive)
    echo(f"threshold: {tuned['value']:.4f} for '{scoring.positive}' ({tuned['metric']} {tuned['score']:.3f} on "
         f"{tuned['folds']} training folds, {tuned['default_score']:.3f} at 0.5)")
    return tuned


def _balance_record(estimator: Any, family: str, scoring: Scoring, threshold: dict[str, Any]) -> dict[str, Any]:
    """metrics.json's account of the imbalance handling: the balance, class weights, threshold, metric."""
    if scoring.metric is None:
        return {}
    out: dict[str, Any] = {"metric_source": scoring.metric_source}
    if scoring.minority is not None:
        weight = estimator.get_params(deep=False).get("class_weight", "absent")
        note = ("balanced class weights (the rarest class is under 20 %)" if weight == "balanced" else
                "no class weights: the model has no class_weight setting (a deep model's loss is not reweighted)"
                if weight == "absent" and scoring.imbalanced else "no class weights")
        out["balance"] = {"minority": scoring.minority, "minority_share": scoring.minority_share,
                          "imbalanced": scoring.imbalanced, "class_weight": None if weight == "absent" else weight,
                          "note": note, "warning": scoring.warning()}
    if threshold:
        out["threshold"] = threshold
    return out


def _load_and_split(desc: ProjectDescriptor, task: str, modality: str, seed: int, echo: Callable[[str], None],
                    dataset: Any = None) -> tuple[Any, Any, Any]:
    """The data (`dataset`, else loaded from data.path), and its train / held-out test split (the test part is
    only scored, once, at the end)."""
    import zoo

    data = dataset if dataset is not None else zoo.load_dataset(
        desc.data.path, modality, task=task, target=desc.data.target, text_column=desc.data.text_column,
        fill=desc.data.fill.value)
    for note in data.notes:
        echo(f"data: {note}")
    train, test = zoo.split_dataset(data, task, seed=seed, horizon=desc.data.horizon)
    echo(f"data: {len(data):,} items from {data.source}; train {len(train):,}, held-out test {len(test):,}"
         + (f"; {len(data.classes)} classes" if task == "classification" else ""))
    return data, train, test


def _join_processes(family: str, name: str, device: Optional[str], echo: Callable[[str], None]) -> bool:
    """Under torchrun, join the process group (deep models only); False when this is a single process."""
    import zoo

    if not distributed.active():
        return False
    if family != "deep":
        raise TrainError(f"torchrun data-parallel training is for deep models; '{name}' is {family} "
                         "(train it with one process)")
    distributed.init(zoo.pick_device(device).device)
    echo(f"distributed: rank {distributed.world()[0]} of {distributed.world()[1]} ({distributed.backend()})")
    return True


def _shap_background(train: Any, modality: str, task: str, seed: int) -> Any:
    """A sample of the training rows, kept in the run folder as the SHAP explainers' reference (tables only)."""
    if modality != "tabular" or task not in ("classification", "regression") or not hasattr(train.X, "iloc"):
        return None
    from zoo.attributions import background_sample

    return background_sample(train.X, seed=seed)


def _explain(estimator: Any, name: str, family: str, test: Any, task: str, seed: int,
             echo: Callable[[str], None], background: Any = None) -> dict[str, Any]:
    """zoo.explain for the report; a failure is recorded, never raised."""
    try:
        from zoo.explain import explain

        result = explain(estimator, name, family, test, task, seed=seed, background=background)
        echo(f"explanations: {result.get('seconds', 0):.1f} s")
        return result
    except Exception as exc:  # noqa: BLE001 - explanations must never break training
        return {"error": f"{type(exc).__name__}: {str(exc).strip()[:300]}"}


def _backbone(name: str) -> dict[str, Any]:
    """A hybrid's frozen network: it is loaded from its package at predict time, so model.joblib leaves it out."""
    from zoo import catalogue
    from zoo.weights import weights_bytes

    entry = catalogue.entry(name)
    if entry is None or entry.family != "hybrid" or not entry.pretrained:
        return {}
    return {"backbone": entry.pretrained, "backbone_size_bytes": weights_bytes(entry.pretrained)}


def _write_run(out: Path, estimator: Any, name: str, desc: ProjectDescriptor, rec: Recommendation,
               metrics: dict[str, Any], classes: list[Any], modality: str,
               explanation: Optional[dict[str, Any]] = None, *, checks: Any = None, background: Any = None) -> None:
    """Build the run folder aside, then swap it in whole (zoo.io.publish_folder: never half-written)."""
    import zoo

    def build(staging: Path) -> None:
        zoo.save_model(estimator, staging, name=name, extra={"modality": modality, "task": desc.task.value,
                                                             "target": desc.data.target,
                                                             "text_column": desc.data.text_column})
        metrics["model_size_bytes"] = (staging / "model.joblib").stat().st_size
        metrics.update(_backbone(name))
        record = RunMetrics.model_validate(json.loads(json.dumps(metrics, default=str)))
        write_text_atomic(staging / "metrics.json", dump_record(record))
        write_text_atomic(staging / "descriptor.yaml",
                          yaml.safe_dump(desc.model_dump(mode="json", exclude_none=True), sort_keys=False))
        write_text_atomic(staging / "recommendation.json", rec.model_dump_json(indent=2))
        if explanation is not None:
            explained = Explanation.model_validate(json.loads(json.dumps(explanation, default=str)))
            write_text_atomic(staging / "explain.json", dump_record(explained, indent=1))
        if checks is not None:
            write_text_atomic(staging / "data_checks.json", dump_record(checks))
        if background is not None:
            from zoo.attributions import save_background

            save_background(background, staging)
        info = RunInfo(seed=metrics["seed"], versions=zoo.library_versions(),
                       classes=json.loads(json.dumps(list(classes or []), default=str)),
                       finished=time.strftime("%Y-%m-%dT%H:%M:%S"))
        write_text_atomic(staging / MARKERS["train"], dump_record(info))     # last: it marks the folder ours

    publish_folder(Path(out), build)
