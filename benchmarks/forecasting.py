"""Forecasting quality on offline series: every catalogue forecaster against the naive baselines, and the model
a rolling-origin backtest on the TRAINING part would choose.

    python -m benchmarks forecasting                 # classical candidates (a few minutes on 2 cores)
    python -m benchmarks forecasting --deep          # also the GRU
    python -m benchmarks.forecasting --series co2,sunspots --no-save

Series: the shipped Seattle daily maximum temperature, and statsmodels' bundled (offline) sunspots (yearly),
Mauna Loa CO2 (weekly, 59 missing weeks filled by the loader), Nile flow (yearly), US real GDP (quarterly) and
El Niño sea temperature (monthly). Each goes through the zoo's own loader and split (held-out test = the last
``default_horizon`` points); the choice uses ``rolling_origins`` (3 origins) on the training part only; the
held-out test is scored once per model. ``rel_snaive`` = held-out MAE / the seasonal-naive baseline's held-out
MAE; the goal is rel_snaive < 1 and no worse than the naive forecast for the chosen model.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from benchmarks._common import ROOT, machine, save_results, table

N_ORIGINS = 3


def _csv(folder: Path, name: str, frame: Any, index: bool = False) -> Path:
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=index)
    return path


def _sources(folder: Path) -> Iterator[tuple[str, Callable[[], tuple[Path, str]]]]:
    """(name, () -> (CSV path, target column)); statsmodels' series only when it is installed."""
    yield "seattle_temp_max", lambda: (ROOT / "examples" / "data" / "seattle_weather.csv", "temp_max")
    try:
        import pandas as pd
        import statsmodels.datasets as sd
    except ImportError:
        return

    def co2() -> tuple[Path, str]:
        data = sd.co2.load_pandas().data
        data.index.name = "date"
        return _csv(folder, "co2", data, index=True), "co2"

    def gdp() -> tuple[Path, str]:
        m = sd.macrodata.load_pandas().data
        frame = pd.DataFrame({"quarter": pd.date_range("1959-01-01", periods=len(m), freq="QS"),
                              "realgdp": m["realgdp"]})
        return _csv(folder, "realgdp", frame), "realgdp"

    def elnino() -> tuple[Path, str]:
        e = sd.elnino.load_pandas().data
        values = e.drop(columns="YEAR").to_numpy(float).ravel()
        frame = pd.DataFrame({"month": pd.date_range(f"{int(e['YEAR'].iloc[0])}-01-01", periods=len(values),
                                                     freq="MS"), "sst": values})
        return _csv(folder, "elnino", frame), "sst"

    yield "sunspots_yearly", lambda: (_csv(folder, "sunspots", sd.sunspots.load_pandas().data), "SUNACTIVITY")
    yield "co2_weekly", co2
    yield "nile_yearly", lambda: (_csv(folder, "nile", sd.nile.load_pandas().data), "volume")
    yield "realgdp_quarterly", gdp
    yield "elnino_monthly", elnino


def _candidates(deep: bool) -> list[str]:
    from zoo import catalogue

    return [e.name for e in catalogue.serving("time_series", "forecasting") if deep or e.family != "deep"]


def _build(name: str) -> Any:
    import zoo

    params = {"verbose": False} if name == "ts_gru" else {}
    return zoo.create_model(name, **params)


def measure(name: str, path: Path, target: str, candidates: list[str]) -> dict[str, Any]:
    """Held-out MAE / MASE per candidate, the backtest MASE on the training part, and the backtest's choice."""
    from zoo.data import load_dataset, split_dataset
    from zoo.forecasting import backtest, mase, season_length

    ds = load_dataset(path, "time_series", task="forecasting", target=target)
    train, test = split_dataset(ds, "forecasting")
    season, h = season_length(train.X, train.y), len(test)
    rows: dict[str, dict[str, Any]] = {}
    for cand in candidates:
        start = time.perf_counter()
        try:
            bt = backtest(_build(cand), train.X, train.y, h, N_ORIGINS)
            est = _build(cand).fit(train.X, train.y)
            pred = est.predict(test.X if test.X is not None else h)
        except Exception as exc:  # noqa: BLE001 - a candidate that cannot fit this series is reported
            rows[cand] = {"failed": f"{type(exc).__name__}: {str(exc)[:100]}"}
            continue
        rows[cand] = {"mae": float(np.mean(np.abs(pred - test.y))), "mase": mase(test.y, pred, train.y, season),
                      "backtest_mase": float(np.mean(bt)), "backtest_spread": float(np.std(bt)),
                      "seconds": time.perf_counter() - start}
    ok = {c: r for c, r in rows.items() if "backtest_mase" in r and np.isfinite(r["backtest_mase"])}
    chosen = min(ok, key=lambda c: ok[c]["backtest_mase"])
    snaive, naive = rows["ts_seasonal_naive"]["mae"], rows["ts_naive"]["mae"]
    for r in ok.values():
        r["rel_snaive"] = r["mae"] / snaive if snaive else float("nan")
    return {"n": len(ds), "horizon": h, "season": season, "notes": ds.notes, "models": rows, "chosen": chosen,
            "chosen_rel_snaive": rows[chosen]["rel_snaive"],
            "goal_met": bool(rows[chosen]["mae"] < snaive and rows[chosen]["mae"] <= naive)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", default=None, help="comma-separated subset of the series names")
    parser.add_argument("--deep", action="store_true", help="also backtest the GRU (slow on CPU)")
    parser.add_argument("--no-save", action="store_true", help="do not write runs/benchmarks/results.json")
    args = parser.parse_args(argv)
    wanted = set(args.series.split(",")) if args.series else None
    candidates = _candidates(args.deep)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in _sources(Path(tmp)):
            if wanted and name not in wanted:
                continue
            path, target = source()
            res = results[name] = measure(name, path, target, candidates)
            print(f"\n== {name}: n={res['n']}, horizon {res['horizon']}, season {res['season']}"
                  + (f"; {'; '.join(res['notes'])}" if res["notes"] else ""))
            rows = [[c, *(["failed"] * 5 if "failed" in r else
                          [f"{r['mae']:.3f}", f"{r['mase']:.3f}", f"{r['rel_snaive']:.2f}",
                           f"{r['backtest_mase']:.3f} ± {r['backtest_spread']:.3f}", f"{r['seconds']:.1f}"]),
                     "<- chosen" if c == res["chosen"] else ""] for c, r in res["models"].items()]
            print(table(rows, ["model", "held-out MAE", "MASE", "rel_snaive", "backtest MASE (train)", "s", ""]))
            print(f"chosen by the backtest: {res['chosen']} (held-out MAE / seasonal naive "
                  f"{res['chosen_rel_snaive']:.2f}; goal {'met' if res['goal_met'] else 'NOT met'})")
    met = sum(r["goal_met"] for r in results.values())
    print(f"\ngoal (chosen model better than seasonal naive and no worse than naive) met on {met}/{len(results)}")
    out = {"series": results, "n_origins": N_ORIGINS, "machine": machine()}
    if not args.no_save:
        save_results("forecasting", out, merge=bool(wanted))
    return out


if __name__ == "__main__":
    main()
