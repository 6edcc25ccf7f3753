"""The one path from a model name to a fitted zoo model, shared by `advisor train` and `advisor compare`.

:func:`check_model_serves` refuses a model that is not for the data's modality or the task (one line),
:func:`build_estimator` creates the zoo model with the settings it accepts, and :func:`fit_for_task` fits it
the way the task needs (anomaly detection learns from the inputs alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

__all__ = ["TrainError", "check_model_serves", "serves", "params_for", "build_estimator", "fit_for_task", "Scoring",
           "scoring_for", "weigh_classes"]

SUPERVISED_TASKS = ("classification", "regression")     # the tasks a zoo model's own `task` parameter names


class TrainError(ValueError):
    """Training cannot start or finish; the message is one line."""


def _modalities(info: Any) -> tuple[str, ...]:
    return tuple(getattr(info, "modalities", None) or (info.modality,))


def serves(info: Any, modality: str, task: str) -> Optional[str]:
    """Why the model described by `info` (its catalogue record) cannot take `modality` data for `task`, or None."""
    mods = _modalities(info)
    if modality not in mods:
        return f"is for {', '.join(mods)} data, but data.modality is {modality}"
    if task not in info.tasks:
        return f"does not do {task} (it does: {', '.join(info.tasks)})"
    return None


def check_model_serves(name: str, modality: str, task: str) -> Any:
    """The zoo's description of model `name`; :class:`TrainError` (one line) when it is not for `modality`
    data or does not do `task`. An unknown name raises zoo.model_info's own error."""
    import zoo

    info = zoo.model_info(name)
    why = serves(info, modality, task)
    if why:
        raise TrainError(f"model '{name}' {why}")
    return info


def params_for(estimator: Any, wanted: dict[str, Any]) -> dict[str, Any]:
    """The settings in `wanted` that `estimator` has as parameters, leaving out those set to None."""
    known = estimator.get_params(deep=False)
    return {k: v for k, v in wanted.items() if k in known and v is not None}


def build_estimator(name: str, task: str, *, device: Optional[str] = None, time_budget_s: Optional[float] = None,
                    seed: Optional[int] = 0, weights_path: Any = None, verbose: bool = True) -> Any:
    """A fresh zoo model `name` set up for `task`; each setting is applied only where the model has it."""
    import zoo

    estimator = zoo.create_model(name)
    estimator.set_params(**params_for(estimator, {
        "task": task if task in SUPERVISED_TASKS else None, "device": device, "time_budget_s": time_budget_s,
        "random_state": seed, "weights_path": weights_path, "verbose": verbose}))
    return estimator


def fit_for_task(estimator: Any, data: Any, task: str) -> Any:
    """Fit `estimator` on a zoo dataset (`.X`, `.y`): on the inputs alone for anomaly detection."""
    if task == "anomaly_detection":
        estimator.fit(data.X)
    else:
        estimator.fit(data.X, data.y)
    return estimator


@dataclass(frozen=True)
class Scoring:
    """How a run is scored and balanced, settled from the descriptor and the training labels only."""

    metric: Optional[str]                   # the deciding metric (zoo.metrics names); None: not scored by one
    metric_source: str = "default"          # "descriptor" (needs.metric) | "default" | "default, imbalanced"
    positive: Any = None                    # binary classification: the positive class
    minority: Any = None                    # classification: the rarest class and its share of the labels
    minority_share: Optional[float] = None
    class_weight: Optional[str] = None      # "balanced" when the rarest class is under zoo.imbalance's share
    binary: bool = False

    @property
    def imbalanced(self) -> bool:
        return self.class_weight is not None

    def warning(self) -> Optional[str]:
        """One line for the CLI and the report when the labels are imbalanced, else None."""
        if not self.imbalanced:
            return None
        return (f"imbalanced data: class '{self.minority}' is {100 * (self.minority_share or 0):.1f} % of the "
                f"training labels; accuracy alone misleads here, so the run is judged by {self.metric}, with "
                "balanced class weights" + (" and a decision threshold tuned on the training folds"
                                            if self.binary else ""))


def scoring_for(desc: Any, train: Any) -> Scoring:
    """The metric (needs.metric, else zoo.metrics.default_metric of the training labels), the positive class
    (data.positive_class, else the rarest training class) and whether classes get balanced weights."""
    import numpy as np

    from zoo.imbalance import class_balance, resolve_positive, wants_class_weights
    from zoo.metrics import default_metric

    task = desc.task.value
    chosen = desc.needs.metric.value if desc.needs.metric is not None else None
    if task not in ("classification", "regression", "forecasting"):
        return Scoring(metric=None)
    default = default_metric(task, train.y if task == "classification" else None)
    source = "descriptor" if chosen else ("default, imbalanced" if default == "balanced_accuracy" else "default")
    if task != "classification":
        return Scoring(metric=chosen or default, metric_source=source)
    y = np.asarray(train.y)
    binary = len(np.unique(y)) == 2
    if chosen == "pr_auc" and not binary:
        raise TrainError(f"needs.metric: pr_auc needs two classes; the training labels have {len(np.unique(y))}")
    minority, share = class_balance(y)
    positive = resolve_positive(y, desc.data.positive_class) if binary else None
    if not binary and desc.data.positive_class is not None:
        raise TrainError("data.positive_class: only for binary classification; the training labels have "
                         f"{len(np.unique(y))} classes")
    return Scoring(metric=chosen or default, metric_source=source, positive=positive,
                   minority=minority.item() if hasattr(minority, "item") else minority, minority_share=share,
                   class_weight="balanced" if wants_class_weights(y) else None, binary=binary)


def weigh_classes(estimator: Any, scoring: Scoring) -> bool:
    """Set balanced class weights on `estimator` when the scoring asks for them and it has the parameter;
    True when set (zoo deep models have no class_weight: their loss is not reweighted)."""
    if scoring.class_weight is None or "class_weight" not in estimator.get_params(deep=False):
        return False
    estimator.set_params(class_weight=scoring.class_weight)
    return True
