"""Per-row SHAP contributions for `advisor predict --explain` (tabular runs).

Tree models (gradient boosting, random forest, extra trees, decision tree) use shap.TreeExplainer in its
tree-path-dependent mode and linear ones shap.LinearExplainer: both read what they need from the fitted model,
so prediction needs no training data. Contributions are computed on the model's own preprocessed features
(``feature_names_out_``) and summed back onto the input columns they came from (SHAP values add up, so the sum
is the column's contribution). Other models (SVM, MLP, hybrid heads) would need a background sample of the
training data, which a run folder does not keep: they get one clear line (:class:`UnsupportedExplanation`).
shap is imported only inside the functions here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

TOP = 3                  # contributions listed per row
BATCH = 256              # rows explained per call
SECONDS = 5.0            # time limit over all batches; rows after it are skipped (and counted)
TREE_MODELS = ("TabularGradientBoosting", "TabularRandomForest", "TabularExtraTrees", "TabularDecisionTree")


class UnsupportedExplanation(ValueError):
    """--explain asked of a model it cannot explain without training data."""


@dataclass
class RowAttributions:
    """SHAP contributions per input column for each explained row, towards that row's predicted class (or
    the predicted value). ``expected``: the explainer's base value per row; ``raw``: the model output they
    add up to (log-odds for boosting / logistic models, probability for forests and trees, the value for
    regression); ``skipped``: rows not explained within the time limit."""

    columns: list[str]
    contributions: np.ndarray            # (n_explained, n_columns)
    expected: np.ndarray                 # (n_explained,)
    output: str
    skipped: int = 0
    values: list[dict[str, Any]] = field(default_factory=list)

    def top(self, i: int, k: int = TOP) -> list[dict[str, Any]]:
        """Row i's `k` largest contributions by size: {"feature", "value", "contribution"}."""
        row = self.contributions[i]
        order = [j for j in np.argsort(-np.abs(row), kind="stable") if abs(row[j]) > 0][:k]
        return [{"feature": self.columns[j], "value": _plain(self.values[i].get(self.columns[j])),
                 "contribution": float(row[j])} for j in order]


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and value != value else value


def supported(model: Any) -> bool:
    return type(model).__name__ in TREE_MODELS and hasattr(model, "transform_features")


def check_supported(model: Any) -> None:
    """One line when `model` cannot be explained per row here."""
    if not supported(model):
        raise UnsupportedExplanation(
            f"--explain supports tree models ({', '.join(TREE_MODELS)}) for now; "
            f"{type(model).__name__} would need a background sample of the training data, which the run "
            "folder does not keep")


def input_column_map(model: Any) -> tuple[list[str], np.ndarray]:
    """(input columns, for each preprocessed feature the index of the input column it came from): one-hot
    ``col_value`` and ``missingindicator_col`` features belong to ``col``."""
    columns = [str(c) for c in [*model.numeric_features_, *model.categorical_features_]]
    names = [str(n) for n in model.feature_names_out_]
    by_length = sorted(range(len(columns)), key=lambda j: -len(columns[j]))
    owner = []
    for name in names:
        bare = name.removeprefix("missingindicator_")
        j = next((j for j in by_length if bare == columns[j]), None)
        if j is None:
            j = next((j for j in by_length if bare.startswith(columns[j] + "_")), None)
        if j is None:
            raise ValueError(f"cannot map preprocessed feature {name!r} back to an input column")
        owner.append(j)
    return columns, np.asarray(owner)


def _explainer(model: Any) -> Any:
    import shap

    final = model.pipeline_[-1]
    return shap.TreeExplainer(final, feature_perturbation="tree_path_dependent")


def _for_class(values: np.ndarray, base: Any, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, features) contributions and (n,) base values towards each row's class index `cls` (None: one
    output). A single-output binary classifier explains class 1; class 0 gets the negated values."""
    base = np.atleast_1d(np.asarray(base, dtype=np.float64))
    n = values.shape[0]
    if values.ndim == 3:                                 # (n, features, outputs)
        return values[np.arange(n), :, cls], base[cls]
    if cls is None:
        return values, np.repeat(base[0], n)
    sign = np.where(cls == 1, 1.0, -1.0)
    return values * sign[:, None], base[0] * sign


def explain_rows(model: Any, X: Any, predicted: Any = None, *, seconds: float = SECONDS,
                 batch: int = BATCH) -> RowAttributions:
    """SHAP contributions of each input column of the rows of table `X`, towards `predicted` (each row's
    predicted label; regression: None). Batches stop once `seconds` have passed; the rest are skipped."""
    check_supported(model)
    explainer = _explainer(model)
    columns, owner = input_column_map(model)
    classes = list(getattr(model, "classes_", []))
    cls = None if predicted is None or not classes else np.asarray([classes.index(p) for p in predicted])
    parts, bases, start, n = [], [], time.perf_counter(), len(X)
    done = 0
    while done < n and (done == 0 or time.perf_counter() - start < seconds):
        rows = X.iloc[done:done + batch] if hasattr(X, "iloc") else X[done:done + batch]
        Z = model.transform_features(rows)
        raw = explainer.shap_values(Z, check_additivity=False)
        values = np.stack(raw, axis=-1) if isinstance(raw, list) else np.asarray(raw, dtype=np.float64)
        c = None if cls is None else cls[done:done + len(rows)]
        v, b = _for_class(values, explainer.expected_value, c)
        grouped = np.zeros((len(rows), len(columns)))
        np.add.at(grouped.T, owner, v.T)
        parts.append(grouped)
        bases.append(b)
        done += len(rows)
    frame = X.iloc[:done] if hasattr(X, "iloc") else None
    values = [] if frame is None else [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]
    output = "log-odds" if _log_odds(model) else ("probability" if cls is not None else "value")
    return RowAttributions(columns=columns, contributions=np.vstack(parts), expected=np.concatenate(bases),
                           output=output, skipped=n - done, values=values)


def _log_odds(model: Any) -> bool:
    return type(model).__name__ == "TabularGradientBoosting" and bool(
        getattr(model, "classes_", None) is not None)
