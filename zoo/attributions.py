"""Per-row SHAP contributions for `advisor predict --explain` and the report's SHAP summary (tabular runs).

Three explainers, chosen by the model:

- tree models (gradient boosting, random forest, extra trees, decision tree): shap.TreeExplainer in its
  tree-path-dependent mode, which reads what it needs from the trees (exact; no training data needed);
- ``tabular_linear``: shap.LinearExplainer against a background sample of the training rows (exact for a linear
  model: weight × (value − the background's mean), in log-odds for the logistic model);
- any other tabular model (SVM, MLP, ...): Shapley values by permutation sampling over the input columns against
  the same background (interventional, as shap's PermutationExplainer; two column orders and their reverses per
  row, within a time limit), written here in numpy: shap's version compiles with numba first (~10 s per
  process). The values still add up exactly to the prediction minus the background's mean prediction.

Tree and linear contributions are computed on the model's preprocessed features (``feature_names_out_``) and
summed back onto the input columns they came from (SHAP values add up, so the sum is the column's
contribution). The background is a sample of the training split that `advisor train` keeps in the run folder
(:data:`BACKGROUND_FILE`). shap is imported only inside the functions here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TOP = 3                  # contributions listed per row
BATCH = 256              # rows explained per call (tree and linear explainers)
SECONDS = 5.0            # time limit over all batches; rows after it are skipped (and counted)
BACKGROUND_ROWS = 50     # training rows kept as the background of the linear and permutation explainers
BACKGROUND_FILE = "shap_background.parquet"
TREE_MODELS = ("TabularGradientBoosting", "TabularRandomForest", "TabularExtraTrees", "TabularDecisionTree")
LINEAR_MODELS = ("TabularLinear",)


class UnsupportedExplanation(ValueError):
    """--explain asked of a model it cannot explain (or without the background it needs)."""


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


def save_background(background: Any, folder: Path) -> bool:
    """Write `background` into run folder `folder` (Parquet keeps each column's type); False when a column mixes
    types Parquet cannot hold (then the linear and permutation explainers say so at predict time)."""
    try:
        background.to_parquet(Path(folder) / BACKGROUND_FILE, index=False)
    except (ValueError, TypeError, ArithmeticError):     # pyarrow.ArrowInvalid is a ValueError
        (Path(folder) / BACKGROUND_FILE).unlink(missing_ok=True)
        return False
    return True


def load_background(folder: Path) -> Any:
    """The run folder's background rows, or None when it has none."""
    path = Path(folder) / BACKGROUND_FILE
    if not path.is_file():
        return None
    import pandas as pd

    return pd.read_parquet(path)


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and value != value else value


def method(model: Any) -> str:
    """"tree", "linear" or "permutation": the explainer :func:`explain_rows` uses for `model`."""
    kind = type(model).__name__
    if kind in TREE_MODELS and hasattr(model, "transform_features"):
        return "tree"
    if kind in LINEAR_MODELS and hasattr(model, "transform_features"):
        return "linear"
    return "permutation"


def check_supported(model: Any, background: Any = None) -> None:
    """One line when `model` cannot be explained per row here (only tree models do without a background)."""
    if not hasattr(model, "numeric_features_") or not hasattr(model, "categorical_features_"):
        raise UnsupportedExplanation(f"--explain works on table models; {type(model).__name__} takes images, "
                                     "texts or clips (see the report's saliency maps and importances)")
    if method(model) != "tree" and background is None:
        raise UnsupportedExplanation(
            f"--explain for {type(model).__name__} needs a background sample of the training rows "
            f"({BACKGROUND_FILE}), which this run folder lacks (trained before it was kept); train it again")


def background_sample(X: Any, *, rows: int = BACKGROUND_ROWS, seed: int = 0) -> Any:
    """Up to `rows` training rows drawn at random (the explainers' reference: "what a typical row looks like")."""
    if len(X) <= rows:
        return X.reset_index(drop=True)
    return X.sample(n=rows, random_state=seed).reset_index(drop=True)


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


def _explainer(model: Any, background: Any) -> Any:
    import shap

    final = model.pipeline_[-1]
    if method(model) == "linear":
        Zb = model.transform_features(background)
        return shap.LinearExplainer(final, shap.maskers.Independent(Zb, max_samples=len(Zb)))
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


def explain_rows(model: Any, X: Any, predicted: Any = None, *, background: Any = None,
                 seconds: float = SECONDS, batch: int = BATCH) -> RowAttributions:
    """SHAP contributions of each input column of the rows of table `X`, towards `predicted` (each row's
    predicted label; regression: None), against `background` (training rows; needed unless the model is a
    tree model). Work stops once `seconds` have passed; the rows left are skipped (and counted)."""
    check_supported(model, background)
    classes = list(getattr(model, "classes_", []))
    cls = None if predicted is None or not classes else np.asarray([classes.index(p) for p in predicted])
    how = method(model)
    if how == "permutation":
        columns, contributions, expected = _permutation_rows(model, X, cls, background, seconds)
    else:
        columns, contributions, expected = _feature_rows(model, X, cls, background, seconds, batch)
    done = len(contributions)
    frame = X.iloc[:done] if hasattr(X, "iloc") else None
    values = [] if frame is None else [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]
    return RowAttributions(columns=columns, contributions=contributions, expected=expected,
                           output=_output(model, how, cls is not None), skipped=len(X) - done, values=values)


def _feature_rows(model: Any, X: Any, cls: Any, background: Any, seconds: float,
                  batch: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Tree / linear SHAP on the preprocessed features, summed back onto the input columns, batch by batch."""
    explainer = _explainer(model, background)
    columns, owner = input_column_map(model)
    parts, bases, start, done = [], [], time.perf_counter(), 0
    while done < len(X) and (done == 0 or time.perf_counter() - start < seconds):
        rows = X.iloc[done:done + batch] if hasattr(X, "iloc") else X[done:done + batch]
        Z = model.transform_features(rows)
        raw = explainer.shap_values(Z) if method(model) == "linear" else explainer.shap_values(
            Z, check_additivity=False)
        values = np.stack(raw, axis=-1) if isinstance(raw, list) else np.asarray(raw, dtype=np.float64)
        v, b = _for_class(values, explainer.expected_value, None if cls is None else cls[done:done + len(rows)])
        grouped = np.zeros((len(rows), len(columns)))
        np.add.at(grouped.T, owner, v.T)
        parts.append(grouped)
        bases.append(b)
        done += len(rows)
    return columns, np.vstack(parts), np.concatenate(bases)


def _permutation_rows(model: Any, X: Any, cls: Any, background: Any, seconds: float, *, permutations: int = 2,
                      seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Shapley values by permutation sampling (Štrumbelj & Kononenko 2014; interventional, as shap's
    PermutationExplainer): along a random column order and its reverse, each input column is switched from the
    background rows' values to the row's own, and its contribution is the change in the mean prediction. The
    contributions add up exactly to the prediction minus the background's mean prediction. One row at a time
    until `seconds` have passed."""
    import pandas as pd

    columns = [str(c) for c in [*model.numeric_features_, *model.categorical_features_]]
    frame, reference = X[columns].reset_index(drop=True), background[columns].reset_index(drop=True)
    predict = model.predict_proba if cls is not None else model.predict
    base_all = np.asarray(predict(reference), dtype=np.float64).reshape(len(reference), -1).mean(axis=0)
    rng = np.random.default_rng(seed)
    orders = [order for o in (rng.permutation(len(columns)) for _ in range(permutations)) for order in (o, o[::-1])]
    position = np.argsort(np.asarray(orders), axis=1)             # where each column comes in each order
    steps = np.arange(len(columns) + 1)
    switched = (position[:, None, :] < steps[None, :, None]).reshape(-1, len(columns))  # (orders*steps, cols)
    stacked = pd.concat([reference] * len(switched), ignore_index=True)
    rows: list[np.ndarray] = []
    bases: list[float] = []
    start = time.perf_counter()
    while len(rows) < len(frame) and (not rows or time.perf_counter() - start < seconds):
        i = len(rows)
        k = 0 if cls is None else int(cls[i])
        masked = stacked.copy()
        for j, column in enumerate(columns):
            masked.loc[np.repeat(switched[:, j], len(reference)), column] = frame.iloc[i, j]
        out = np.asarray(predict(masked), dtype=np.float64).reshape(
            len(orders), len(steps), len(reference), -1)[..., k].mean(axis=2)
        phi = np.zeros(len(columns))
        for order, means in zip(orders, out):
            phi[order] += np.diff(means)
        rows.append(phi / len(orders))
        bases.append(float(base_all[k]))
    return columns, np.vstack(rows), np.asarray(bases)


def _output(model: Any, how: str, classifier: bool) -> str:
    """What the contributions add up to."""
    if not classifier:
        return "value"
    if how == "linear" or (how == "tree" and type(model).__name__ == "TabularGradientBoosting"):
        return "log-odds"
    return "probability"
