"""FLAML beside `advisor train` on the evidence suite's tables, on the same splits.

For each table of the suite (benchmarks/evidence_data.py): the advisor's split (``zoo.load_dataset`` +
``zoo.split_dataset(seed=0)``); FLAML's ``AutoML().fit(X_train, y_train, task=..., time_budget=--budget,
metric="macro_f1" | "r2")`` on the training part, and ``advisor.running.train.train_run`` (what ``advisor train``
does) with a time budget of the same length; both scored once on the held-out part (macro-F1 / R²), with the wall
time of each. FLAML is a benchmark-only package (the ``bench`` extra): without it this prints one line and exits 0.

Run: python -m benchmarks flaml [--sets iris,diabetes] [--budget 60]     (about 12 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Optional

from benchmarks._common import machine, save_results, table
from benchmarks.evidence_data import CACHE, Spec, specs

METRIC = {"classification": "macro_f1", "regression": "r2"}


def _score(task: str, y: Any, pred: Any) -> float:
    from sklearn import metrics

    if task == "regression":
        return float(metrics.r2_score(y, pred))
    return float(metrics.f1_score(y, pred, average="macro", zero_division=0))


def _flaml(train: Any, test: Any, task: str, budget: float, threads: int) -> tuple[float, float, str]:
    """(held-out score, wall seconds, FLAML's best learner)."""
    from flaml import AutoML

    automl = AutoML()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(X_train=train.X, y_train=train.y, task=task, time_budget=budget, metric=METRIC[task],
                   seed=0, verbose=0, n_jobs=threads)
        pred = automl.predict(test.X)
    return _score(task, test.y, pred), time.perf_counter() - start, str(automl.best_estimator)


def _advisor(spec: Spec, path: Path, budget: float) -> tuple[float, float, str]:
    """(held-out score, wall seconds, model): `advisor train` with a budget of `budget` seconds, seed 0."""
    from advisor import recommend
    from advisor.running.train import train_run
    from benchmarks.evidence import _describe

    desc, measured = _describe(spec, path)
    start = time.perf_counter()
    rec = recommend(desc, measured=measured)
    with tempfile.TemporaryDirectory(prefix="flaml-side-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metrics = train_run(desc, rec, out=Path(tmp) / "run", quiet=True, echo=lambda s: None, seed=0,
                            time_budget_minutes=budget / 60)
    return float(metrics[METRIC[spec.task]]), time.perf_counter() - start, str(metrics["model"])


def run_table(spec: Spec, budget: float, threads: int) -> dict[str, Any]:
    import zoo

    path = spec.make(CACHE)
    data = zoo.load_dataset(path, spec.modality, task=spec.task, target=spec.target)
    train, test = zoo.split_dataset(data, spec.task, seed=0)
    f_score, f_seconds, f_model = _flaml(train, test, spec.task, budget, threads)
    a_score, a_seconds, a_model = _advisor(spec, path, budget)
    return {"dataset": spec.name, "task": spec.task, "metric": METRIC[spec.task], "n": len(data),
            "flaml": f_score, "flaml_seconds": f_seconds, "flaml_learner": f_model,
            "advisor": a_score, "advisor_seconds": a_seconds, "advisor_model": a_model}


def _means(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for task in ("classification", "regression"):
        got = [r for r in rows if r["task"] == task]
        if got:
            lines.append(f"{task} ({len(got)} tables, mean {METRIC[task]}): FLAML "
                         f"{statistics.fmean(r['flaml'] for r in got):.3f} vs advisor "
                         f"{statistics.fmean(r['advisor'] for r in got):.3f}")
    return lines


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks flaml", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=None, help="comma-separated table names (default: every table)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds for FLAML and for advisor train")
    parser.add_argument("--threads", type=int, default=1, help="threads per library, both sides (FLAML's n_jobs)")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("flaml") is None:
        print("flaml is not installed: skipped (pip install 'ml-advisor[bench]' to measure it)")
        return
    tables = {n: s for n, s in specs().items() if s.modality == "tabular"}
    names = [n.strip() for n in args.sets.split(",")] if args.sets else list(tables)
    if any(n not in tables for n in names):
        parser.error(f"unknown table(s) {[n for n in names if n not in tables]}; choose from: {', '.join(tables)}")
    from benchmarks.evidence import limit_threads

    limits, rows = limit_threads(args.threads), []
    for name in names:
        why = tables[name].available()
        if why:
            print(f"== {name}: skipped ({why})", flush=True)
            continue
        rows.append(run_table(tables[name], args.budget, args.threads))
        r = rows[-1]
        print(f"== {name}: FLAML {r['flaml']:.3f} ({r['flaml_learner']}, {r['flaml_seconds']:.0f} s) vs advisor "
              f"{r['advisor']:.3f} ({r['advisor_model']}, {r['advisor_seconds']:.0f} s)", flush=True)
    limits.unregister()
    print(table([[r["dataset"], r["metric"], r["n"], r["flaml"], r["flaml_learner"], r["flaml_seconds"],
                  r["advisor"], r["advisor_model"], r["advisor_seconds"]] for r in rows],
                ["dataset", "metric", "n", "FLAML", "learner", "FLAML s", "advisor", "model", "advisor s"]))
    print("\n".join(_means(rows)))
    if not args.no_save and rows:
        save_results("flaml", {"budget_s": args.budget, "threads": args.threads, "rows": rows,
                               "machine": machine()})


if __name__ == "__main__":
    main()
