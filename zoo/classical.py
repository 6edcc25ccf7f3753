"""Classical models of the zoo: scikit-learn estimators with the preprocessing they need built in.

Imported lazily by ``zoo.create_model`` (this module imports scikit-learn at the top).
All estimators follow the scikit-learn contract: keyword-only ``__init__`` storing params, ``fit`` returns
``self``, learned state in ``trailing_underscore_`` attributes; ``clone``/``get_params``/``set_params`` work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, OutlierMixin, RegressorMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.svm import SVC, SVR
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, export_text
from sklearn.utils import ClassifierTags, RegressorTags
from threadpoolctl import threadpool_limits
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from zoo.audio import DURATION, SAMPLE_RATE
from zoo.audio_features import AudioFeatures
from zoo.columns import ColumnPrep
from zoo.features import FEATURE_GROUPS, HandcraftedImageFeatures
from zoo.forecasting import has_trend, season_length, series_input, timestamps_of
from zoo.imbalance import predict_labels
from zoo.video import FRAME_SIZE, N_FRAMES
from zoo.video_features import VIDEO_FEATURE_GROUPS, VideoMotionFeatures

__all__ = [
    "AudioFeaturesClassifier",
    "ImageHandcraftedForest",
    "ImageHandcraftedForestRegressor",
    "TabularDecisionTree",
    "TabularExtraTrees",
    "TabularGradientBoosting",
    "TabularIsolationForest",
    "TabularLinear",
    "TabularRandomForest",
    "TabularSVM",
    "TextTfidfLinear",
    "TextTfidfRidge",
    "TsLagGradientBoosting",
    "VideoMotionForest",
    "temporal_train_test_split",
]

_TASKS = ("classification", "regression")


# ----------------------------------------------------------------------------- tabular preprocessing

def _split_columns(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Numeric (incl. bool / datetime, converted later) vs categorical (everything else) columns."""
    num = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_datetime64_any_dtype(df[c])]
    return num, [c for c in df.columns if c not in num]


def _coerce(df: pd.DataFrame, num: Sequence[str], cat: Sequence[str]) -> pd.DataFrame:
    """Dtype coercion only: numeric -> float (datetimes as days since epoch), categorical -> str objects / NaN."""
    out = {}
    for c in num:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            s = (s - pd.Timestamp(0, tz=getattr(s.dt, "tz", None))).dt.total_seconds() / 86400.0
        out[c] = pd.to_numeric(s, errors="coerce").astype(np.float64)
    for c in cat:
        s = df[c]
        out[c] = pd.Series(s.astype(str).to_numpy(dtype=object), index=s.index).where(s.notna(), np.nan)
    return pd.DataFrame(out, index=df.index, columns=[*num, *cat])


def _preprocessor(num: list[str], cat: list[str], *, encoding: str, scale: bool = False) -> ColumnTransformer:
    """ColumnTransformer: ``encoding="onehot"`` imputes + one-hot encodes; ``"native"`` (for HGB) keeps NaNs
    and ordinal-encodes categoricals; ``"ordinal"`` imputes + ordinal-encodes."""
    if encoding == "native":
        num_pipe: Any = "passthrough"
        cat_pipe: Any = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                       encoded_missing_value=np.nan, max_categories=250)
    else:
        steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median", add_indicator=True))]
        num_pipe = Pipeline(steps + ([("scale", StandardScaler())] if scale else []))
        encoder: Any = (OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=32, sparse_output=False)
                        if encoding == "onehot" else
                        OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))
        cat_pipe = Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                             ("encode", encoder)])
    parts = [(n, p, cols) for n, p, cols in (("num", num_pipe, num), ("cat", cat_pipe, cat)) if cols]
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=False)


def _one_thread() -> Any:
    """One OpenMP thread, for loops of one-row predictions (threads only spin-wait there). Fits are capped by
    their caller (zoo.devices.small_fit_threads: one thread up to 20,000 rows, else the default)."""
    return threadpool_limits(1, user_api="openmp")


def _check_2d(X: Any) -> np.ndarray:
    """Non-DataFrame X -> dense 2-D array (dtype kept; sklearn's messages for sparse / 1-D / empty input)."""
    return check_array(X, accept_sparse=False, dtype=None, ensure_all_finite=False, ensure_min_samples=1)


class _TabularMixin:
    """Input handling shared by the tabular estimators (DataFrame or 2-D array in, fitted column layout kept)."""

    columns_: list[str]
    numeric_features_: list[str]
    categorical_features_: list[str]
    pipeline_: Pipeline

    def _frame_fit(self, X: Any) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            df = X.copy()
            if all(isinstance(c, str) for c in df.columns):
                self.feature_names_in_ = np.asarray(df.columns, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            df.columns = [str(c) for c in df.columns]
        else:
            arr = _check_2d(X)
            df = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])]).infer_objects()
        if df.shape[0] == 0 or df.shape[1] == 0:
            raise ValueError(f"Found array with {df.shape[0]} sample(s) and {df.shape[1]} feature(s) "
                             f"(shape={df.shape}) while a minimum of 1 is required.")
        self.n_features_in_ = df.shape[1]
        self.columns_ = list(df.columns)
        self.column_prep_ = ColumnPrep().fit(df)          # ID-like / constant columns out, dates as calendar
        df = self.column_prep_.transform(df)
        self.numeric_features_, self.categorical_features_ = _split_columns(df)
        return _coerce(df, self.numeric_features_, self.categorical_features_)

    def _frame(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "pipeline_")
        if isinstance(X, pd.DataFrame):
            df = X.copy()
            df.columns = [str(c) for c in df.columns]
            missing = [c for c in self._needed_columns() if c not in df.columns]
            if missing:
                from zoo.data import names_text

                raise ValueError(f"X is missing {len(missing):,} column(s) seen in fit: {names_text(missing)}")
        else:
            arr = _check_2d(X)
            if arr.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {arr.shape[1]} features, but {type(self).__name__} is expecting "
                                 f"{self.n_features_in_} features as input.")
            df = pd.DataFrame(arr, columns=self.columns_).infer_objects()
        prep = getattr(self, "column_prep_", None)          # None: a model saved before the column checks
        df = prep.transform(df) if prep is not None else df
        return _coerce(df, self.numeric_features_, self.categorical_features_)

    def _needed_columns(self) -> list[str]:
        """The fitted input columns predict reads (a dropped ID or constant column may be absent)."""
        prep = getattr(self, "column_prep_", None)
        return prep.needed_columns_ if prep is not None else self.columns_

    @property
    def feature_names_out_(self) -> np.ndarray:
        """Feature names after preprocessing (one-hot columns, missing indicators, ...)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_[:-1].get_feature_names_out()

    def transform_features(self, X: Any) -> np.ndarray:
        """The matrix the final model sees for ``X`` (columns named by ``feature_names_out_``)."""
        return np.asarray(self.pipeline_[:-1].transform(self._frame(X)), dtype=np.float64)

    def permutation_importance(self, X: Any, y: Any, *, n_repeats: int = 5, scoring: str | None = None,
                               random_state: int | None = 0, n_jobs: int | None = None) -> pd.Series:
        """Permutation importance of each *input* column on (X, y), sorted descending (uses ``score`` by default)."""
        from sklearn.inspection import permutation_importance

        check_is_fitted(self, "pipeline_")
        X_df = X.copy() if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X), columns=self.columns_)
        X_df.columns = [str(c) for c in X_df.columns]
        res = permutation_importance(self, X_df[self.columns_], y, n_repeats=n_repeats, scoring=scoring,
                                     random_state=random_state, n_jobs=n_jobs)
        return pd.Series(res.importances_mean, index=self.columns_, name="importance").sort_values(ascending=False)


class _TabularSupervised(_TabularMixin, BaseEstimator):
    """Base of the supervised tabular estimators; ``task`` picks classifier or regressor behaviour."""

    task: str
    _encoding = "onehot"
    _scale = False

    def _make_model(self, n_numeric: int, n_categorical: int) -> Any:
        raise NotImplementedError

    def _is_classifier(self) -> bool:
        return self.task == "classification"

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        """Fit preprocessing + model on a DataFrame / 2-D array ``X`` and target ``y``; returns ``self``."""
        if self.task not in _TASKS:
            raise ValueError(f"task must be one of {_TASKS}, got {self.task!r}")
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        df = self._frame_fit(X)
        y_arr = column_or_1d(y, warn=True)
        if len(y_arr) != len(df):
            raise ValueError(f"X has {len(df)} samples but y has {len(y_arr)}")
        pre = _preprocessor(self.numeric_features_, self.categorical_features_,
                            encoding=self._encoding, scale=self._scale)
        model = self._make_model(len(self.numeric_features_), len(self.categorical_features_))
        self.pipeline_ = Pipeline([("preprocess", pre), ("model", model)])
        fit_params = {} if sample_weight is None else {"model__sample_weight": np.asarray(sample_weight)}
        self.pipeline_.fit(df, y_arr, **fit_params)
        if self._is_classifier():
            self.classes_ = self.pipeline_[-1].classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (classification; at ``decision_threshold_`` when set) or values (regression)."""
        check_is_fitted(self, "pipeline_")
        return predict_labels(self, X, lambda X: self.pipeline_.predict(self._frame(X)))

    @available_if(_is_classifier)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns ordered as ``classes_`` (classification only)."""
        df = self._frame(X)
        return self.pipeline_.predict_proba(df)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (classification) or R² (regression)."""
        metric = accuracy_score if self._is_classifier() else r2_score
        return float(metric(y, self.predict(X), sample_weight=sample_weight))

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.target_tags.required = True
        if self.task == "regression":
            tags.estimator_type, tags.regressor_tags = "regressor", RegressorTags()
        else:
            tags.estimator_type, tags.classifier_tags = "classifier", ClassifierTags()
        return tags


class TabularGradientBoosting(_TabularSupervised):
    """Histogram gradient boosting (native NaN + categorical support); the advisor's default for tabular data."""

    _encoding = "native"

    def __init__(self, *, task: str = "classification", learning_rate: float = 0.1, max_iter: int = 100,
                 max_leaf_nodes: int = 31, min_samples_leaf: int = 20, l2_regularization: float = 0.0,
                 early_stopping: str | bool = "auto", class_weight: Any = None, random_state: int | None = 0) -> None:
        self.task = task
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.early_stopping = early_stopping
        self.class_weight = class_weight
        self.random_state = random_state

    def _make_model(self, n_numeric: int, n_categorical: int) -> Any:
        cats = [False] * n_numeric + [True] * n_categorical if n_categorical else None
        kw = dict(learning_rate=self.learning_rate, max_iter=self.max_iter, max_leaf_nodes=self.max_leaf_nodes,
                  min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
                  early_stopping=self.early_stopping, categorical_features=cats, random_state=self.random_state)
        if self._is_classifier():
            return HistGradientBoostingClassifier(class_weight=self.class_weight, **kw)
        return HistGradientBoostingRegressor(**kw)

    @property
    def n_iter_(self) -> int:
        """Boosting iterations run (fewer than ``max_iter`` when early stopping ended the fit)."""
        check_is_fitted(self, "pipeline_")
        return int(self.pipeline_[-1].n_iter_)


class TabularRandomForest(_TabularSupervised):
    """Random forest on imputed + one-hot features; robust baseline for small/medium tabular data."""

    def __init__(self, *, task: str = "classification", n_estimators: int = 300, max_depth: int | None = None,
                 min_samples_leaf: int = 1, max_features: Any = None, class_weight: Any = None,
                 n_jobs: int | None = -1, random_state: int | None = 0) -> None:
        self.task = task
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.random_state = random_state

    _forests: tuple[type, type] = (RandomForestClassifier, RandomForestRegressor)

    def _make_model(self, n_numeric: int, n_categorical: int) -> Any:
        kw = dict(n_estimators=self.n_estimators, max_depth=self.max_depth, min_samples_leaf=self.min_samples_leaf,
                  n_jobs=self.n_jobs, random_state=self.random_state)
        classifier, regressor = self._forests
        if self._is_classifier():
            mf = "sqrt" if self.max_features is None else self.max_features
            return classifier(max_features=mf, class_weight=self.class_weight, **kw)
        return regressor(max_features=1.0 if self.max_features is None else self.max_features, **kw)

    @property
    def feature_importances_(self) -> np.ndarray:
        """Impurity importances, aligned with ``feature_names_out_``."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_[-1].feature_importances_


class TabularExtraTrees(TabularRandomForest):
    """Extremely randomised trees on imputed + one-hot features: split thresholds drawn at random, which often
    generalises better than a random forest on small, noisy tables."""

    _forests = (ExtraTreesClassifier, ExtraTreesRegressor)


class TabularSVM(_TabularSupervised):
    """RBF-kernel support vector machine on standardised + one-hot features (SVC / SVR): strong on small tables
    with smooth class boundaries; its cost grows with the square of the rows, so the advisor keeps it for
    small data."""

    _scale = True

    def __init__(self, *, task: str = "classification", C: float = 1.0, gamma: Any = "scale",
                 epsilon: float = 0.1, class_weight: Any = None, random_state: int | None = 0) -> None:
        self.task = task
        self.C = C
        self.gamma = gamma
        self.epsilon = epsilon
        self.class_weight = class_weight
        self.random_state = random_state

    def _make_model(self, n_numeric: int, n_categorical: int) -> Any:
        if self._is_classifier():
            svc = SVC(C=self.C, gamma=self.gamma, class_weight=self.class_weight, random_state=self.random_state)
            return CalibratedClassifierCV(svc, ensemble=False, cv=3)      # probabilities by Platt scaling
        return TransformedTargetRegressor(regressor=SVR(C=self.C, gamma=self.gamma, epsilon=self.epsilon),
                                          transformer=StandardScaler())     # epsilon in units of the target's spread


class TabularLinear(_TabularSupervised):
    """Logistic regression / ridge on standardised + one-hot features; picked for small data or when a simple,
    explainable model is wanted."""

    _scale = True

    def __init__(self, *, task: str = "classification", C: float = 1.0, alpha: float = 1.0,
                 class_weight: Any = None, max_iter: int = 1000, random_state: int | None = 0) -> None:
        self.task = task
        self.C = C
        self.alpha = alpha
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.random_state = random_state

    def _make_model(self, n_numeric: int, n_categorical: int) -> Any:
        if self._is_classifier():
            return LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter,
                                      random_state=self.random_state)
        return Ridge(alpha=self.alpha, random_state=self.random_state)

    @property
    def n_iter_(self) -> int:
        """Solver iterations of the logistic regression (classification; most classes for multinomial fits).
        Ridge is solved in closed form: no iterations, so no ``n_iter_`` for the regression task."""
        check_is_fitted(self, "pipeline_")
        n_iter = getattr(self.pipeline_[-1], "n_iter_", None)
        if n_iter is None:
            raise AttributeError("n_iter_: Ridge (task='regression') is solved in closed form")
        return int(np.max(n_iter))

    @property
    def coef_(self) -> np.ndarray:
        """Coefficients on the preprocessed (standardised) features."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_[-1].coef_

    @property
    def feature_importances_(self) -> np.ndarray:
        """Mean |coefficient| per preprocessed feature (features are standardised, so comparable)."""
        coef = np.abs(np.atleast_2d(self.coef_))
        return coef.mean(axis=0) / max(float(coef.mean(axis=0).sum()), 1e-12)


class TabularDecisionTree(_TabularSupervised):
    """A single shallow decision tree with readable rules; picked when the model itself must be explained."""

    def __init__(self, *, task: str = "classification", max_depth: int | None = 5, min_samples_leaf: int = 5,
                 class_weight: Any = None, random_state: int | None = 0) -> None:
        self.task = task
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.class_weight = class_weight
        self.random_state = random_state

    def _make_model(self, n_numeric: int, n_categorical: int) -> Any:
        kw = dict(max_depth=self.max_depth, min_samples_leaf=self.min_samples_leaf, random_state=self.random_state)
        if self._is_classifier():
            return DecisionTreeClassifier(class_weight=self.class_weight, **kw)
        return DecisionTreeRegressor(**kw)

    @property
    def feature_importances_(self) -> np.ndarray:
        """Impurity importances, aligned with ``feature_names_out_``."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_[-1].feature_importances_

    def export_rules(self, max_depth: int = 10, decimals: int = 3) -> str:
        """The tree as indented if/else rules using the real (preprocessed) feature names."""
        check_is_fitted(self, "pipeline_")
        class_names = [str(c) for c in self.classes_] if self._is_classifier() else None
        return export_text(self.pipeline_[-1], feature_names=[str(n) for n in self.feature_names_out_],
                           class_names=class_names, max_depth=max_depth, decimals=decimals)


class TabularIsolationForest(_TabularMixin, OutlierMixin, BaseEstimator):
    """Isolation forest for unsupervised anomaly detection on tabular data (no or very few anomaly labels).

    scikit-learn's outlier convention: ``predict`` returns +1 for inliers and -1 for outliers; ``score_samples`` /
    ``decision_function``: lower = more abnormal, ``decision_function < 0`` = outlier; ``anomaly_score`` is the
    negation of ``score_samples`` (higher = more anomalous); ``score(X, y)`` is ROC AUC of ``anomaly_score``
    with y == 1 (or True) for an anomaly, any other label normal.
    """

    def __init__(self, *, n_estimators: int = 200, max_samples: Any = "auto", contamination: Any = "auto",
                 max_features: float = 1.0, n_jobs: int | None = -1, random_state: int | None = 0) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.contamination = contamination
        self.max_features = max_features
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> TabularIsolationForest:
        """Fit on (mostly normal) data; ``y`` is ignored."""
        df = self._frame_fit(X)
        pre = _preprocessor(self.numeric_features_, self.categorical_features_, encoding="ordinal")
        model = IsolationForest(n_estimators=self.n_estimators, max_samples=self.max_samples,
                                contamination=self.contamination, max_features=self.max_features,
                                n_jobs=self.n_jobs, random_state=self.random_state)
        self.pipeline_ = Pipeline([("preprocess", pre), ("model", model)]).fit(df)
        return self

    def score_samples(self, X: Any) -> np.ndarray:
        """scikit-learn convention: the lower, the more abnormal (about -1 .. -0.3)."""
        df = self._frame(X)
        return self.pipeline_.score_samples(df)

    def decision_function(self, X: Any) -> np.ndarray:
        """scikit-learn convention: ``score_samples`` minus the fitted threshold; < 0 means anomaly."""
        df = self._frame(X)
        return self.pipeline_.decision_function(df)

    @property
    def offset_(self) -> float:
        """scikit-learn convention: ``decision_function = score_samples - offset_``."""
        check_is_fitted(self, "pipeline_")
        return float(self.pipeline_[-1].offset_)

    def anomaly_score(self, X: Any) -> np.ndarray:
        """``-score_samples``: the higher, the more anomalous (what reports usually show)."""
        return -self.score_samples(X)

    def predict(self, X: Any) -> np.ndarray:
        """scikit-learn convention: +1 = inlier (normal), -1 = outlier (anomaly)."""
        return outlier_labels(self.decision_function(X))

    def score(self, X: Any, y: Any) -> float:
        """ROC AUC of the anomaly score against labels ``y`` (1/True = anomaly, any other label normal)."""
        return anomaly_auc(y, self.anomaly_score(X))

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


def outlier_labels(decision: np.ndarray) -> np.ndarray:
    """scikit-learn's outlier labels from a decision function: -1 where it is below 0 (outlier), else +1."""
    return np.where(np.asarray(decision) < 0, -1, 1).astype(np.int64)


def anomaly_auc(y: Any, anomaly_score: np.ndarray) -> float:
    """ROC AUC of an anomaly score (higher = more anomalous) against labels ``y``: 1/True = anomaly."""
    if y is None:
        raise ValueError("score needs labels y (1 = anomaly, 0 = normal)")
    truth = (np.asarray(y) == 1).astype(int).ravel()
    return float(roc_auc_score(truth, anomaly_score))


# ----------------------------------------------------------------------------- text

def _as_texts(X: Any) -> list[str]:
    if isinstance(X, str):
        raise ValueError("expected a sequence of strings, got a single string")
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(f"expected a single text column, got {X.shape[1]} columns")
        X = X.iloc[:, 0]
    vals = pd.Series(list(X) if not isinstance(X, pd.Series) else X, dtype=object)
    return ["" if pd.isna(v) else str(v) for v in vals]


def _tfidf(est: Any) -> FeatureUnion:
    """Word (and optional char) TF-IDF features as a text estimator's parameters describe them."""
    kw = dict(min_df=est.min_df, max_features=est.max_features, sublinear_tf=est.sublinear_tf,
              strip_accents="unicode", lowercase=True)
    parts: list[tuple[str, Any]] = [("word", TfidfVectorizer(analyzer="word", ngram_range=tuple(est.ngram_range),
                                                             token_pattern=r"(?u)\b\w+\b", **kw))]
    if est.char_ngram_range is not None:
        parts.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(est.char_ngram_range), **kw)))
    return FeatureUnion(parts)


class TextTfidfLinear(ClassifierMixin, BaseEstimator):
    """TF-IDF (word 1-2 grams, optional char n-grams) + logistic regression; the advisor's text baseline for
    small/medium labelled corpora or when no GPU is available."""

    def __init__(self, *, ngram_range: tuple[int, int] = (1, 2), char_ngram_range: tuple[int, int] | None = None,
                 min_df: int | float = 1, max_features: int | None = 200_000, sublinear_tf: bool = True,
                 C: float = 10.0, class_weight: Any = None, max_iter: int = 1000,
                 random_state: int | None = 0) -> None:
        self.ngram_range = ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> TextTfidfLinear:
        """Fit on a list/array/Series of strings (or a 1-column DataFrame) and labels ``y``."""
        texts = _as_texts(X)
        clf = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter,
                                 random_state=self.random_state)
        self.pipeline_ = Pipeline([("tfidf", _tfidf(self)), ("model", clf)]).fit(texts, np.asarray(y))
        self.classes_ = clf.classes_
        self.n_features_in_ = 1
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (at ``decision_threshold_`` when set)."""
        check_is_fitted(self, "pipeline_")
        return predict_labels(self, X, lambda X: self.pipeline_.predict(_as_texts(X)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns ordered as ``classes_``."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(_as_texts(X))

    @property
    def feature_names_out_(self) -> np.ndarray:
        """Vocabulary terms (``word__...`` / ``char__...``), aligned with the model coefficients."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_[0].get_feature_names_out()

    def top_terms(self, k: int = 10) -> dict[Any, list[tuple[str, float]]]:
        """The ``k`` terms with the largest positive weight for each class (binary: class 0 gets the negatives)."""
        check_is_fitted(self, "pipeline_")
        names = np.asarray([n.split("__", 1)[1] for n in self.feature_names_out_], dtype=object)
        coef = self.pipeline_[-1].coef_
        rows = [-coef[0], coef[0]] if coef.shape[0] == 1 else list(coef)
        out: dict[Any, list[tuple[str, float]]] = {}
        for label, w in zip(self.classes_, rows):
            idx = np.argsort(-w)[:k]
            out[label.item() if hasattr(label, "item") else label] = [(str(names[i]), float(w[i])) for i in idx]
        return out

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


class TextTfidfRidge(RegressorMixin, BaseEstimator):
    """TF-IDF word (optional char) n-grams + ridge regression (alpha by efficient leave-one-out CV): the
    classical text regressor."""

    def __init__(self, *, ngram_range: tuple[int, int] = (1, 2), char_ngram_range: tuple[int, int] | None = None,
                 min_df: int | float = 1, max_features: int | None = 200_000, sublinear_tf: bool = True,
                 alphas: Sequence[float] = (0.01, 0.1, 1.0, 10.0, 100.0)) -> None:
        self.ngram_range = ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.alphas = alphas

    def fit(self, X: Any, y: Any) -> TextTfidfRidge:
        """Fit on a list/array/Series of strings (or a 1-column DataFrame) and a numeric target ``y``."""
        reg = RidgeCV(alphas=np.asarray(self.alphas, dtype=np.float64))
        self.pipeline_ = Pipeline([("tfidf", _tfidf(self)), ("model", reg)]).fit(
            _as_texts(X), np.asarray(y, dtype=np.float64).ravel())
        self.n_features_in_ = 1
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict(_as_texts(X))

    @property
    def feature_names_out_(self) -> np.ndarray:
        """Vocabulary terms, aligned with the ridge coefficients."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_[0].get_feature_names_out()

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


# ----------------------------------------------------------------------------- image

class _HandcraftedImageModel:
    """Shared by the hand-made-feature image models: ``pipeline_ = [("features", ...), ("model", head)]``."""

    pipeline_: Pipeline
    feature_groups: Sequence[str]
    image_size: int
    n_jobs: int | None

    def _fit_pipeline(self, X: Any, y: np.ndarray, head: Any) -> None:
        feats = HandcraftedImageFeatures(groups=tuple(self.feature_groups), image_size=self.image_size,
                                         n_jobs=self.n_jobs)
        self.pipeline_ = Pipeline([("features", feats), ("model", head)]).fit(X, y)

    def extract_features(self, X: Any) -> np.ndarray:
        """The hand-crafted feature matrix for images ``X`` (columns named by ``feature_names_out_``)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_[0].transform(X)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (classifier; at ``decision_threshold_`` when set) or values (regressor)."""
        check_is_fitted(self, "pipeline_")
        return predict_labels(self, X, self.pipeline_.predict)

    @property
    def feature_names_out_(self) -> np.ndarray:
        """Readable feature names (e.g. ``hsv_h_hist03``, ``lbp_p8r1_bin05``)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_[0].get_feature_names_out()

    @property
    def feature_importances_(self) -> np.ndarray:
        """Impurity importances aligned with ``feature_names_out_`` (random-forest head only)."""
        check_is_fitted(self, "pipeline_")
        model = self.pipeline_[-1]
        if not hasattr(model, "feature_importances_"):
            raise AttributeError("feature_importances_ needs head='random_forest'; "
                                 "use sklearn.inspection.permutation_importance on extract_features(X)")
        return model.feature_importances_

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


def feature_head(est: Any) -> Any:
    """The classifier over hand-made features that `est.head` names (random_forest, gradient_boosting or a
    standardised logistic), built from `est`'s own settings: one place for the image, audio and video feature
    models."""
    if est.head == "random_forest":
        return RandomForestClassifier(n_estimators=est.n_estimators, class_weight=est.class_weight,
                                      n_jobs=est.n_jobs, random_state=est.random_state)
    if est.head == "gradient_boosting":
        return HistGradientBoostingClassifier(max_iter=est.max_iter, learning_rate=est.learning_rate,
                                              class_weight=est.class_weight, random_state=est.random_state)
    if est.head == "logistic":
        return Pipeline([("scale", StandardScaler()),
                         ("model", LogisticRegression(C=est.C, class_weight=est.class_weight, max_iter=2000,
                                                      random_state=est.random_state))])
    raise ValueError(f"head must be 'random_forest', 'gradient_boosting' or 'logistic', got {est.head!r}")


class ImageHandcraftedForest(_HandcraftedImageModel, ClassifierMixin, BaseEstimator):
    """Hand-crafted image features (HSV colour, LBP/GLCM texture, edges, HOG, shape) + random forest or gradient
    boosting; the advisor picks it for small image datasets, CPU-only budgets or when explanations matter."""

    def __init__(self, *, head: str = "random_forest", image_size: int = 128,
                 feature_groups: Sequence[str] = FEATURE_GROUPS, n_estimators: int = 300, max_iter: int = 200,
                 learning_rate: float = 0.1, C: float = 1.0, class_weight: Any = None, n_jobs: int | None = -1,
                 random_state: int | None = 0) -> None:
        self.head = head
        self.image_size = image_size
        self.feature_groups = feature_groups
        self.n_estimators = n_estimators
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.C = C
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> ImageHandcraftedForest:
        """Fit on images (array (N,H,W[,C]) or list of arrays / paths) and labels ``y``."""
        head = feature_head(self)
        self._fit_pipeline(X, np.asarray(y), head)
        self.classes_ = head.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns ordered as ``classes_``."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(X)


class ImageHandcraftedForestRegressor(_HandcraftedImageModel, RegressorMixin, BaseEstimator):
    """Hand-crafted image features + random-forest (or gradient-boosting) regression: the classical image
    regressor, with importances over named features."""

    def __init__(self, *, head: str = "random_forest", image_size: int = 128,
                 feature_groups: Sequence[str] = FEATURE_GROUPS, n_estimators: int = 300, max_iter: int = 200,
                 learning_rate: float = 0.1, n_jobs: int | None = -1, random_state: int | None = 0) -> None:
        self.head = head
        self.image_size = image_size
        self.feature_groups = feature_groups
        self.n_estimators = n_estimators
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> ImageHandcraftedForestRegressor:
        """Fit on images (array (N,H,W[,C]) or list of arrays / paths) and a numeric target ``y``."""
        if self.head == "random_forest":
            head: Any = RandomForestRegressor(n_estimators=self.n_estimators, n_jobs=self.n_jobs,
                                              random_state=self.random_state)
        elif self.head == "gradient_boosting":
            head = HistGradientBoostingRegressor(max_iter=self.max_iter, learning_rate=self.learning_rate,
                                                 random_state=self.random_state)
        else:
            raise ValueError(f"head must be 'random_forest' or 'gradient_boosting', got {self.head!r}")
        self._fit_pipeline(X, np.asarray(y, dtype=np.float64).ravel(), head)
        return self


class ImageHandcraftedIsolationForest(TabularIsolationForest):
    """Hand-crafted image features (colour, texture, edges, shape) into an isolation forest: classical image
    anomaly detection when no pretrained network fits. Same conventions as ``TabularIsolationForest``."""

    def __init__(self, *, image_size: int = 128, n_estimators: int = 200, max_samples: Any = "auto",
                 contamination: Any = "auto", max_features: float = 1.0, n_jobs: int | None = -1,
                 random_state: int | None = 0) -> None:
        super().__init__(n_estimators=n_estimators, max_samples=max_samples, contamination=contamination,
                         max_features=max_features, n_jobs=n_jobs, random_state=random_state)
        self.image_size = image_size

    def _features(self, X: Any) -> np.ndarray:
        return HandcraftedImageFeatures(image_size=self.image_size, n_jobs=self.n_jobs).fit_transform(X)

    def fit(self, X: Any, y: Any = None) -> ImageHandcraftedIsolationForest:
        """Fit on (mostly normal) images; ``y`` is ignored."""
        return super().fit(self._features(X))

    def score_samples(self, X: Any) -> np.ndarray:
        return super().score_samples(self._features(X))

    def decision_function(self, X: Any) -> np.ndarray:
        return super().decision_function(self._features(X))


# ----------------------------------------------------------------------------- audio and video clips

class _NamedFeaturesClassifier(ClassifierMixin, BaseEstimator):
    """Named features of a clip (a stateless transformer ``_features`` builds) + ``feature_head``: one fit /
    predict / importance path for the audio and video classical models. ``_checked`` says which inputs pass."""

    def _features(self) -> Any:
        raise NotImplementedError

    def _checked(self, X: Any, *, reset: bool, y: Any = None) -> Any:
        return X

    def fit(self, X: Any, y: Any) -> Any:
        """Fit on clips and labels ``y``: the features are computed once, then the head is fitted on them."""
        from zoo.devices import small_fit_threads

        X = self._checked(X, reset=True, y=y)
        y = column_or_1d(y)
        feats = self._features().fit()
        F = feats.transform(X)
        with small_fit_threads(len(y)):             # OpenMP threads only spin-wait on a few hundred clips
            self.pipeline_ = Pipeline([("features", feats), ("model", feature_head(self).fit(F, y))])
        self.classes_ = self.pipeline_[-1].classes_
        model = self.pipeline_[-1][-1] if self.head == "logistic" else self.pipeline_[-1]
        if hasattr(model, "n_iter_"):
            self.n_iter_ = model.n_iter_
        return self

    def extract_features(self, X: Any) -> np.ndarray:
        """The feature matrix for clips ``X`` (columns named by ``feature_names_out_``)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_[0].transform(self._checked(X, reset=False))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels."""
        return self.head_predict(self.extract_features(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns ordered as ``classes_``."""
        F = self.extract_features(X)
        with _one_thread():
            return self.pipeline_[-1].predict_proba(F)

    def head_predict(self, F: np.ndarray) -> np.ndarray:
        """Labels the fitted head gives a feature matrix from ``extract_features`` (one predict for many rows)."""
        check_is_fitted(self, "pipeline_")
        with _one_thread():
            return self.pipeline_[-1].predict(F)

    @property
    def feature_names_out_(self) -> np.ndarray:
        """Readable feature names (``mfcc03_mean``, ``phase_dx_mean`` ...)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_[0].get_feature_names_out()

    @property
    def feature_importances_(self) -> np.ndarray:
        """Impurity importances aligned with ``feature_names_out_`` (tree heads with importances only)."""
        check_is_fitted(self, "pipeline_")
        model = self.pipeline_[-1]
        if not hasattr(model, "feature_importances_"):
            raise AttributeError(f"feature_importances_ needs head='random_forest', not {self.head!r}; use "
                                 "sklearn.inspection.permutation_importance on extract_features(X)")
        return model.feature_importances_


class AudioFeaturesClassifier(_NamedFeaturesClassifier):
    """Named audio summary features (``zoo.audio.AudioFeatures``: MFCC means/stds and deltas, spectral shape,
    zero-crossing rate, RMS) + gradient boosting, random forest or standardised logistic regression: the classical
    route for clip classification (keywords, sound events). ``X``: clip paths or 1-D arrays at ``sample_rate``."""

    def __init__(self, *, head: str = "gradient_boosting", sample_rate: int = SAMPLE_RATE,
                 duration: float = DURATION, n_mfcc: int = 20, n_estimators: int = 300, max_iter: int = 200,
                 learning_rate: float = 0.1, C: float = 1.0, class_weight: Any = None, n_jobs: int | None = -1,
                 random_state: int | None = 0) -> None:
        self.head = head
        self.sample_rate = sample_rate
        self.duration = duration
        self.n_mfcc = n_mfcc
        self.n_estimators = n_estimators
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.C = C
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _features(self) -> AudioFeatures:
        return AudioFeatures(sample_rate=self.sample_rate, duration=self.duration, n_mfcc=self.n_mfcc)

    def _checked(self, X: Any, *, reset: bool, y: Any = None) -> Any:
        """Clip paths, or a list of 1-D clips of any lengths, as they are; anything else is an array of clips (one
        per row), validated as scikit-learn does (2-D, dense, finite, the width seen in ``fit``)."""
        import os

        from sklearn.utils.validation import validate_data

        if isinstance(X, (str, os.PathLike)) or (isinstance(X, (list, tuple)) and len(X) and (
                isinstance(X[0], (str, os.PathLike)) or (isinstance(X[0], np.ndarray) and X[0].ndim == 1))):
            return X
        if y is not None:
            return validate_data(self, X, y, dtype=np.float32, reset=reset)[0]
        return validate_data(self, X, dtype=np.float32, reset=reset)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        return tags


class VideoMotionForest(_NamedFeaturesClassifier):
    """Named video features (``zoo.video_features.VideoMotionFeatures``: per-frame colour / texture statistics and
    motion from frame differences: energy, moving area, signed shifts by phase correlation and by the centroid of
    the moving pixels; pooled over time) + random forest (or gradient boosting / standardised logistic regression):
    the classical route for clip classification, importances over the feature names. ``X``: clip paths or
    ``(T, H, W, 3)`` frame arrays; ``n_frames`` frames are sampled uniformly from each clip."""

    def __init__(self, *, head: str = "random_forest", n_frames: int = N_FRAMES, frame_size: int = FRAME_SIZE,
                 feature_groups: Sequence[str] = VIDEO_FEATURE_GROUPS, n_estimators: int = 300, max_iter: int = 200,
                 learning_rate: float = 0.1, C: float = 1.0, class_weight: Any = None, n_jobs: int | None = -1,
                 random_state: int | None = 0) -> None:
        self.head = head
        self.n_frames = n_frames
        self.frame_size = frame_size
        self.feature_groups = feature_groups
        self.n_estimators = n_estimators
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.C = C
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _features(self) -> VideoMotionFeatures:
        return VideoMotionFeatures(n_frames=self.n_frames, frame_size=self.frame_size,
                                   feature_groups=self.feature_groups)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags


# ----------------------------------------------------------------------------- time series

def temporal_train_test_split(X: Any, y: Any, *, test_size: int | float = 0.2) -> tuple[Any, Any, Any, Any]:
    """Time-ordered split (no shuffling): the last ``test_size`` points (int) or fraction (float) are the test set.

    ``X`` may be None (returns None for both X parts). Returns ``X_train, X_test, y_train, y_test``.
    """
    n = len(y)
    n_test = int(round(test_size * n)) if isinstance(test_size, float) else int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"test_size={test_size!r} leaves no train or no test data for {n} points")

    def cut(a: Any, sl: slice) -> Any:
        if a is None:
            return None
        return a.iloc[sl] if isinstance(a, (pd.Series, pd.DataFrame)) else a[sl]

    head, tail = slice(0, n - n_test), slice(n - n_test, n)
    return cut(X, head), cut(X, tail), cut(y, head), cut(y, tail)


_CALENDAR = (("hour", "1D"), ("day_of_week", "7D"), ("day", "28D"), ("day_of_year", "28D"), ("month", "365D"))


class TsLagGradientBoosting(RegressorMixin, BaseEstimator):
    """Forecasting with gradient boosting on lag, rolling-mean and calendar features (recursive multi-step);
    the advisor's default for a single univariate series with at least a few dozen points.

    ``fit(X, y)``: ``y`` = values in time order; ``X`` = their timestamps (array / Series / DatetimeIndex /
    DataFrame with one datetime column) or None. ``fit(series)`` also works for a pd.Series (its DatetimeIndex,
    if any, gives the timestamps). ``forecast(steps)`` continues after the training data; ``predict(X)`` forecasts
    ``len(X)`` steps (X = future timestamps, or an int number of steps). ``score`` is R² over that horizon.
    ``lags`` (int k -> lags 1..k, capped at n // 3) and ``rolling_windows`` use only past values.
    ``difference=True`` models the differenced series y[t] - y[t-1] (for trending series); ``"auto"`` (the
    default) does so when ``zoo.forecasting.has_trend`` finds a trend in the training series (``difference_``);
    calendar fields (hour, day_of_week, day, day_of_year, month) are used when the step is finer than their period.
    After ``fit``: ``series_`` holds the training observations the forecasts continue from (as in ``TsGRU``;
    ``history_`` is only ever a torch model's training curve), ``index_`` their timestamps or None.
    """

    def __init__(self, *, lags: int | Sequence[int] = 24, rolling_windows: Sequence[int] = (3, 7, 12),
                 calendar: bool = True, difference: bool | str = "auto", learning_rate: float = 0.05,
                 max_iter: int = 300, max_leaf_nodes: int = 15, min_samples_leaf: int = 10,
                 random_state: int | None = 0) -> None:
        self.lags = lags
        self.rolling_windows = rolling_windows
        self.calendar = calendar
        self.difference = difference
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def _lag_matrix(self, v: np.ndarray) -> np.ndarray:
        """Rows for positions t = m .. len(v)-1, each built from v[:t] only (m = longest look-back)."""
        m, n = self.max_lookback_, len(v)
        c = np.concatenate([[0.0], np.cumsum(v)])
        cols = [v[m - lag: n - lag] for lag in self.lags_]
        cols += [(c[m:n] - c[m - w: n - w]) / w for w in self.rolling_windows_]
        return np.column_stack(cols)

    def _calendar_matrix(self, ts: pd.DatetimeIndex) -> np.ndarray:
        return np.column_stack([np.asarray(getattr(ts, f), dtype=float) for f in self.calendar_features_])

    def _design(self, v: np.ndarray, ts: pd.DatetimeIndex | None) -> np.ndarray:
        X = self._lag_matrix(v)
        if self.calendar_features_ and ts is not None:
            X = np.hstack([X, self._calendar_matrix(ts[self.max_lookback_:])])
        return X

    def fit(self, X: Any = None, y: Any = None) -> TsLagGradientBoosting:
        """Fit on the series ``y`` (time order) with optional timestamps ``X``; ``fit(series)`` also accepted."""
        ts, v = series_input(X, y)
        self.difference_ = (has_trend(v, season_length(ts, v)) if self.difference == "auto"
                            else bool(self.difference))
        w = np.diff(v) if self.difference_ else v         # the series the model learns
        n = len(w)
        cap = max(1, n // 3)
        lags = list(range(1, min(int(self.lags), cap) + 1)) if np.isscalar(self.lags) else sorted(set(self.lags))
        self.lags_ = [int(lag) for lag in lags if 1 <= lag <= cap] or [1]
        self.rolling_windows_ = sorted({int(r) for r in self.rolling_windows if 2 <= r <= cap})
        self.max_lookback_ = max(self.lags_ + self.rolling_windows_)
        if n - self.max_lookback_ < 10:
            raise ValueError(f"series too short ({len(v)} points) for the lag features")
        self.calendar_features_ = []
        if ts is not None:
            freq = ts.freq or pd.DatetimeIndex(ts, freq="infer").freq
            step = pd.Series(ts).diff().median()
            self.freq_ = freq if freq is not None else step
            if self.calendar:                    # keep calendar fields finer than their period and varying
                self.calendar_features_ = [f for f, period in _CALENDAR
                                           if step < pd.Timedelta(period) and getattr(ts, f).nunique() > 1]
        self.feature_names_out_ = np.asarray([f"lag_{lag}" for lag in self.lags_]
                                             + [f"rolling_mean_{r}" for r in self.rolling_windows_]
                                             + list(self.calendar_features_), dtype=object)
        w_ts = None if ts is None else ts[len(ts) - n:]
        design = self._design(w, w_ts)
        self.model_ = HistGradientBoostingRegressor(
            learning_rate=self.learning_rate, max_iter=self.max_iter, max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf, random_state=self.random_state,
        ).fit(design, w[self.max_lookback_:])
        self.series_ = v
        self.index_ = ts
        return self

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "history_" in state and "series_" not in state:     # pickled before the rename
            state["series_"] = state.pop("history_")
        if "model_" in state and "difference_" not in state:      # pickled before difference="auto"
            state["difference_"] = bool(state.get("difference"))
        super().__setstate__(state)

    def _future_index(self, steps: int) -> pd.Index:
        if self.index_ is None:
            return pd.RangeIndex(len(self.series_), len(self.series_) + steps)
        return pd.DatetimeIndex([self.index_[-1] + (i + 1) * self.freq_ for i in range(steps)])

    def _recursive(self, ts: pd.Index) -> np.ndarray:
        check_is_fitted(self, "model_")
        w = np.diff(self.series_) if self.difference_ else self.series_
        hist = list(w[-self.max_lookback_:])
        with _one_thread():                                   # one-row predictions: threads only cost
            for t in ts:
                row = self._lag_matrix(np.asarray(hist[-self.max_lookback_:] + [np.nan]))[-1:]
                if self.calendar_features_:
                    row = np.hstack([row, self._calendar_matrix(pd.DatetimeIndex([t]))])
                hist.append(float(self.model_.predict(row)[0]))
        out = np.asarray(hist[self.max_lookback_:])
        return self.series_[-1] + np.cumsum(out) if self.difference_ else out

    def forecast(self, steps: int) -> pd.Series:
        """Recursive forecast of the next ``steps`` points after the training data, indexed by future time."""
        if int(steps) < 1:
            raise ValueError("steps must be >= 1")
        idx = self._future_index(int(steps))
        return pd.Series(self._recursive(idx), index=idx, name="forecast")

    def predict(self, X: Any) -> np.ndarray:
        """Forecast ``len(X)`` steps after the training data (X = future timestamps), or ``X`` steps if an int."""
        check_is_fitted(self, "model_")
        if isinstance(X, (int, np.integer)):
            return self.forecast(int(X)).to_numpy()
        ts = timestamps_of(X) if self.calendar_features_ else None
        steps = len(X) if ts is None else len(ts)
        return self._recursive(ts if ts is not None else self._future_index(steps))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of the forecast over the horizon right after the training data (``X`` = its timestamps or None)."""
        y_true = np.asarray(y, dtype=np.float64).ravel()
        y_pred = self.predict(len(y_true) if X is None else X)
        return float(r2_score(y_true, y_pred, sample_weight=sample_weight))
