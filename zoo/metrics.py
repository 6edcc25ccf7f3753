"""Held-out evaluation per task: the numbers `metrics.json` and the report show."""

from __future__ import annotations

import time
from typing import Any, Optional

import numpy as np

from zoo.data import Dataset


LOWER_IS_BETTER = ("mae", "rmse", "mase", "smape")
STRATIFIED_DRAWS = 25       # the stratified baseline guesses at random: its scores are the mean of this many draws
DEFAULT_METRIC = {"classification": "macro_f1", "regression": "r2", "forecasting": "mase"}


def default_metric(task: str, y: Any = None) -> str:
    """The metric that decides when the descriptor names none: macro-F1, R², MASE; for binary labels whose
    rarer class is under zoo.imbalance.IMBALANCED_SHARE, balanced accuracy (the mean recall of the two classes:
    a model that never names the rare class scores 0.5, not its accuracy)."""
    from zoo.imbalance import wants_class_weights

    if task == "classification" and y is not None and len(np.unique(np.asarray(y))) == 2 and \
            wants_class_weights(y):
        return "balanced_accuracy"
    return DEFAULT_METRIC.get(task, "none")


def score(metric: str, y_true: Any, y_pred: Any, *, proba: Any = None, labels: Any = None,
          positive: Any = None) -> Optional[float]:
    """One held-out or fold number by name (zoo.metrics names). ``proba``: class probabilities, columns in
    ``labels`` order (roc_auc, pr_auc); ``positive``: the positive class (f1, pr_auc, binary roc_auc). f1 with
    more than two classes is macro-F1; roc_auc is macro one-vs-rest. None when it cannot be computed."""
    from sklearn import metrics as m

    y_true = np.asarray(y_true)
    if metric in ("mae", "rmse", "r2"):
        y_pred = np.asarray(y_pred, dtype=float)
        return {"mae": lambda: float(m.mean_absolute_error(y_true, y_pred)),
                "rmse": lambda: float(np.sqrt(m.mean_squared_error(y_true, y_pred))),
                "r2": lambda: float(m.r2_score(y_true, y_pred)) if len(y_true) > 1 else None}[metric]()
    labels = list(labels) if labels is not None else sorted(set(y_true.tolist()) | set(np.asarray(y_pred).tolist()),
                                                             key=str)
    binary = len(labels) == 2 and positive is not None
    if metric == "accuracy":
        return float(m.accuracy_score(y_true, y_pred))
    if metric == "balanced_accuracy":
        return float(m.balanced_accuracy_score(y_true, y_pred)) if len(set(y_true.tolist())) > 1 else None
    if metric == "macro_f1" or (metric == "f1" and not binary):
        return float(m.f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0))
    if metric == "f1":
        return float(m.f1_score(y_true == positive, np.asarray(y_pred) == positive, zero_division=0))
    if metric in ("roc_auc", "pr_auc") and proba is not None:
        return _ranking(metric, y_true, np.asarray(proba, dtype=float), labels, positive if binary else None)
    return None


def _ranking(metric: str, y_true: np.ndarray, proba: np.ndarray, labels: list[Any], positive: Any) -> Optional[float]:
    """ROC AUC (binary: of `positive`; else macro one-vs-rest over the classes present) or average precision."""
    from sklearn import metrics as m

    if positive is not None:
        truth = (y_true == positive).astype(int)
        if truth.min() == truth.max():
            return None
        col = proba[:, labels.index(positive)]
        return float(m.roc_auc_score(truth, col) if metric == "roc_auc" else m.average_precision_score(truth, col))
    if metric == "pr_auc":
        return None
    present = [i for i, c in enumerate(labels) if 0 < int(np.sum(y_true == c)) < len(y_true)]
    aucs = [m.roc_auc_score((y_true == labels[i]).astype(int), proba[:, i]) for i in present]
    return float(np.mean(aucs)) if aucs else None


def _timed(fn: Any, *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def _jsonable(labels: Any) -> list[Any]:
    return [x.item() if hasattr(x, "item") else x for x in labels]


def _finite(value: float) -> Any:
    return float(value) if np.isfinite(value) else None


def _forecast_scores(test: Dataset, y_pred: Any, train: Dataset, season: int) -> dict[str, Any]:
    from zoo.forecasting import mase, smape

    return {"mae": float(np.mean(np.abs(np.asarray(y_pred, dtype=float) - test.y))),
            "mase": _finite(mase(test.y, y_pred, train.y, season)), "smape": _finite(smape(test.y, y_pred))}


def _forecasting(model: Any, test: Dataset, train: Dataset | None) -> tuple[dict[str, Any], float]:
    """MAE, RMSE, R², and with the training series: MASE, sMAPE, its season, and the naive and seasonal-naive
    baselines fitted on it and scored on the same horizon."""
    from sklearn import metrics as m

    n = len(test)
    horizon = test.X if test.X is not None else n
    y_pred, seconds = _timed(model.predict, horizon)
    out: dict[str, Any] = {"mae": float(m.mean_absolute_error(test.y, y_pred)),
                           "rmse": float(np.sqrt(m.mean_squared_error(test.y, y_pred))),
                           "r2": float(m.r2_score(test.y, y_pred)) if n > 1 else None, "horizon": n}
    if train is not None:
        from zoo.forecasting import TsNaive, TsSeasonalNaive, season_length

        season = season_length(train.X, train.y)
        out.update({k: v for k, v in _forecast_scores(test, y_pred, train, season).items() if k != "mae"})
        out["season"] = season
        out["baselines"] = {
            name: _forecast_scores(test, base.fit(train.X, train.y).predict(horizon), train, season)
            for name, base in (("naive", TsNaive()), ("seasonal_naive", TsSeasonalNaive(season=season)))}
    return out, seconds


def evaluate(model: Any, test: Dataset, task: str, *, train: Dataset | None = None, positive: Any = None,
             metric: Optional[str] = None, seed: int = 0) -> dict[str, Any]:
    """Score a fitted zoo model on a held-out split; includes per-item inference time. For forecasting, pass the
    training split as `train` to get MASE, sMAPE and the naive / seasonal-naive baselines beside MAE; for
    classification and regression, `train` fits the majority / stratified or mean / median baselines scored on
    the same split. `positive`: a binary classifier's positive class (default: the rarer training class);
    `metric`: the headline number (default: :func:`default_metric`), compared with the best baseline."""
    from sklearn import metrics as m

    n = len(test)
    if task == "forecasting":
        out, seconds = _forecasting(model, test, train)
    elif task == "anomaly_detection":
        scores, seconds = _timed(model.score_samples, test.X)
        flagged = (np.asarray(model.predict(test.X)) == -1).astype(int)   # scikit-learn: -1 = outlier
        out = {"flagged_share": float(flagged.mean()), "n_test": n}
        if test.y is not None and len(set(test.y.tolist())) == 2:
            values, counts = np.unique(test.y, return_counts=True)
            anomaly = values[np.argmin(counts)]
            truth = (test.y == anomaly).astype(int)
            out.update({"anomaly_label": _jsonable([anomaly])[0], "roc_auc": float(m.roc_auc_score(truth, -scores)),
                        "f1_anomaly": float(m.f1_score(truth, flagged))})
    elif task == "regression":
        y_pred, seconds = _timed(model.predict, test.X)
        out = {k: score(k, test.y, y_pred) for k in ("mae", "rmse", "r2")}
    else:
        y_pred, seconds = _timed(model.predict, test.X)
        out = _classification(model, test, y_pred, train, positive)
    if train is not None and task in ("classification", "regression"):
        out["baselines"] = _baselines(train, test, task, out.get("labels"), out.get("positive_class"), seed)
    metric = metric or default_metric(task, None if train is None else train.y)
    if metric != "none":
        out["headline"] = _headline(out, metric)
    out["inference_ms_per_item"] = 1000.0 * seconds / max(n, 1)
    out["n_test"] = n
    return out


def _classification(model: Any, test: Dataset, y_pred: Any, train: Dataset | None, positive: Any) -> dict[str, Any]:
    """Accuracy, balanced accuracy, macro-F1, the per-class report and confusion matrix; binary: the positive
    class's F1 / precision / recall, ROC and precision-recall curves; multi-class: one-vs-rest ROC curves and
    their macro AUC."""
    from sklearn import metrics as m

    from zoo.imbalance import resolve_positive

    labels = list(getattr(model, "classes_", sorted(set(test.y.tolist()))))
    unseen = sorted(set(test.y.tolist()) - set(labels), key=str)
    out: dict[str, Any] = {
        "accuracy": score("accuracy", test.y, y_pred), "balanced_accuracy": score("balanced_accuracy", test.y, y_pred),
        "macro_f1": score("macro_f1", test.y, y_pred, labels=labels),
        "per_class": {str(k): v for k, v in m.classification_report(
            test.y, y_pred, labels=labels, output_dict=True, zero_division=0).items()},
        "confusion_matrix": m.confusion_matrix(test.y, y_pred, labels=labels).tolist(),
        "labels": _jsonable(labels), "unseen_test_labels": _jsonable(unseen)}
    proba = np.asarray(model.predict_proba(test.X)) if hasattr(model, "predict_proba") else None
    if len(labels) == 2:
        pos = positive if positive in labels else resolve_positive(train.y if train is not None else test.y)
        hit, said = np.asarray(test.y) == pos, np.asarray(y_pred) == pos
        out.update({"positive_class": _jsonable([pos])[0], "f1": score("f1", test.y, y_pred, labels=labels, positive=pos),
                    "precision": float(m.precision_score(hit, said, zero_division=0)),
                    "recall": float(m.recall_score(hit, said, zero_division=0))})
        if proba is not None and hit.any() and not hit.all():
            col = proba[:, labels.index(pos)]
            out["roc_auc"] = score("roc_auc", test.y, y_pred, proba=proba, labels=labels, positive=pos)
            out["pr_auc"] = score("pr_auc", test.y, y_pred, proba=proba, labels=labels, positive=pos)
            fpr, tpr, _ = m.roc_curve(hit.astype(int), col)
            out["roc_curve"] = {**_thin(fpr=fpr, tpr=tpr), "positive": out["positive_class"]}
            precision, recall, _ = m.precision_recall_curve(hit.astype(int), col)
            out["pr_curve"] = {**_thin(recall=recall, precision=precision), "positive": out["positive_class"],
                               "prevalence": round(float(hit.mean()), 4)}
    elif proba is not None:
        out["roc_auc"] = score("roc_auc", test.y, y_pred, proba=proba, labels=labels)
        out["roc_auc_average"] = "macro one-vs-rest"
        out["roc_curves"] = {}
        for i, c in enumerate(labels):
            hit = (np.asarray(test.y) == c).astype(int)
            if 0 < hit.sum() < len(hit):
                fpr, tpr, _ = m.roc_curve(hit, proba[:, i])
                out["roc_curves"][str(c)] = {**_thin(fpr=fpr, tpr=tpr), "positive": _jsonable([c])[0],
                                             "auc": float(m.roc_auc_score(hit, proba[:, i]))}
    return out


def _thin(**curves: np.ndarray) -> dict[str, list[float]]:
    """At most 50 points of parallel curves, rounded (the first and last kept)."""
    n = len(next(iter(curves.values())))
    keep = np.unique(np.linspace(0, n - 1, min(n, 50)).round().astype(int))
    return {k: [round(float(v), 4) for v in np.asarray(c)[keep]] for k, c in curves.items()}


def _baselines(train: Dataset, test: Dataset, task: str, labels: Any, positive: Any, seed: int) -> dict[str, Any]:
    """The inputs-blind references fitted on the training labels and scored on the same held-out split:
    majority class and stratified guessing (its expected score: the mean over STRATIFIED_DRAWS seeds) for
    classification, training mean and median for regression."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    blind_train, blind_test = np.zeros((len(train), 1)), np.zeros((len(test), 1))
    if task == "regression":
        made = {"mean": DummyRegressor(strategy="mean"), "median": DummyRegressor(strategy="median")}
        return {k: {name: score(name, test.y, b.fit(blind_train, train.y).predict(blind_test))
                    for name in ("mae", "rmse", "r2")} for k, b in made.items()}
    names = ("accuracy", "balanced_accuracy", "macro_f1", "f1", "roc_auc", "pr_auc")
    out = {}
    for key, strategy, draws in (("majority", "most_frequent", 1), ("stratified", "stratified", STRATIFIED_DRAWS)):
        runs = []
        for i in range(draws):
            base = DummyClassifier(strategy=strategy, random_state=seed + i).fit(blind_train, train.y)
            proba = _proba_in(base, blind_test, labels)
            runs.append({name: score(name, test.y, base.predict(blind_test), proba=proba, labels=labels,
                                     positive=positive) for name in names})
        out[key] = {name: _mean([r[name] for r in runs]) for name in names}
    return out


def _mean(values: list[Optional[float]]) -> Optional[float]:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def _proba_in(base: Any, X: np.ndarray, labels: Any) -> Optional[np.ndarray]:
    """A dummy's probabilities with columns in the model's `labels` order (classes it never saw: 0)."""
    if labels is None:
        return None
    proba = base.predict_proba(X)
    seen = [c.item() if hasattr(c, "item") else c for c in base.classes_]
    cols = [proba[:, seen.index(c)] if c in seen else np.zeros(len(X)) for c in labels]
    return np.column_stack(cols)


def _headline(out: dict[str, Any], metric: str) -> dict[str, Any]:
    """The deciding number, its best baseline (by the same number) and whether the model beats it."""
    value = out.get(metric) if metric != "f1" or "f1" in out else out.get("macro_f1")
    lower = metric in LOWER_IS_BETTER
    scored = {k: b.get(metric) for k, b in (out.get("baselines") or {}).items() if b.get(metric) is not None}
    head: dict[str, Any] = {"metric": metric, "value": value, "higher_is_better": not lower}
    if scored:
        best = (min if lower else max)(scored, key=lambda k: scored[k])
        head.update(baseline=best, baseline_value=scored[best])
        if value is not None:
            head["beats_baseline"] = bool(value < scored[best] if lower else value > scored[best])
    return head
