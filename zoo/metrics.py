"""Held-out evaluation per task: the numbers `metrics.json` and the report show."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from zoo.data import Dataset


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


def evaluate(model: Any, test: Dataset, task: str, *, train: Dataset | None = None) -> dict[str, Any]:
    """Score a fitted zoo model on a held-out split; includes per-item inference time. For forecasting, pass the
    training split as `train` to get MASE, sMAPE and the naive / seasonal-naive baselines beside MAE."""
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
        out = {"mae": float(m.mean_absolute_error(test.y, y_pred)),
               "rmse": float(np.sqrt(m.mean_squared_error(test.y, y_pred))),
               "r2": float(m.r2_score(test.y, y_pred))}
    else:
        y_pred, seconds = _timed(model.predict, test.X)
        labels = list(getattr(model, "classes_", sorted(set(test.y.tolist()))))
        unseen = sorted(set(test.y.tolist()) - set(labels), key=str)
        out = {"accuracy": float(m.accuracy_score(test.y, y_pred)),
               "macro_f1": float(m.f1_score(test.y, y_pred, average="macro", labels=labels, zero_division=0)),
               "per_class": {str(k): v for k, v in m.classification_report(
                   test.y, y_pred, labels=labels, output_dict=True, zero_division=0).items()},
               "confusion_matrix": m.confusion_matrix(test.y, y_pred, labels=labels).tolist(),
               "labels": _jsonable(labels),
               "unseen_test_labels": _jsonable(unseen)}
        if len(labels) == 2 and hasattr(model, "predict_proba"):
            proba = model.predict_proba(test.X)[:, 1]
            truth = (test.y == labels[1]).astype(int)
            out["roc_auc"] = float(m.roc_auc_score(truth, proba))
            fpr, tpr, _ = m.roc_curve(truth, proba)
            keep = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), 50)).round().astype(int))
            out["roc_curve"] = {"fpr": [round(float(v), 4) for v in fpr[keep]],
                                "tpr": [round(float(v), 4) for v in tpr[keep]], "positive": _jsonable([labels[1]])[0]}
    out["inference_ms_per_item"] = 1000.0 * seconds / max(n, 1)
    out["n_test"] = n
    return out
