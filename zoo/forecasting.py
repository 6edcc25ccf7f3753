"""Forecasting: the season and horizon of a series, MASE / sMAPE, rolling-origin backtests, and the forecasters.

Every forecaster here follows the interface of ``zoo.classical.TsLagGradientBoosting``: ``fit(X, y)`` with ``y``
the values in time order and ``X`` their timestamps (or None), or ``fit(series)``; ``predict(X)`` forecasts
``len(X)`` steps right after the end of the training data (``X`` = the future timestamps, or an int number of
steps); ``forecast(steps)`` returns the same as a pd.Series indexed by future time; ``score`` is R² over that
horizon. Model selection calls them through :func:`rolling_origins` on the training split only.

Imported lazily by ``zoo.create_model`` (imports scikit-learn; statsmodels only when ``TsETS`` is fitted).
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

__all__ = ["TsDirectLinear", "TsETS", "TsNaive", "TsSeasonalNaive", "backtest", "default_horizon",
           "frequency_name", "has_trend", "mase", "rolling_origins", "season_length", "series_input", "smape",
           "step_of", "timestamps_of"]

# M4 competition horizons per sampling frequency (Makridakis et al., 2020): a standard, stated default.
_HORIZONS = (("hour", 48), ("day", 14), ("week", 13), ("month", 18), ("quarter", 8), ("year", 6))
_SEASONS = {"hour": 24, "day": 7, "week": 52, "month": 12, "quarter": 4}
_MAX_ACF_LAG = 400


# ----------------------------------------------------------------------------- inputs

def timestamps_of(X: Any) -> Optional[pd.DatetimeIndex]:
    """X (None, timestamps array/Series/Index, or a DataFrame with one datetime column) -> DatetimeIndex."""
    if X is None or isinstance(X, (int, np.integer)):
        return None
    if isinstance(X, pd.DataFrame):
        dt_cols = [c for c in X.columns if pd.api.types.is_datetime64_any_dtype(X[c])]
        if len(dt_cols) == 1:
            return pd.DatetimeIndex(X[dt_cols[0]])
        if X.shape[1] == 1:
            return pd.DatetimeIndex(pd.to_datetime(X.iloc[:, 0]))
        raise ValueError("X must hold exactly one datetime column (the timestamps)")
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(X).ravel()))


def series_input(X: Any, y: Any) -> tuple[Optional[pd.DatetimeIndex], np.ndarray]:
    """A forecaster's fit input: ``fit(timestamps_or_None, y)`` or ``fit(series)`` -> (timestamps, finite values)."""
    if y is None:
        if not isinstance(X, pd.Series):
            raise ValueError("pass fit(X_timestamps_or_None, y) or fit(pd.Series)")
        X, y = (X.index if isinstance(X.index, pd.DatetimeIndex) else None), X
    v = np.asarray(y, dtype=np.float64).ravel()
    if not np.isfinite(v).all():
        raise ValueError("y contains NaN/inf; fill or interpolate the series first")
    ts = timestamps_of(X)
    if ts is not None and len(ts) != len(v):
        raise ValueError(f"{len(ts)} timestamps for {len(v)} values")
    return ts, v


def step_of(ts: Optional[pd.DatetimeIndex]) -> Any:
    """The sampling step of timestamps: their inferred pandas frequency, else the median gap; None without."""
    if ts is None or len(ts) < 2:
        return None
    freq = ts.freq or (pd.DatetimeIndex(ts, freq="infer").freq if len(ts) >= 3 and ts.is_unique else None)
    if freq is not None:
        return freq
    return pd.Series(ts).diff().median()


def frequency_name(ts: Optional[pd.DatetimeIndex]) -> Optional[str]:
    """hour, day, week, month, quarter or year (from the median gap), or None (no timestamps, other steps)."""
    if ts is None or len(ts) < 2:
        return None
    days = pd.Series(ts).diff().median() / pd.Timedelta("1D")
    for name, lo, hi in (("hour", 1 / 24 * 0.9, 1 / 24 * 1.1), ("day", 0.9, 1.1), ("week", 6.5, 7.5),
                         ("month", 27.5, 31.5), ("quarter", 88, 93), ("year", 360, 370)):
        if lo <= days <= hi:
            return name
    return None


# ----------------------------------------------------------------------------- season, trend, horizon

def _acf(v: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelations of v at lags 0..max_lag (FFT)."""
    x = v - v.mean()
    n = len(x)
    size = 1 << int(math.ceil(math.log2(2 * n)))
    f = np.fft.rfft(x, size)
    r = np.fft.irfft(f * np.conj(f), size)[: max_lag + 1]
    return r / r[0] if r[0] > 0 else np.zeros(max_lag + 1)


def _acf_at(v: np.ndarray, lag: int) -> float:
    return float(_acf(v, lag)[lag]) if len(v) > lag + 2 else 0.0


def _detrended(v: np.ndarray) -> np.ndarray:
    t = np.arange(len(v), dtype=float)
    return v - np.polyval(np.polyfit(t, v, 1), t) if len(v) > 2 else v - v.mean()


def _acf_peak(v: np.ndarray) -> int:
    """The lag of the highest clear autocorrelation peak of the detrended series (1: no clear cycle): a local
    maximum above 0.2 that stands at least 0.2 above the lowest autocorrelation at a shorter lag (the slow
    decay of a random walk has no such peak)."""
    x = _detrended(v)
    max_lag = min(len(x) // 3, _MAX_ACF_LAG)
    if max_lag < 3 or np.std(x) == 0:
        return 1
    r = _acf(x, max_lag + 1)
    peaks = [k for k in range(2, max_lag + 1)
             if r[k] > r[k - 1] and r[k] >= r[k + 1] and r[k] > 0.2 and r[k] - r[1:k].min() >= 0.2]
    return max(peaks, key=lambda k: r[k]) if peaks else 1


def season_length(timestamps: Any, y: Any) -> int:
    """The seasonal period of a series, measured on the (training) data given; 1 = no season.

    From the sampling frequency: hourly 24, daily 7, weekly 52, monthly 12, quarterly 4; a daily series
    covering at least two years whose yearly cycle is the stronger (autocorrelation at lag 365 of the detrended
    series above that at lag 7 of the differenced one) gets 365. Without timestamps, for yearly data and other
    steps: the lag of the highest autocorrelation peak of the differenced series (sunspots: about 11).
    """
    v = np.asarray(y, dtype=np.float64).ravel()
    freq = frequency_name(timestamps_of(timestamps))
    if freq == "day" and len(v) >= 730 and _acf_at(_detrended(v), 365) > _acf_at(np.diff(v), 7):
        return 365
    if freq in _SEASONS:
        return _SEASONS[freq]
    return _acf_peak(v)


def default_horizon(timestamps: Any, n: int) -> int:
    """Steps to forecast when ``data.horizon`` is not given: the M4 competition's horizons (hourly 48, daily 14,
    weekly 13, monthly 18, quarterly 8, yearly 6; 10 without timestamps), capped at 20 % of the n points."""
    freq = frequency_name(timestamps_of(timestamps))
    h = dict(_HORIZONS).get(freq or "", 10)
    return max(1, min(h, int(0.2 * n)))


def has_trend(y: Any, season: int = 1) -> bool:
    """True when a straight line explains at least a quarter of the variance of the series (after averaging
    over each ``season``, so that a strong cycle does not hide a steady trend)."""
    v = np.asarray(y, dtype=np.float64).ravel()
    total = np.var(v)
    if season > 1 and len(v) >= 2 * season:
        v = np.convolve(v, np.ones(season) / season, mode="valid")
    if len(v) < 4 or total == 0:
        return False
    t = np.arange(len(v), dtype=float)
    return float(np.var(np.polyval(np.polyfit(t, v, 1), t)) / total) >= 0.25


# ----------------------------------------------------------------------------- metrics

def _scale(y_train: np.ndarray, season: int) -> float:
    s = season if season > 1 and len(y_train) >= 2 * season else 1
    if len(y_train) <= s:
        return float("nan")
    return float(np.mean(np.abs(y_train[s:] - y_train[:-s])))


def mase(y_true: Any, y_pred: Any, y_train: Any, season: int = 1) -> float:
    """Mean absolute scaled error: MAE over the in-sample MAE of the seasonal-naive forecast on the training
    series (lag-1 naive when the series is shorter than two seasons); NaN when that scale is zero."""
    yt, yp = np.asarray(y_true, dtype=np.float64).ravel(), np.asarray(y_pred, dtype=np.float64).ravel()
    scale = _scale(np.asarray(y_train, dtype=np.float64).ravel(), int(season))
    mae = float(np.mean(np.abs(yt - yp)))
    return mae / scale if scale > 0 else float("nan")


def smape(y_true: Any, y_pred: Any) -> float:
    """Symmetric MAPE in percent (0-200): mean of 200 |e| / (|y| + |ŷ|), a 0/0 term counting 0."""
    yt, yp = np.asarray(y_true, dtype=np.float64).ravel(), np.asarray(y_pred, dtype=np.float64).ravel()
    den = np.abs(yt) + np.abs(yp)
    terms = np.divide(200.0 * np.abs(yt - yp), den, out=np.zeros_like(den), where=den > 0)
    return float(terms.mean())


# ----------------------------------------------------------------------------- backtests

def rolling_origins(n: int, horizon: int, n_origins: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window backtest splits over positions 0..n-1: (train = all before the cut-off, validation = the
    next ``horizon`` points), cut-offs ``horizon`` apart, the last validation window ending at n. Origins whose
    training part would be shorter than max(2 * horizon, 10) are left out; ValueError when none is left."""
    horizon, n = int(horizon), int(n)
    if horizon < 1 or n_origins < 1:
        raise ValueError("horizon and n_origins must be >= 1")
    min_train = max(2 * horizon, 10)
    cuts = [n - horizon * k for k in range(int(n_origins), 0, -1)]
    splits = [(np.arange(c), np.arange(c, c + horizon)) for c in cuts if c >= min_train]
    if not splits:
        raise ValueError(f"{n} points are too few for a backtest with horizon {horizon} "
                         f"(need at least {min_train + horizon})")
    return splits


def _take(X: Any, idx: np.ndarray) -> Any:
    if X is None:
        return None
    return X.iloc[idx] if hasattr(X, "iloc") else np.asarray(X)[idx]


def backtest(estimator: Any, X: Any, y: Any, horizon: int, n_origins: int = 3,
             season: Optional[int] = None) -> list[float]:
    """MASE of a fresh clone of ``estimator`` at each rolling origin of (X, y) (use the training split only)."""
    y = np.asarray(y, dtype=np.float64).ravel()
    scores = []
    for tr, va in rolling_origins(len(y), horizon, n_origins):
        est = clone(estimator).fit(_take(X, tr), y[tr])
        pred = est.predict(len(va) if X is None else _take(X, va))
        s = season if season is not None else season_length(_take(X, tr), y[tr])
        scores.append(mase(y[va], pred, y[tr], s))
    return scores


# ----------------------------------------------------------------------------- forecasters

class _Forecaster(RegressorMixin, BaseEstimator):
    """Shared plumbing: the training series, its timestamps, future indices, predict / forecast / score."""

    def fit(self, X: Any = None, y: Any = None) -> Any:
        """Fit on the series ``y`` (time order) with optional timestamps ``X``; ``fit(series)`` also accepted."""
        ts, v = series_input(X, y)
        if len(v) < 2:
            raise ValueError(f"series too short ({len(v)} points) to forecast")
        self.series_, self.index_, self.freq_ = v, ts, step_of(ts)
        self._fit(v, ts)
        return self

    def _fit(self, v: np.ndarray, ts: Optional[pd.DatetimeIndex]) -> None:
        raise NotImplementedError

    def _forecast(self, steps: int) -> np.ndarray:
        raise NotImplementedError

    def _future_index(self, steps: int) -> pd.Index:
        if self.index_ is None or self.freq_ is None:
            return pd.RangeIndex(len(self.series_), len(self.series_) + steps)
        return pd.DatetimeIndex([self.index_[-1] + (i + 1) * self.freq_ for i in range(steps)])

    def forecast(self, steps: int) -> pd.Series:
        """Forecast of the next ``steps`` points after the training data, indexed by future time."""
        check_is_fitted(self, "series_")
        if int(steps) < 1:
            raise ValueError("steps must be >= 1")
        out = np.asarray(self._forecast(int(steps)), dtype=np.float64)
        return pd.Series(out, index=self._future_index(int(steps)), name="forecast")

    def predict(self, X: Any) -> np.ndarray:
        """Forecast ``len(X)`` steps after the training data (X = future timestamps), or ``X`` steps if an int."""
        check_is_fitted(self, "series_")
        steps = int(X) if isinstance(X, (int, np.integer)) else len(X)
        return np.asarray(self._forecast(steps), dtype=np.float64)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of the forecast over the horizon right after the training data (``X`` = its timestamps or None)."""
        y_true = np.asarray(y, dtype=np.float64).ravel()
        y_pred = self.predict(len(y_true) if X is None else X)
        return float(r2_score(y_true, y_pred, sample_weight=sample_weight))


class TsNaive(_Forecaster):
    """Baseline: every future point is the last observed value."""

    def __init__(self) -> None:
        pass

    def _fit(self, v: np.ndarray, ts: Optional[pd.DatetimeIndex]) -> None:
        self.last_ = float(v[-1])

    def _forecast(self, steps: int) -> np.ndarray:
        return np.full(steps, self.last_)


class TsSeasonalNaive(_Forecaster):
    """Baseline: repeat the last observed season (``season=None``: :func:`season_length` of the training data;
    a season longer than the series, or 1, is the naive last value)."""

    def __init__(self, *, season: Optional[int] = None) -> None:
        self.season = season

    def _fit(self, v: np.ndarray, ts: Optional[pd.DatetimeIndex]) -> None:
        s = int(self.season) if self.season is not None else season_length(ts, v)
        self.season_ = s if 1 <= s <= len(v) else 1
        self.last_season_ = v[-self.season_:].copy()

    def _forecast(self, steps: int) -> np.ndarray:
        return np.resize(self.last_season_, steps)


class TsDirectLinear(_Forecaster):
    """Direct multi-horizon ridge regression: one model per step ahead h predicts y[t+h] - y[t] from the recent
    changes y[t] - y[t-i] (``lags``), the seasonal-naive change y[t+h-ks] - y[t], and Fourier terms of the season
    at t and t+h (``fourier`` pairs). It nests the naive (all weights 0) and seasonal-naive forecasts, follows a
    trend through its per-step intercept, and never feeds its own forecasts back. Alpha by leave-one-out CV.

    ``horizon``: steps modelled; longer forecasts continue block by block from the end of the previous block.
    ``season=None``: :func:`season_length` of the training data.
    """

    def __init__(self, *, horizon: int = 24, lags: int = 12, fourier: int = 3, season: Optional[int] = None,
                 alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1000.0)) -> None:
        self.horizon = horizon
        self.lags = lags
        self.fourier = fourier
        self.season = season
        self.alphas = alphas

    def _period(self, ts: Optional[pd.DatetimeIndex]) -> float:
        return 365.25 if self.season_ == 365 and frequency_name(ts) == "day" else float(self.season_)

    def _features(self, v: np.ndarray, t: np.ndarray, h: int) -> np.ndarray:
        """Rows for origins t (arrays of positions, each with t - lags >= 0) predicting h steps ahead."""
        cols = [v[t] - v[t - i] for i in range(1, self.lags_ + 1)]
        s = self.season_
        if self.use_season_lag_:
            k = -(-h // s)
            cols.append(v[t + h - k * s] - v[t])
        for j in range(1, self.fourier_ + 1):
            for pos in (t, t + h):
                w = 2 * np.pi * j * pos / self.period_
                cols += [np.sin(w), np.cos(w)]
        return np.column_stack(cols) if cols else np.zeros((len(t), 0))

    def _fit(self, v: np.ndarray, ts: Optional[pd.DatetimeIndex]) -> None:
        n = len(v)
        s = int(self.season) if self.season is not None else season_length(ts, v)
        self.season_ = s if s >= 1 else 1
        self.period_ = self._period(ts)
        self.horizon_ = max(1, int(self.horizon))
        self.lags_ = max(0, min(int(self.lags), n // 4))
        self.use_season_lag_ = self.season_ > 1 and n - self.season_ - self.horizon_ >= 20
        self.fourier_ = min(int(self.fourier), self.season_ // 2) if self.season_ > 2 else 0
        start = max(self.lags_, self.season_ if self.use_season_lag_ else 0)
        self.horizon_ = min(self.horizon_, n - start - 10)     # at least 10 training rows per step ahead
        if self.horizon_ < 1:
            raise ValueError(f"series too short ({n} points) for the direct model")
        self.models_ = []
        for h in range(1, self.horizon_ + 1):
            t = np.arange(start, n - h)
            X = self._features(v, t, h)
            model = make_pipeline(StandardScaler(), RidgeCV(alphas=self.alphas)) if X.shape[1] else None
            self.models_.append(model.fit(X, v[t + h] - v[t]) if model else float(np.mean(v[t + h] - v[t])))

    def _block(self, v: np.ndarray) -> np.ndarray:
        """The next ``horizon_`` points after the end of ``v``, one direct model per step."""
        t = np.array([len(v) - 1])
        return np.array([v[-1] + (m if isinstance(m, float) else float(m.predict(self._features(v, t, h))[0]))
                         for h, m in enumerate(self.models_, start=1)])

    def _forecast(self, steps: int) -> np.ndarray:
        v = self.series_
        while len(v) < len(self.series_) + steps:       # beyond the modelled horizon: a new origin per block
            v = np.concatenate([v, self._block(v)])
        return v[len(self.series_): len(self.series_) + steps]


class TsETS(_Forecaster):
    """Exponential smoothing (Holt-Winters, statsmodels): additive trend when :func:`has_trend` finds one
    (``trend="auto"``; damped by ``damped``), additive season when the season (``season=None``: measured) is
    at most ``max_season`` and the series holds two of them; parameters by maximum likelihood."""

    def __init__(self, *, season: Optional[int] = None, trend: Optional[str] = "auto", damped: bool = True,
                 max_season: int = 60) -> None:
        self.season = season
        self.trend = trend
        self.damped = damped
        self.max_season = max_season

    def _fit(self, v: np.ndarray, ts: Optional[pd.DatetimeIndex]) -> None:
        import warnings

        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        s = int(self.season) if self.season is not None else season_length(ts, v)
        self.season_ = s if 2 <= s <= int(self.max_season) and len(v) >= 2 * s + 2 else 1
        trend = ("add" if has_trend(v, self.season_) else None) if self.trend == "auto" else self.trend
        self.trend_ = trend
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model_ = ExponentialSmoothing(
                v, trend=trend, damped_trend=bool(self.damped and trend),
                seasonal="add" if self.season_ > 1 else None,
                seasonal_periods=self.season_ if self.season_ > 1 else None,
                initialization_method="estimated").fit()

    def _forecast(self, steps: int) -> np.ndarray:
        return np.asarray(self.model_.forecast(steps))
