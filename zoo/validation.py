"""Scoring a model on the training data only: fold plans, one selection metric per task, cross-validation.

The held-out test split never enters here. Small data gets repeated stratified folds, big data a subsample,
forecasting rolling origins (train on everything before a cut-off, score the next ``horizon`` points).
Scores are "higher is better" for every task (forecasting: minus MASE), so the caller compares plainly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from zoo.data import Dataset

__all__ = ["FoldPlan", "CvResult", "plan_folds", "selection_metric", "fold_score", "cross_validate",
           "paired_gap", "baseline_cv"]

SMALL, MEDIUM = 1_000, 5_000        # rows: up to SMALL repeated 5-fold x2, up to MEDIUM 5-fold, beyond: subsample


@dataclass(frozen=True)
class FoldPlan:
    """Train / validation index pairs into one dataset, and a sentence saying how they were made."""

    folds: list[tuple[np.ndarray, np.ndarray]]
    text: str
    rows: int                                   # rows the folds draw from (after any subsample)


@dataclass
class CvResult:
    """One candidate's fold scores (higher is better) and wall time."""

    scores: list[float] = field(default_factory=list)
    seconds: float = 0.0
    error: Optional[str] = None
    stopped: Optional[str] = None                # why fewer folds than planned ran

    @property
    def mean(self) -> Optional[float]:
        return float(np.mean(self.scores)) if self.scores else None

    @property
    def std(self) -> Optional[float]:
        return float(np.std(self.scores)) if len(self.scores) > 1 else (0.0 if self.scores else None)


def selection_metric(task: str, metric: Optional[str] = None) -> str:
    """The number selection maximises: ``metric`` (zoo.metrics names; an error metric as its negative,
    ``neg_mae``), else macro-F1, R², or minus MASE for forecasts."""
    from zoo.metrics import LOWER_IS_BETTER

    if metric:
        return f"neg_{metric}" if metric in LOWER_IS_BETTER else metric
    return {"classification": "macro_f1", "regression": "r2", "forecasting": "neg_mase"}.get(task, "none")


def _stratifiable(y: np.ndarray, k: int) -> bool:
    _, counts = np.unique(y, return_counts=True)
    return len(counts) > 1 and int(counts.min()) >= k


def plan_folds(data: Dataset, task: str, *, seed: int = 0, max_rows: Optional[int] = None,
               horizon: Optional[int] = None, repeats: Optional[int] = None, n_splits: int = 5) -> FoldPlan:
    """Validation folds inside ``data`` (the training split): repeated for small data, subsampled for big data."""
    n = len(data)
    rng = np.random.default_rng(seed)
    if task == "forecasting":
        from zoo.forecasting import rolling_origins

        h = int(horizon or max(1, round(0.1 * n)))
        folds = rolling_origins(n, h, 3)
        return FoldPlan(folds, f"{len(folds)} rolling origins, horizon {h}", n)
    from sklearn.model_selection import KFold, RepeatedKFold, RepeatedStratifiedKFold, StratifiedKFold

    cap = min(max_rows or MEDIUM, MEDIUM)
    rows = np.arange(n)
    if n > cap:
        rows = _subsample(n, np.asarray(data.y) if task == "classification" else None, cap, rng)
    m = len(rows)
    reps = repeats if repeats is not None else (2 if m <= SMALL else 1)
    k = n_splits if m >= 4 * n_splits else max(2, min(n_splits, m // 4))
    y = None if data.y is None else np.asarray(data.y)[rows]
    groups = None if getattr(data, "groups", None) is None else np.asarray(data.groups)[rows]
    if groups is not None and len(set(groups.tolist())) >= 2:
        return _grouped_plan(rows, y, groups, task == "classification", k, reps, seed, n)
    stratify = task == "classification" and y is not None and _stratifiable(y, k)
    if stratify:
        cv: Any = RepeatedStratifiedKFold(n_splits=k, n_repeats=reps, random_state=seed) if reps > 1 \
            else StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    else:
        cv = RepeatedKFold(n_splits=k, n_repeats=reps, random_state=seed) if reps > 1 \
            else KFold(n_splits=k, shuffle=True, random_state=seed)
    folds = [(rows[tr], rows[va]) for tr, va in cv.split(rows, y if stratify else None)]
    kind = "stratified " if stratify else ""
    sub = f" of a {m:,}-row subsample" if m < n else ""
    text = f"{kind}{k}-fold" + (f" x {reps} repeats" if reps > 1 else "") + sub
    return FoldPlan(folds, text, m)


def _grouped_plan(rows: np.ndarray, y: Optional[np.ndarray], groups: np.ndarray, classification: bool, k: int,
                  reps: int, seed: int, n: int) -> FoldPlan:
    """Folds that keep each group (a speaker) whole on one side, as the held-out split does: a model is never
    validated on a voice it was fitted on. Classes kept in proportion where possible (StratifiedGroupKFold);
    a new shuffle of the groups per repeat."""
    import warnings

    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    k = max(2, min(k, len(set(groups.tolist()))))
    folds: list[tuple[np.ndarray, np.ndarray]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)          # "the least populated class has only ..."
        for r in range(reps if classification and y is not None else 1):
            cv: Any = (StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed + r)
                       if classification and y is not None else GroupKFold(n_splits=k))
            folds += [(rows[tr], rows[va]) for tr, va in cv.split(rows, y, groups)]
    repeats = len(folds) // k
    text = (f"{'stratified ' if classification else ''}{k}-fold by group ({len(set(groups.tolist())):,} speakers/"
            f"groups, each kept whole)" + (f" x {repeats} repeats" if repeats > 1 else ""))
    sub = f" of a {len(rows):,}-row subsample" if len(rows) < n else ""
    return FoldPlan(folds, text + sub, len(rows))


def _subsample(n: int, y: Optional[np.ndarray], size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` row indices out of ``n``: stratified by ``y`` when given (and possible), else uniform."""
    idx = np.arange(n)
    if y is not None:
        from sklearn.model_selection import train_test_split

        try:
            keep, _ = train_test_split(idx, train_size=size, stratify=y, random_state=int(rng.integers(2**31)))
            return np.sort(keep)
        except ValueError:                       # a class too rare to stratify
            pass
    return np.sort(rng.choice(idx, size=size, replace=False))


def fold_score(model: Any, train: Dataset, val: Dataset, task: str, metric: Optional[str] = None,
               positive: Any = None) -> float:
    """The selection metric (:func:`selection_metric`) of a model fitted on ``train``, on ``val`` (higher is
    better). ``positive``: a binary classifier's positive class (f1, roc_auc, pr_auc)."""
    from zoo.metrics import score

    name = selection_metric(task, metric)
    plain = name[4:] if name.startswith("neg_") else name
    sign = -1.0 if name.startswith("neg_") else 1.0
    if task == "forecasting":
        from zoo.forecasting import mase, season_length

        pred = model.predict(val.X if val.X is not None else len(val))
        if plain != "mase":
            return sign * float(score(plain, val.y, pred) or 0.0)
        season = season_length(train.X, np.asarray(train.y, dtype=float))
        return -float(mase(np.asarray(val.y, dtype=float), pred, np.asarray(train.y, dtype=float), season))
    pred = model.predict(val.X)
    if task == "regression":
        return sign * float(score(plain, val.y, pred) or 0.0)
    labels = sorted(set(np.asarray(train.y).tolist()) | set(np.asarray(val.y).tolist()), key=str)
    proba = None
    if plain in ("roc_auc", "pr_auc") and hasattr(model, "predict_proba"):
        seen = [c.item() if hasattr(c, "item") else c for c in model.classes_]
        raw = np.asarray(model.predict_proba(val.X))
        proba = np.column_stack([raw[:, seen.index(c)] if c in seen else np.zeros(len(val)) for c in labels])
    value = score(plain, val.y, pred, proba=proba, labels=labels, positive=positive)
    return float(value) if value is not None else float("nan")


def cross_validate(make: Callable[[], Any], data: Dataset, plan: FoldPlan, task: str, *,
                   deadline: Optional[float] = None, fit: Optional[Callable[[Any, Dataset], Any]] = None,
                   min_folds: int = 1, metric: Optional[str] = None, positive: Any = None) -> CvResult:
    """Fit a fresh ``make()`` on each fold's train part and score its validation part.

    Stops early (``stopped`` says why) when the next fold would pass ``deadline`` (a ``time.perf_counter``
    value), judged from the last fold's time (the first fold may have paid for memoised features the others
    reuse); ``min_folds`` run whatever the deadline (a gap needs two folds to have a noise estimate). A fit
    that raises ends the candidate with ``error``. ``metric`` / ``positive``: as :func:`fold_score`.
    """
    result = CvResult()
    start = last = time.perf_counter()
    for i, (tr, va) in enumerate(plan.folds):
        now = time.perf_counter()
        if deadline is not None and i >= max(min_folds, 1) and now + (now - last if i > 1 else 0.0) > deadline:
            result.stopped = f"time budget: {i} of {len(plan.folds)} folds"
            break
        last = now
        train, val = data.subset(tr), data.subset(va)
        try:
            model = make()
            (fit or (lambda est, d: est.fit(d.X, d.y)))(model, train)
            value = fold_score(model, train, val, task, metric, positive)
            if np.isfinite(value):
                result.scores.append(value)
            else:                                # e.g. a fold with one class has no balanced accuracy
                result.stopped = f"fold {i + 1}: {selection_metric(task, metric)} undefined there, left out"
        except Exception as exc:  # noqa: BLE001 - a candidate that cannot fit is recorded, not fatal
            result.error = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}"
            break
    result.seconds = time.perf_counter() - start
    return result


def paired_gap(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mean of ``a - b`` over the folds both ran, and its standard error (the noise a gap must exceed)."""
    k = min(len(a), len(b))
    if k == 0:
        return 0.0, float("inf")
    d = np.asarray(a[:k]) - np.asarray(b[:k])
    se = float(np.std(d, ddof=1) / np.sqrt(k)) if k > 1 else float("inf")
    return float(d.mean()), se


def baseline_cv(data: Dataset, plan: FoldPlan, task: str, metric: Optional[str] = None,
                positive: Any = None) -> tuple[str, CvResult]:
    """The reference every candidate must beat, on the same folds: the majority class (classification) or
    the training mean (regression); forecasting's baselines are models of their own (naive, seasonal naive)."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    name = "majority class" if task == "classification" else "training mean"
    make = (lambda: DummyClassifier(strategy="most_frequent")) if task == "classification" else DummyRegressor

    blind = lambda est, d: est.fit(np.zeros((len(d), 1)), d.y)  # noqa: E731 - a baseline ignores the inputs
    return name, cross_validate(make, data, plan, task, fit=blind, metric=metric, positive=positive)
