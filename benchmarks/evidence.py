"""The project's own evidence suite: every zoo model on every offline dataset, against the advisor's picks.

For each dataset (benchmarks/evidence_data.py): a descriptor built the way a user would (name, task, modality,
path, target / text column; ``advisor.running.measure.measure`` counts the rest), ``rec = advisor.recommend(desc)``,
then on the advisor's own split (``zoo.load_dataset`` + ``zoo.split_dataset(seed=s)``):

- the sweep: every catalogue model serving (modality, task), built with ``fitting.build_estimator`` (deep models
  time-boxed by ``--deep-budget`` seconds, cpu), fit on the training part, scored once on the held-out part
  (macro-F1 for classification, R² for regression, MASE when ``zoo.evaluate`` reports it else MAE for
  forecasting: lower is better there). Classical and hybrid models get ``--seeds`` seeds, deep ones one.
- the rules' pick: ``rec.model``'s sweep score and its regret (best mean - its mean);
- the advisor's final pick: ``advisor.running.train.train_run`` (what ``advisor train`` does), its model and
  held-out score per seed, and its regret.

The result goes to advisor/deciding/evidence.json (``--out``), the record the advisor ships and reads for its
confidence (advisor/deciding/evidence.py). ``--sets a,b`` reruns some datasets and merges them into the file.

Run: python -m benchmarks evidence [--sets iris,wine] [--seeds 2] [--deep-budget 90] [--out PATH]
The full suite takes about half an hour on 2 CPU cores: nohup python -m benchmarks evidence > /tmp/ev.log 2>&1 &
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from typing import Any, Optional

from advisor.deciding.evidence import (EVIDENCE_PATH, DatasetEvidence, EvidenceSuite, Machine, ModelScore, Pick,
                                       load_evidence, size_band)
from benchmarks._common import loadavg, table
from benchmarks.evidence_data import CACHE, Spec, specs

METRIC = {"classification": "macro_f1", "regression": "r2"}


def _metric(task: str, metrics: dict[str, Any]) -> tuple[str, float]:
    """The suite's score of one evaluation: (metric name, value)."""
    if task == "forecasting":
        name = "mase" if metrics.get("mase") is not None else "mae"
        return name, float(metrics[name])
    return METRIC[task], float(metrics[METRIC[task]])


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"


def _describe(spec: Spec, path: Any) -> Any:
    """The descriptor a user would write for this data, with the counts measured from the file."""
    from advisor.deciding.schema import ProjectDescriptor
    from advisor.running.measure import measure

    data = {"modality": spec.modality, "path": str(path), "target": spec.target, "text_column": spec.text_column}
    desc = ProjectDescriptor.model_validate({"name": f"evidence-{spec.name}", "task": spec.task,
                                             "data": {k: v for k, v in data.items() if v is not None}})
    return measure(desc)


def _sweep_model(entry: Any, task: str, splits: dict[int, tuple[Any, Any]], deep_budget: float
                 ) -> tuple[ModelScore, Optional[str]]:
    """One catalogue model fit and scored on each split; (its row, the metric's name)."""
    import zoo
    from advisor.running.fitting import build_estimator, fit_for_task

    row, metric, seconds = ModelScore(name=entry.name, family=entry.family), None, []
    for seed, (train, test) in splits.items():
        try:
            est = build_estimator(entry.name, task, device="cpu", seed=seed, verbose=False,
                                  time_budget_s=deep_budget if entry.family == "deep" else None)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit_for_task(est, train, task)
            seconds.append(time.perf_counter() - start)
            metric, score = _metric(task, zoo.evaluate(est, test, task, train=train))   # forecasting: MASE
        except Exception as exc:  # noqa: BLE001 - one model failing is a finding, not the end of the suite
            row.error = _one_line(exc)
            break
        row.scores.append(score)
        row.seeds.append(seed)
    if row.scores:
        row.mean, row.std = statistics.fmean(row.scores), statistics.pstdev(row.scores)
        row.seconds = statistics.fmean(seconds)
    return row, metric


def _final_pick(desc: Any, rec: Any, seeds: list[int], task: str, train_minutes: float) -> Pick:
    """What `advisor train` trains and scores, per seed."""
    from advisor.running.train import train_run

    pick, seconds, measured = Pick(), [], []
    for seed in seeds:
        try:
            with tempfile.TemporaryDirectory(prefix="evidence-run-") as tmp, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                metrics = train_run(desc, rec, out=os.path.join(tmp, "run"), quiet=True, echo=lambda s: None,
                                    seed=seed, time_budget_minutes=train_minutes)
        except Exception as exc:  # noqa: BLE001
            pick.error = _one_line(exc)
            break
        pick.models.append(str(metrics["model"]))
        pick.scores.append(_metric(task, metrics)[1])
        seconds.append(float(metrics["train_seconds"]))
        sel = metrics.get("selection") or {}
        measured.append((float(sel.get("seconds") or 0.0), float(sel.get("probe_seconds") or 0.0)))
    if pick.scores:
        pick.model = max(dict.fromkeys(pick.models), key=pick.models.count)
        pick.mean, pick.seconds = statistics.fmean(pick.scores), statistics.fmean(seconds)
        pick.selection_seconds = statistics.fmean(m[0] for m in measured)
        pick.probe_seconds = statistics.fmean(m[1] for m in measured)
    return pick


def _regret(best: Optional[float], mean: Optional[float], higher: bool) -> Optional[float]:
    if best is None or mean is None:
        return None
    return (best - mean) if higher else (mean - best)


def _rules_pick(rec: Any, rows: list[ModelScore]) -> Pick:
    row = next((r for r in rows if r.name == rec.model), None)
    if row is None:
        return Pick(model=rec.model, error=rec.model_note or "the rules' pick is not in the sweep")
    return Pick(model=rec.model, models=[rec.model], scores=row.scores, mean=row.mean, seconds=row.seconds,
                error=row.error)


def _sweep(spec: Spec, splits: dict[int, tuple[Any, Any]], deep_budget: float,
           known: Optional[dict[str, ModelScore]] = None) -> tuple[list[ModelScore], str]:
    """Every catalogue model serving the dataset, fit and scored; rows in `known` (same splits, an earlier run
    of the suite: --reuse-sweep) are kept instead of refit."""
    from zoo import catalogue

    rows, metric = [], METRIC.get(spec.task, "mae")
    for entry in catalogue.serving(spec.modality, spec.task):
        if known and entry.name in known and known[entry.name].mean is not None:
            rows.append(known[entry.name])
            continue
        use = splits if entry.family != "deep" else dict(list(splits.items())[:1])
        row, used = _sweep_model(entry, spec.task, use, deep_budget)
        metric = used or metric
        rows.append(row)
        shown = f"{row.mean:.3f} ± {row.std:.3f}" if row.mean is not None else row.error
        print(f"  {entry.name:<38} {shown}  ({row.seconds or 0:.1f} s/fit)", flush=True)
    return rows, metric


def run_dataset(spec: Spec, n_seeds: int, deep_budget: float, train_minutes: float,
                known: Optional[dict[str, ModelScore]] = None) -> DatasetEvidence:
    """The sweep, the rules' pick and the final pick on one dataset."""
    import zoo
    from advisor import recommend

    path = spec.make(CACHE)
    desc, measured = _describe(spec, path)
    rec = recommend(desc, measured=measured)
    data = zoo.load_dataset(path, spec.modality, task=spec.task, target=spec.target, text_column=spec.text_column)
    seeds = list(range(n_seeds))
    if spec.task == "forecasting":
        known = None                 # forecasting splits and metrics changed with the horizon split: refit all
    rows, metric = _sweep(spec, {s: zoo.split_dataset(data, spec.task, seed=s) for s in seeds}, deep_budget, known)
    final = _final_pick(desc, rec, seeds if rec.approach != "deep" else seeds[:1], spec.task, train_minutes)
    higher = spec.task != "forecasting"
    scored = [r for r in rows if r.mean is not None]
    best = (max if higher else min)(scored, key=lambda r: r.mean) if scored else None
    best_score = best.mean if best else None
    rules = _rules_pick(rec, rows)
    rules.regret = _regret(best_score, rules.mean, higher)
    final.regret = _regret(best_score, final.mean, higher)
    return DatasetEvidence(name=spec.name, source=spec.source, modality=spec.modality, task=spec.task, n=len(data),
                           band=size_band(len(data)) or "", metric=metric, higher_is_better=higher, models=rows,
                           best=best.name if best else None, best_score=best_score, rules_pick=rules,
                           final_pick=final, notes=list(data.notes) + list(measured))


def _versions() -> dict[str, str]:
    import zoo

    from importlib import metadata

    versions = dict(zoo.library_versions())
    for name in ("ml-advisor", "statsmodels", "palmerpenguins", "pandas"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def limit_threads(threads: int) -> Any:
    """Cap OpenMP / BLAS (threadpoolctl) and torch at `threads` per process. On a shared 2-core machine two
    OpenMP threads under load turn every barrier into a wait (gradient boosting on digits: 256 s instead of 23 s
    with one thread), so the suite runs with one thread unless told otherwise."""
    from threadpoolctl import threadpool_limits

    import torch

    torch.set_num_threads(threads)
    return threadpool_limits(limits=threads)


def _header(argv: list[str], threads: int) -> dict[str, Any]:
    return {"date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": Machine(cpu_count=os.cpu_count(), platform=platform.platform(),
                               python=platform.python_version(), threads=threads, loadavg=loadavg()),
            "command": "python -m benchmarks evidence" + "".join(f" {a}" for a in argv),
            "versions": _versions()}


def save(suite: EvidenceSuite, path: Any) -> None:
    from zoo.io import write_text_atomic

    write_text_atomic(path, suite.model_dump_json(indent=1) + "\n")


def _fmt(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.3f}"


def summary(suite: EvidenceSuite) -> str:
    """Two tables (classification / regression, then forecasting): picks, best model, regrets."""
    out = []
    for title, keep in (("classification and regression (higher is better)", lambda d: d.higher_is_better),
                        ("forecasting (error: lower is better)", lambda d: not d.higher_is_better)):
        rows = [[d.name, d.modality, d.n, d.metric, d.rules_pick.model or "-", _fmt(d.rules_pick.regret),
                 d.final_pick.model or "-", _fmt(d.final_pick.regret), d.best or "-", _fmt(d.best_score),
                 "yes" if d.within("final") else "no"] for d in suite.datasets if keep(d)]
        if rows:
            out += [f"\n{title}", table(rows, ["dataset", "modality", "n", "metric", "rules' pick", "regret",
                                                "final pick", "regret", "best model", "best", "within"])]
    within = sum(d.within("final") for d in suite.datasets if d.best_score is not None)
    scored = sum(d.best_score is not None for d in suite.datasets)
    out.append(f"\nfinal pick within tolerance of the best on {within} of {scored} datasets")
    return "\n".join(out)


def markdown(suite: EvidenceSuite) -> str:
    """The benchmarks/README.md tables of a suite: one row per dataset, the picks' regrets, the best model."""
    lines = []
    for title, keep in (("Classification (macro-F1) and regression (R²), higher is better", True),
                        ("Forecasting (error on the held-out tail, lower is better; regret in the error's units)",
                         False)):
        rows = [d for d in suite.datasets if d.higher_is_better is keep]
        if not rows:
            continue
        lines += ["", f"{title}:", "",
                  "| dataset | n | metric | rules' pick | regret | final pick | regret | best model | best | within |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for d in rows:
            lines.append(f"| {d.name} ({d.modality}) | {d.n:,} | {d.metric} | `{d.rules_pick.model}` | "
                         f"{_fmt(d.rules_pick.regret)} | `{d.final_pick.model}` | {_fmt(d.final_pick.regret)} | "
                         f"`{d.best}` | {_fmt(d.best_score)} | {'yes' if d.within('final') else 'no'} |")
    scored = [d for d in suite.datasets if d.best_score is not None]
    regrets = [d.final_pick.regret for d in scored if d.higher_is_better and d.final_pick.regret is not None]
    lines += ["", f"Final pick within tolerance of the best on {sum(d.within() for d in scored)} of {len(scored)} "
              f"datasets" + (f"; mean regret {statistics.fmean(regrets):.3f} over the {len(regrets)} "
                             "classification / regression ones" if regrets else "") + "."]
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks evidence", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=None, help="comma-separated dataset names (default: all); merged")
    parser.add_argument("--seeds", type=int, default=2, help="seeds for classical and hybrid models (deep: 1)")
    parser.add_argument("--deep-budget", type=float, default=90.0, help="seconds per deep fit")
    parser.add_argument("--train-minutes", type=float, default=None,
                        help="advisor train's time budget (default: --deep-budget)")
    parser.add_argument("--threads", type=int, default=1, help="threads per library (see limit_threads)")
    parser.add_argument("--out", default=str(EVIDENCE_PATH))
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="print the README tables of --out; run nothing")
    parser.add_argument("--reuse-sweep", action="store_true",
                        help="keep the swept models' scores already in --out (same splits); fit only models new "
                             "to the catalogue, and rerun the rules' and the final pick")
    args = parser.parse_args(argv)
    argv = list(sys.argv[2:] if argv is None else argv)
    if args.markdown:
        print(markdown(load_evidence(args.out)))
        return
    every = specs()
    names = [n.strip() for n in args.sets.split(",")] if args.sets else list(every)
    unknown = [n for n in names if n not in every]
    if unknown:
        parser.error(f"unknown set(s) {unknown}; choose from: {', '.join(every)}")
    earlier = load_evidence(args.out) if (args.sets or args.reuse_sweep) and os.path.exists(args.out) else None
    suite = earlier if args.sets and earlier is not None else EvidenceSuite()
    swept = {d.name: {m.name: m for m in d.models} for d in earlier.datasets} if args.reuse_sweep and earlier else {}
    suite = suite.model_copy(update=_header(argv, args.threads))
    start = time.perf_counter()
    limits = limit_threads(args.threads)
    for name in names:
        spec = every[name]
        why = spec.available()
        if why:
            print(f"== {name}: skipped ({why})", flush=True)
            continue
        print(f"== {name} ({spec.modality} {spec.task})", flush=True)
        began = time.perf_counter()
        try:
            result = run_dataset(spec, args.seeds, args.deep_budget, args.train_minutes or args.deep_budget / 60,
                                 swept.get(name))
        except Exception as exc:  # noqa: BLE001 - a dataset that cannot be had is reported, the suite goes on
            print(f"  failed: {_one_line(exc)}", flush=True)
            continue
        suite.datasets = [d for d in suite.datasets if d.name != name] + [result]
        order = list(every)
        suite.datasets.sort(key=lambda d: order.index(d.name) if d.name in order else len(order))
        print(f"  rules' pick {result.rules_pick.model} (regret {_fmt(result.rules_pick.regret)}), final pick "
              f"{result.final_pick.model} (regret {_fmt(result.final_pick.regret)}), best {result.best}; "
              f"{time.perf_counter() - began:.0f} s", flush=True)
        if not args.no_save:
            save(suite, args.out)
    limits.unregister()
    if not args.sets:
        suite.seconds = round(time.perf_counter() - start, 1)
    if not args.no_save:
        save(suite, args.out)
    print(summary(suite))
    print(f"\nevidence done in {time.perf_counter() - start:.0f} s" + ("" if args.no_save else f"; {args.out}"),
          file=sys.stderr)


if __name__ == "__main__":
    main()
