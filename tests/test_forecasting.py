"""Forecasting: metrics, season / horizon, rolling origins, the catalogue's forecasters and baselines, the loader's
time-series handling, and real series (shipped Seattle weather; statsmodels' bundled sunspots and CO2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zoo
from zoo import catalogue
from zoo.data import load_dataset, split_dataset
from zoo.forecasting import (TsSeasonalNaive, backtest, default_horizon, mase, rolling_origins, season_length,
                             smape)
from zoo.metrics import evaluate

DATA = Path(__file__).resolve().parents[1] / "examples" / "data"
FORECASTERS = [e.name for e in catalogue.serving("time_series", "forecasting")]
FAST = {"ts_gru": {"epochs": 2, "window": 8, "hidden_size": 8, "verbose": False},
        "ts_lag_gradient_boosting": {"max_iter": 30}}
def _have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


HAVE_STATSMODELS = _have("statsmodels")


def _trend_weekly(n: int = 400, seed: int = 0) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Daily data: a trend plus a weekly pattern plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    ts = pd.date_range("2022-01-03", periods=n, freq="D")
    return ts, 50 + 0.05 * t + 4 * np.sin(2 * np.pi * t / 7) + 2 * (t % 7 == 5) + rng.normal(0, 0.5, n)


def _yearly_daily(seed: int = 0) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Two years and a half of daily temperatures: a yearly cycle, persistent weather, noise."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2019-01-01", periods=900, freq="D")
    weather = np.zeros(len(ts))
    for i in range(1, len(ts)):
        weather[i] = 0.7 * weather[i - 1] + rng.normal(0, 1.5)
    return ts, 15 + 8 * np.sin(2 * np.pi * (ts.day_of_year.to_numpy() - 110) / 365.25) + weather


def _random_walk(n: int = 300, seed: int = 0) -> np.ndarray:
    return 100 + np.cumsum(np.random.default_rng(seed).normal(0, 1, n))


# ----------------------------------------------------------------------------- metrics, season, horizon, origins

def test_mase_and_smape() -> None:
    y_train = np.array([1.0, 3, 1, 3, 1, 3])
    assert mase([2.0, 2.0], [3.0, 1.0], y_train, season=1) == pytest.approx(1 / 2)      # lag-1 scale 2
    assert mase([2.0], [3.0], np.array([1.0, 2, 3, 4]), season=2) == pytest.approx(1 / 2)   # seasonal scale 2
    assert mase([2.0], [3.0], np.array([1.0, 2, 3]), season=2) == pytest.approx(1.0)    # < 2 seasons: lag 1
    assert np.isnan(mase([1.0], [2.0], np.ones(5), season=1))                           # zero scale
    assert smape([100.0, 0.0], [100.0, 0.0]) == 0.0
    assert smape([1.0], [3.0]) == pytest.approx(100.0)


def test_season_length_from_frequency_and_autocorrelation() -> None:
    ts, y = _trend_weekly()
    assert season_length(ts, y) == 7
    ts_y, y_y = _yearly_daily()
    assert season_length(ts_y, y_y) == 365
    assert season_length(ts_y[:400], y_y[:400]) == 7                   # under two years: the weekly default
    assert season_length(pd.date_range("2000-01-01", periods=60, freq="MS"), np.arange(60.0)) == 12
    assert season_length(pd.date_range("2000-01-01", periods=60, freq="W-SAT"), np.arange(60.0)) == 52
    t = np.arange(300)
    cycle = 50 + 40 * np.sin(2 * np.pi * t / 11) + np.random.default_rng(0).normal(0, 5, t.size)
    assert season_length(None, cycle) == 11
    assert season_length(None, _random_walk()) == 1


def test_default_horizon() -> None:
    assert default_horizon(pd.date_range("2020-01-01", periods=1000, freq="D"), 1000) == 14
    assert default_horizon(pd.date_range("2020-01-01", periods=500, freq="W"), 500) == 13
    assert default_horizon(pd.date_range("2000-01-01", periods=200, freq="MS"), 200) == 18
    assert default_horizon(pd.date_range("2000-01-01", periods=50, freq="MS"), 50) == 10   # capped at 20 %
    assert default_horizon(None, 300) == 10


def test_rolling_origins_expand_and_end_at_n() -> None:
    splits = rolling_origins(100, 10, 3)
    assert [(len(tr), va[0], va[-1]) for tr, va in splits] == [(70, 70, 79), (80, 80, 89), (90, 90, 99)]
    for tr, va in splits:
        assert list(tr) == list(range(tr[-1] + 1)) and va[0] == tr[-1] + 1
    assert len(rolling_origins(45, 10, 3)) == 2                         # the first would train on 15 < 20
    with pytest.raises(ValueError):
        rolling_origins(15, 10, 3)


# ----------------------------------------------------------------------------- the forecasters

@pytest.mark.parametrize("name", FORECASTERS)
@pytest.mark.parametrize("timestamps", [True, False])
def test_every_forecaster_round_trips_through_rolling_origins(name: str, timestamps: bool) -> None:
    if name == "ts_gru":
        pytest.importorskip("torch")
    if name == "ts_ets" and not HAVE_STATSMODELS:
        pytest.skip("statsmodels not installed")
    ts, y = _trend_weekly(200)
    X = ts if timestamps else None
    for tr, va in rolling_origins(len(y), 7, 2):
        est = zoo.create_model(name, **FAST.get(name, {})).fit(None if X is None else X[tr], y[tr])
        pred = est.predict(len(va) if X is None else X[va])
        assert pred.shape == (len(va),) and np.isfinite(pred).all()
        fc = est.forecast(len(va))
        assert np.allclose(fc.to_numpy(), pred)
        if timestamps:
            assert fc.index[0] == X[va][0]


def test_seasonal_naive_repeats_the_last_season_exactly() -> None:
    ts, y = _trend_weekly(100)
    est = TsSeasonalNaive().fit(ts, y)
    assert est.season_ == 7
    assert np.array_equal(est.predict(17), np.resize(y[-7:], 17))
    assert np.array_equal(TsSeasonalNaive(season=5).fit(None, y).predict(5), y[-5:])
    assert np.array_equal(zoo.create_model("ts_naive").fit(None, y).predict(3), np.full(3, y[-1]))


def _held_out(name: str, X, y, h: int) -> float:
    n = len(y)
    est = zoo.create_model(name).fit(None if X is None else X[: n - h], y[: n - h])
    pred = est.predict(h if X is None else X[n - h:])
    return mase(y[n - h:], pred, y[: n - h], season_length(None if X is None else X[: n - h], y[: n - h]))


def test_direct_linear_beats_the_seasonal_scale_on_a_seasonal_series() -> None:
    ts, y = _trend_weekly(400)
    assert _held_out("ts_direct_linear", ts, y, 14) < 1
    assert _held_out("ts_direct_linear", ts, y, 14) < _held_out("ts_seasonal_naive", ts, y, 14)
    ts_y, y_y = _yearly_daily()
    assert _held_out("ts_direct_linear", ts_y, y_y, 14) < _held_out("ts_seasonal_naive", ts_y, y_y, 14)


def test_boosting_differences_a_trend_by_itself() -> None:
    ts, y = _trend_weekly(400)
    assert zoo.create_model("ts_lag_gradient_boosting", max_iter=30).fit(ts, y).difference_
    assert not zoo.create_model("ts_lag_gradient_boosting", max_iter=30).fit(*_yearly_daily()).difference_


def test_backtest_on_a_random_walk_does_not_beat_naive_by_much() -> None:
    y = _random_walk()
    naive = np.mean(backtest(zoo.create_model("ts_naive"), None, y, 10, 3))
    direct = np.mean(backtest(zoo.create_model("ts_direct_linear"), None, y, 10, 3))
    assert np.isfinite(naive) and direct < 1.5 * naive                  # no wild extrapolation


# ----------------------------------------------------------------------------- loader, split, evaluate

def test_loader_sorts_fills_gaps_and_averages_duplicates(tmp_path: Path) -> None:
    ts = pd.date_range("2020-01-04", periods=60, freq="W-SAT")
    df = pd.DataFrame({"week": ts, "value": np.arange(60.0)})
    gappy = df.drop(index=[10, 11, 30]).sample(frac=1.0, random_state=0)
    gappy = pd.concat([gappy, pd.DataFrame({"week": [ts[5]], "value": [7.0]})])   # week 5 twice: 5 and 7
    gappy.to_csv(tmp_path / "w.csv", index=False)
    ds = load_dataset(tmp_path / "w.csv", "time_series", task="forecasting")
    assert len(ds) == 60 and list(pd.DatetimeIndex(ds.X)) == list(ts)
    expected = np.arange(60.0)
    expected[5] = 6.0
    assert np.allclose(ds.y, expected)
    text = " | ".join(ds.notes)
    assert "sorted" in text and "averaged 2 rows" in text and "filled 3 missing weeks by linear interpolation" in text
    dropped = load_dataset(tmp_path / "w.csv", "time_series", task="forecasting", fill="drop")
    assert len(dropped) == 57 and "dropped 3 weeks" in " ".join(dropped.notes)
    carried = load_dataset(tmp_path / "w.csv", "time_series", task="forecasting", fill="ffill")
    assert carried.y[10] == carried.y[11] == 9.0
    with pytest.raises(zoo.DataError, match="data.fill"):
        load_dataset(tmp_path / "w.csv", "time_series", task="forecasting", fill="guess")


def test_split_holds_out_the_horizon_and_evaluate_shows_baselines(tmp_path: Path) -> None:
    ts, y = _trend_weekly(300)
    pd.DataFrame({"date": ts, "y": y}).to_csv(tmp_path / "s.csv", index=False)
    ds = load_dataset(tmp_path / "s.csv", "time_series", task="forecasting")
    train, test = split_dataset(ds, "forecasting")
    assert len(test) == 14 and len(train) == 286                       # daily: 14 steps
    assert len(split_dataset(ds, "forecasting", horizon=30)[1]) == 30
    with pytest.raises(zoo.DataError, match="horizon"):
        split_dataset(ds, "forecasting", horizon=299)
    model = zoo.create_model("ts_direct_linear").fit(train.X, train.y)
    metrics = evaluate(model, test, "forecasting", train=train)
    assert metrics["season"] == 7 and metrics["horizon"] == 14
    assert set(metrics["baselines"]) == {"naive", "seasonal_naive"}
    assert metrics["mase"] < metrics["baselines"]["seasonal_naive"]["mase"]
    assert metrics["mae"] < metrics["baselines"]["naive"]["mae"]
    assert "mase" not in evaluate(model, test, "forecasting")           # without the training series
    from advisor.records import RunMetrics

    record = RunMetrics.model_validate({**metrics, "model": "ts_direct_linear", "family": "classical",
                                        "task": "forecasting", "modality": "time_series", "train_seconds": 0.1,
                                        "n_train": len(train)})
    assert record.baselines["naive"].mase == metrics["baselines"]["naive"]["mase"] and record.season == 7


# ----------------------------------------------------------------------------- real series

def _score_real(X, y, h: int) -> dict[str, float]:
    n = len(y)
    Xtr = None if X is None else X[: n - h]
    s = season_length(Xtr, y[: n - h])
    out = {}
    for name in ("ts_naive", "ts_seasonal_naive", "ts_direct_linear"):
        est = zoo.create_model(name).fit(Xtr, y[: n - h])
        pred = est.predict(h if X is None else X[n - h:])
        out[name] = mase(y[n - h:], pred, y[: n - h], s)
    return out


@pytest.mark.skipif(not (DATA / "seattle_weather.csv").exists(), reason="shipped weather CSV not present")
def test_seattle_temperature_over_several_origins() -> None:
    ds = load_dataset(DATA / "seattle_weather.csv", "time_series", task="forecasting", target="temp_max")
    X, y = pd.DatetimeIndex(ds.X), ds.y
    assert season_length(X[:-14], y[:-14]) == 365
    scores = {name: np.mean(backtest(zoo.create_model(name), X, y, 14, 6))
              for name in ("ts_seasonal_naive", "ts_direct_linear")}
    assert scores["ts_direct_linear"] < scores["ts_seasonal_naive"]


@pytest.mark.skipif(not HAVE_STATSMODELS, reason="statsmodels not installed")
def test_sunspots_and_co2_beat_seasonal_naive(tmp_path: Path) -> None:
    import statsmodels.datasets as sd

    sun = sd.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(float)
    assert season_length(None, sun[:-10]) in (10, 11, 12)
    scores = _score_real(None, sun, 10)
    assert scores["ts_direct_linear"] < scores["ts_seasonal_naive"]

    co2 = sd.co2.load_pandas().data
    co2.index.name = "date"
    co2.to_csv(tmp_path / "co2.csv")
    ds = load_dataset(tmp_path / "co2.csv", "time_series", task="forecasting", target="co2")
    assert "filled 59 missing weeks" in " ".join(ds.notes)
    scores = _score_real(pd.DatetimeIndex(ds.X), ds.y, 13)
    assert scores["ts_direct_linear"] < 0.5 * min(scores["ts_seasonal_naive"], scores["ts_naive"])
