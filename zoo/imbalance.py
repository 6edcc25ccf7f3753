"""Imbalanced labels: the class balance, the positive class, class weights, and a tuned decision threshold.

A binary classifier's ``predict`` takes the class whose probability is highest (a threshold of 0.5). On data
where one class is rare that threshold is rarely right: the model can score a high accuracy by never naming
the rare class. :func:`tune_threshold` picks the threshold on out-of-fold probabilities of the *training*
split (stratified folds, never the held-out test) for the chosen metric; :func:`set_threshold` stores it on the
fitted model as ``decision_threshold_`` / ``positive_class_``, and every zoo classifier's ``predict`` honours it
(:func:`predict_labels`).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

__all__ = ["IMBALANCED_SHARE", "class_balance", "resolve_positive", "wants_class_weights", "set_threshold",
           "predict_labels", "tune_threshold"]

IMBALANCED_SHARE = 0.20         # binary: a class under this share makes the data "imbalanced" (k classes: 2/k of it)
THRESHOLD_METRICS = ("accuracy", "balanced_accuracy", "f1", "macro_f1")     # metrics a threshold changes
MAX_CANDIDATES = 200


def class_balance(y: Any) -> tuple[Any, float]:
    """(the rarest class, its share of ``y``); ties go to the later class in sorted order."""
    values, counts = np.unique(np.asarray(y), return_counts=True)
    i = len(counts) - 1 - int(np.argmin(counts[::-1]))
    return values[i], float(counts[i] / max(counts.sum(), 1))


def resolve_positive(y: Any, wanted: Optional[Any] = None) -> Any:
    """The label of ``y`` that counts as positive: ``wanted`` matched by its text (a descriptor holds text), else
    the rarest class. ValueError (one line) when ``wanted`` is not a class of ``y``."""
    values = np.unique(np.asarray(y))
    if wanted is None:
        return class_balance(y)[0]
    for v in values:
        if str(v) == str(wanted) or v == wanted:
            return v
    shown = ", ".join(str(v) for v in values[:10])
    raise ValueError(f"data.positive_class: {wanted!r} is not a class of the training labels ({shown})")


def wants_class_weights(y: Any) -> bool:
    """True when the rarest class falls short of its fair share by as much as a binary class under
    IMBALANCED_SHARE does: share < IMBALANCED_SHARE × 2 / k for k ≥ 2 classes (10 balanced classes of 10 %
    each are not imbalanced; one of them at 3 % is)."""
    k = len(np.unique(np.asarray(y)))
    return k >= 2 and class_balance(y)[1] < IMBALANCED_SHARE * 2 / k


def set_threshold(model: Any, threshold: Optional[float], positive: Any) -> Any:
    """Store a decision threshold on a fitted binary classifier (None removes it); returns the model."""
    model.decision_threshold_ = None if threshold is None else float(threshold)
    model.positive_class_ = positive
    return model


def predict_labels(model: Any, X: Any, predict: Callable[[Any], np.ndarray]) -> np.ndarray:
    """Labels at the model's ``decision_threshold_`` when it has one (the positive class when its probability
    reaches it), else ``predict(X)``, the model's own rule."""
    threshold = getattr(model, "decision_threshold_", None)
    if threshold is None:
        return predict(X)
    classes = np.asarray(model.classes_)
    pos = int(np.flatnonzero(classes == model.positive_class_)[0])
    proba = np.asarray(model.predict_proba(X))[:, pos]
    return np.where(proba >= threshold, classes[pos], classes[1 - pos])


def _score(metric: str, truth: np.ndarray, flagged: np.ndarray) -> float:
    from sklearn import metrics as m

    if metric == "accuracy":
        return float(m.accuracy_score(truth, flagged))
    if metric == "balanced_accuracy":
        return float(m.balanced_accuracy_score(truth, flagged))
    if metric == "macro_f1":
        return float(m.f1_score(truth, flagged, average="macro", labels=[0, 1], zero_division=0))
    return float(m.f1_score(truth, flagged, zero_division=0))


def best_threshold(truth: Any, proba: Any, metric: str) -> tuple[float, float]:
    """(threshold, score) maximising ``metric`` over cut points between the distinct probabilities; ties go to
    the threshold closest to 0.5."""
    truth, proba = np.asarray(truth).astype(int), np.asarray(proba, dtype=float)
    cuts = np.unique(proba)
    if len(cuts) > MAX_CANDIDATES:
        cuts = np.unique(np.quantile(proba, np.linspace(0, 1, MAX_CANDIDATES)))
    mids = np.concatenate([[0.5], (cuts[:-1] + cuts[1:]) / 2 if len(cuts) > 1 else cuts])
    scores = [_score(metric, truth, (proba >= t).astype(int)) for t in mids]
    top = max(scores)
    best = min((t for t, s in zip(mids, scores) if s >= top - 1e-12), key=lambda t: abs(t - 0.5))
    return float(best), float(top)


def tune_threshold(make: Callable[[], Any], data: Any, positive: Any, metric: str, *, seed: int = 0,
                   fit: Optional[Callable[[Any, Any], Any]] = None, n_splits: int = 3) -> dict[str, Any]:
    """The decision threshold maximising ``metric`` (f1 for a metric no threshold changes) on out-of-fold
    probabilities of ``data`` (a zoo Dataset: the training split): ``{"value", "metric", "score",
    "default_score", "folds", "tuned_on"}``. ``make`` builds a fresh unfitted model; ``fit(model, dataset)``
    fits it (default: ``model.fit(d.X, d.y)``)."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(data.y)
    target = metric if metric in THRESHOLD_METRICS else "f1"
    k = int(min(n_splits, np.unique(y, return_counts=True)[1].min()))
    if k < 2:
        raise ValueError("too few items of the positive class to tune a threshold on folds")
    oof = np.zeros(len(y))
    for tr, va in StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        model = make()
        (fit or (lambda est, d: est.fit(d.X, d.y)))(model, data.subset(tr))
        pos = int(np.flatnonzero(np.asarray(model.classes_) == positive)[0])
        oof[va] = np.asarray(model.predict_proba(data.subset(va).X))[:, pos]
    truth = (y == positive).astype(int)
    value, score = best_threshold(truth, oof, target)
    return {"value": value, "metric": target, "score": score, "folds": k,
            "default_score": _score(target, truth, (oof >= 0.5).astype(int)), "tuned_on": "training folds"}

