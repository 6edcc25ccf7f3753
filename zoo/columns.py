"""Column checks of a table before training (after PyCaret's `setup()` type table).

:func:`profile_columns` infers each column's kind (numeric, categorical, date, text, id), missing share and
cardinality, and what training does with it: ID-like and constant columns are dropped, date columns become
calendar features. :class:`ColumnPrep` is that treatment as a scikit-learn transformer; every tabular zoo model
fits one first (zoo.classical._TabularMixin), so `advisor predict` applies the same drops and dates.
:func:`leak_scores` flags a column that alone predicts the target almost perfectly (cross-validated on the data
it is given: the training split). :func:`input_problems` says, per row, what a numeric column cannot read at
predict time.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

KINDS = ("numeric", "categorical", "date", "text", "id")
ACTIONS = ("kept", "dropped_id", "dropped_constant", "calendar")
CALENDAR = ("year", "month", "day", "day_of_week", "day_of_year")     # pandas .dt attributes
LEAK_THRESHOLD = 0.99      # one column alone scoring this (balanced accuracy / R², CV) is a possible leak
LEAK_FOLDS = 5
MAX_LEAK_ROWS = 20_000     # leak checks run on a sample this large
MAX_LEAK_COLUMNS = 200     # and on the first this many columns
MIN_ID_ROWS = 10           # fewer rows than this: nothing is called an ID (every value is unique by chance)
_ID_NAME = re.compile(r"(^|[_\W])(id|uuid|guid|key)$|^(id|uuid|guid|index|key)([_\W]|$)|[a-z]Id$|ID$",
                      re.IGNORECASE)
_DATE_SAMPLE = 200
_YEAR_OR_MONTH = r"(?i)\d{4}|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"


@dataclass
class ColumnProfile:
    """One column of a table: its kind, missing share, distinct values, and what training does with it."""

    name: str
    kind: str                       # one of KINDS
    missing_share: float
    distinct: int
    action: str = "kept"            # one of ACTIONS
    features: list[str] = field(default_factory=list)     # calendar features made from a date column
    leak_score: Optional[float] = None                    # CV score of this column alone, when checked


def _is_text_dtype(col: Any) -> bool:
    import pandas as pd

    return pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col) or \
        isinstance(col.dtype, pd.CategoricalDtype)


def to_dates(col: Any) -> Any:
    """`col` parsed as dates (NaT where a value is not one); datetimes stay as they are, time zones dropped."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(col):
        out = col
    else:
        values = col.astype("object")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = pd.to_datetime(values, errors="coerce", format="ISO8601")        # fast path: 2024-03-17
            if out.isna().sum() > values.isna().sum():
                out = pd.to_datetime(values, errors="coerce", format="mixed")
    tz = getattr(getattr(out, "dt", None), "tz", None)
    return out.dt.tz_localize(None) if tz is not None else out


def looks_like_dates(col: Any) -> bool:
    """Whether a column holds dates: a datetime dtype, or strings of which a sample all read as dates (and look
    like them: a separator and a four-digit year or a month's name; not bare numbers, not versions like 1.2.3)."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(col):
        return True
    if not _is_text_dtype(col):
        return False
    values = col.dropna().astype(str)
    if values.empty:
        return False
    sample = values.iloc[:_DATE_SAMPLE]
    if not sample.str.contains(r"\d", regex=True).all() or not sample.str.contains(r"[-/:.\s]", regex=True).all():
        return False
    if sample.str.fullmatch(r"[+-]?\d+([.,]\d+)?").any():
        return False
    if not sample.str.contains(_YEAR_OR_MONTH, regex=True).all():
        return False
    return bool(to_dates(sample).notna().all())


def _kind(col: Any, name: str, distinct: int, n: int) -> str:
    import pandas as pd

    if looks_like_dates(col):
        return "date"
    unique = n >= MIN_ID_ROWS and distinct == n and not col.isna().any()
    if pd.api.types.is_bool_dtype(col):
        return "categorical"
    if pd.api.types.is_numeric_dtype(col):
        if unique and pd.api.types.is_integer_dtype(col):
            steps = np.diff(np.sort(col.to_numpy()))
            if _ID_NAME.search(str(name)) or (len(steps) and (steps == 1).all()):
                return "id"
        return "numeric"
    values = col.dropna().astype(str)
    if unique and (_ID_NAME.search(str(name)) or not values.str.contains(r"\s", regex=True).any()):
        return "id"
    if len(values) and distinct > 0.5 * len(values) and values.str.len().mean() > 30:
        return "text"
    return "categorical"


def _distinct(col: Any, exact: bool) -> int:
    """Distinct values, missing not counted; with `exact=False` a float column's count is only 0, 1 or 2 (more
    than one): all the decisions need, without hashing every value."""
    import pandas as pd

    if exact or not pd.api.types.is_float_dtype(col):
        return int(col.nunique(dropna=True))
    low, high = col.min(), col.max()
    return 0 if pd.isna(low) else 1 if low == high else 2


def profile_columns(df: Any, *, exact: bool = True) -> list[ColumnProfile]:
    """Each column's kind, missing share, distinct values and action (a table of at least one row); `exact=False`
    (what a model's fit needs) skips counting the distinct values of float columns."""
    n = len(df)
    out = []
    taken = {str(c) for c in df.columns}
    for name in df.columns:
        col = df[name]
        distinct = _distinct(col, exact)
        kind = _kind(col, str(name), distinct, n)
        missing = float(col.isna().mean()) if n else 0.0
        profile = ColumnProfile(str(name), kind, missing, distinct)
        if kind == "id":
            profile.action = "dropped_id"
        elif n >= 2 and (distinct == 0 or (distinct == 1 and missing == 0)):      # one value in every row
            profile.action = "dropped_constant"
        elif kind == "date":
            profile.action, profile.features = "calendar", _feature_names(str(name), taken)
        taken.update(profile.features)
        out.append(profile)
    if all(p.action.startswith("dropped") for p in out):      # never drop every column: keep them as they are
        for p in out:
            p.action = "kept"
    return out


def _feature_names(name: str, taken: set[str]) -> list[str]:
    """NAME_year, NAME_month, ...: an underscore more where a name is already a column."""
    names = []
    for part in CALENDAR:
        feature = f"{name}_{part}"
        while feature in taken:
            feature = f"{name}_{feature[len(name):]}"
        names.append(feature)
    return names


def calendar_features(col: Any, names: list[str]) -> dict[str, Any]:
    """Year, month, day, day of week (0 = Monday) and day of year of a date column, as floats (NaN: not a date),
    under `names` (one per zoo.columns.CALENDAR part)."""
    stamps = to_dates(col)
    return {feature: getattr(stamps.dt, part).astype("float64") for feature, part in zip(names, CALENDAR)}


class ColumnPrep(TransformerMixin, BaseEstimator):
    """Drops the ID-like and constant columns of the fitted table and turns its date columns into calendar
    features (zoo.columns.profile_columns decides which). Takes and returns DataFrames."""

    def __init__(self, *, drop_ids: bool = True, drop_constant: bool = True, dates: bool = True) -> None:
        self.drop_ids = drop_ids
        self.drop_constant = drop_constant
        self.dates = dates

    def fit(self, X: Any, y: Any = None) -> "ColumnPrep":
        """Learn from DataFrame `X` which columns to drop and which are dates; returns self."""
        profiles = profile_columns(X, exact=False)
        wanted = {"dropped_id": self.drop_ids, "dropped_constant": self.drop_constant, "calendar": self.dates}
        self.profiles_ = profiles
        self.columns_in_ = [p.name for p in profiles]
        self.dropped_ = {p.name: p.action for p in profiles if p.action.startswith("dropped") and wanted[p.action]}
        self.date_columns_ = [p.name for p in profiles if p.action == "calendar" and self.dates]
        self.date_features_ = {p.name: p.features for p in profiles if p.name in self.date_columns_}
        self.numeric_columns_ = [p.name for p in profiles if p.kind == "numeric" and p.name not in self.dropped_]
        return self

    @property
    def needed_columns_(self) -> list[str]:
        """The input columns the transform reads (dropped ones may be absent at predict time)."""
        return [c for c in self.columns_in_ if c not in self.dropped_]

    def transform(self, X: Any) -> Any:
        """`X` without the dropped columns, each date column replaced by its calendar features."""
        import pandas as pd

        keep = [c for c in X.columns if c not in self.dropped_]
        parts: dict[str, Any] = {}
        for c in keep:
            if c in self.date_columns_:
                parts.update(calendar_features(X[c], self.date_features_[c]))
            else:
                parts[c] = X[c]
        return pd.DataFrame(parts, index=X.index)


# ----------------------------------------------------------------------------- leaks


def _folds(y: np.ndarray, task: str, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    n = len(y)
    if task == "classification":
        smallest = int(np.unique(y, return_counts=True)[1].min())
        k = min(LEAK_FOLDS, smallest)
        if k >= 2:
            return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(n), y))
    k = min(LEAK_FOLDS, n)
    return list(KFold(k, shuffle=True, random_state=seed).split(np.zeros(n))) if k >= 2 else []


def _lookup_predict(train: Any, y_train: np.ndarray, test: Any, task: str) -> np.ndarray:
    """Per-value lookup: each value's most common class (or mean target) in the training fold; unseen values
    get the fold's overall one."""
    import pandas as pd

    frame = pd.DataFrame({"v": train.to_numpy(), "y": y_train})
    if task == "classification":
        table = frame.groupby("v", dropna=False)["y"].agg(lambda s: s.value_counts().index[0])
        default = pd.Series(y_train).value_counts().index[0]
    else:
        table, default = frame.groupby("v", dropna=False)["y"].mean(), float(np.mean(y_train))
    out = pd.Series(test.to_numpy()).map(table)
    return out.where(out.notna(), default).to_numpy()


def _column_score(col: Any, y: np.ndarray, kind: str, task: str, folds: list[Any]) -> Optional[float]:
    from sklearn.metrics import balanced_accuracy_score, r2_score
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    metric = balanced_accuracy_score if task == "classification" else r2_score
    numeric = kind in ("numeric", "date")
    if kind == "date":
        stamps = to_dates(col)
        col = (stamps - stamps.min()).dt.total_seconds().astype("float64")
    scores = []
    for train, test in folds:
        if numeric:
            x = np.asarray(col, dtype=np.float64).reshape(-1, 1)
            tree = (DecisionTreeClassifier if task == "classification" else DecisionTreeRegressor)(
                max_depth=6, random_state=0).fit(x[train], y[train])
            pred = tree.predict(x[test])
        else:
            values = col.astype("object").where(col.notna(), None)
            pred = _lookup_predict(values.iloc[train], y[train], values.iloc[test], task)
        if task != "classification" and np.ptp(y[test]) == 0:
            continue
        scores.append(float(metric(y[test], pred)))
    return float(np.mean(scores)) if scores else None


def leak_scores(X: Any, y: Any, task: str, *, seed: int = 0,
                profiles: Optional[list[ColumnProfile]] = None) -> tuple[list[ColumnProfile], str, int]:
    """Each kept column's cross-validated score alone (balanced accuracy, or R² for regression; a shallow tree
    for numbers and dates, a per-value lookup otherwise) written into its profile's `leak_score`. Returns the
    profiles, the metric's name and the folds used. Give it the training split only."""
    import pandas as pd

    profiles = profile_columns(X) if profiles is None else profiles
    metric = "balanced_accuracy" if task == "classification" else "r2"
    y = np.asarray(y)
    if task not in ("classification", "regression") or len(y) < 2 * LEAK_FOLDS:
        return profiles, metric, 0
    rows = np.arange(len(y))
    if len(rows) > MAX_LEAK_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, MAX_LEAK_ROWS, replace=False))
    X = X.iloc[rows].reset_index(drop=True) if isinstance(X, pd.DataFrame) else X
    y = y[rows] if task == "classification" else y[rows].astype(np.float64)
    folds = _folds(y, task, seed)
    checked = [p for p in profiles if not p.action.startswith("dropped")][:MAX_LEAK_COLUMNS]
    for p in checked:
        p.leak_score = _column_score(X[p.name], y, p.kind, task, folds)
    return profiles, metric, len(folds)


def leaks(profiles: list[ColumnProfile], threshold: float = LEAK_THRESHOLD) -> list[ColumnProfile]:
    """The profiles whose column alone scores at least `threshold`: possible leaks."""
    return [p for p in profiles if p.leak_score is not None and p.leak_score >= threshold]


# ----------------------------------------------------------------------------- predict-time input


def input_problems(model: Any, X: Any, names: Optional[list[str]] = None, limit: int = 20) -> list[str]:
    """One line per value of table `X` that a column numeric at training cannot read (it is treated as
    missing): "row 7: column `age` = 'abc' is not a number; treated as missing"; at most `limit` lines, then
    a count. `names`: how each row is named (default "row i"). Empty for a model without column checks."""
    import pandas as pd

    prep = getattr(model, "column_prep_", None)
    if prep is None or not isinstance(X, pd.DataFrame):
        return []
    names = names or [f"row {i}" for i in range(len(X))]
    found: list[tuple[int, str, Any]] = []
    for c in prep.numeric_columns_:
        if c not in X.columns or pd.api.types.is_numeric_dtype(X[c]):
            continue
        col = X[c]
        bad = col.notna() & pd.to_numeric(col, errors="coerce").isna()
        found += [(int(i), c, col.iloc[i]) for i in np.flatnonzero(bad.to_numpy())]
    found.sort(key=lambda item: item[0])
    lines = [f"{names[i]}: column `{c}` = {str(v)[:40]!r} is not a number; treated as missing"
             for i, c, v in found[:limit]]
    if len(found) > limit:
        lines.append(f"… and {len(found) - limit:,} more value(s) that are not numbers, treated as missing")
    return lines
