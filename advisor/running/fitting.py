"""The one path from a model name to a fitted zoo model, shared by `advisor train` and `advisor compare`.

:func:`check_model_serves` refuses a model that is not for the data's modality or the task (one line),
:func:`build_estimator` creates the zoo model with the settings it accepts, and :func:`fit_for_task` fits it
the way the task needs (anomaly detection learns from the inputs alone).
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = ["TrainError", "check_model_serves", "serves", "params_for", "build_estimator", "fit_for_task"]

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
