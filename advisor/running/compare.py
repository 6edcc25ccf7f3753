"""`advisor compare`: classical vs hybrid vs deep on the user's own data, side by side, with learning curves.

The measured evidence behind a recommendation. Every family is trained on stratified subsamples of one training
split (several sizes, several seeds) and scored on the same full held-out split; the result says whether the
measurement agrees with the advisor's pick and where (if anywhere) a network overtakes the classical model.
Uses only the zoo's public API; a time budget is shared across all runs (cheap families first, the slowest
family stopped first when the estimated cost of what is left would exceed it).
"""

from __future__ import annotations

import json
import math
import os
import pickle
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Sequence

import yaml

from zoo.io import publish_folder, write_text_atomic
from advisor.deciding.recommendation import Recommendation
from advisor.deciding.schema import ProjectDescriptor
from advisor.records import CompareResult, dump_record
from advisor.running.fitting import (Scoring, TrainError, build_estimator, check_model_serves, fit_for_task,
                                     scoring_for, weigh_classes)
from advisor.running.outfolder import MARKERS, claim_out
from advisor.showing.tables import LABELS

if TYPE_CHECKING:
    import numpy as np

FAMILY_ORDER = ("classical", "hybrid", "deep")      # cheapest first: the order runs are made in
DEFAULT_SIZES = (0.1, 0.25, 0.5, 1.0)
DEFAULT_SEEDS = 2
SPLIT_SEED = 0
MIN_PER_CLASS = 2
# task -> metrics shown (the first is the one that decides), whether higher is better
METRICS: dict[str, tuple[tuple[str, ...], bool]] = {
    "classification": (("macro_f1", "accuracy", "roc_auc"), True),
    "regression": (("r2", "mae", "rmse"), True),
    "forecasting": (("mae", "rmse", "r2"), False),
    "anomaly_detection": (("roc_auc", "f1_anomaly"), True),
}


def deciding_metrics(task: str, metric: Optional[str]) -> tuple[tuple[str, ...], bool]:
    """The metrics a comparison shows, the deciding one first (the run's metric, advisor.running.fitting
    .scoring_for, where the held-out split can score it), and whether higher is better."""
    from zoo.metrics import LOWER_IS_BETTER

    keys, higher = METRICS.get(task, METRICS["classification"])
    if not metric or task not in ("classification", "regression", "forecasting") or metric == "mase":
        return keys, higher                 # MASE needs the training series, which a comparison run does not pass
    return (metric, *[k for k in keys if k != metric]), metric not in LOWER_IS_BETTER


class CompareError(ValueError):
    """The comparison cannot start; the message is one line."""


# ----------------------------------------------------------------------------- arguments

def parse_families(text: str) -> list[str]:
    """'classical,deep' → ['classical', 'deep'] in run order (cheapest first); unknown names are an error."""
    names = [t.strip().lower() for t in (text or "").split(",") if t.strip()]
    bad = [n for n in names if n not in FAMILY_ORDER]
    if bad or not names:
        raise CompareError(f"--families: {text!r} is not a comma-separated list of {', '.join(FAMILY_ORDER)}")
    return [f for f in FAMILY_ORDER if f in names]


def parse_sizes(text: str) -> list[float]:
    """'0.5,0.1' → [0.1, 0.5]: fractions of the training split in (0, 1]; the largest one fills the table."""
    try:
        sizes = [float(t) for t in (text or "").split(",") if t.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(not (0 < s <= 1) or not math.isfinite(s) for s in sizes):
        raise CompareError(f"--sizes: {text!r} must be comma-separated fractions of the training split in (0, 1], "
                           "e.g. 0.1,0.25,0.5,1.0")
    return sorted(set(sizes))


def choose_models(rec: Recommendation, families: Sequence[str], task: str,
                  modality: str) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Family → zoo model (the pick for its own family, the alternatives' for the others); the rest skipped."""
    named = {rec.approach: rec.model, **{a.approach: a.model for a in rec.alternatives}}
    notes = {rec.approach: rec.model_note, **{a.approach: a.model_note for a in rec.alternatives}}
    picks: dict[str, str] = {}
    skipped: dict[str, dict[str, Any]] = {}
    for fam in families:
        name = named.get(fam)
        if fam in rec.excluded:
            skipped[fam] = {"model": name, "reason": f"not applicable: {rec.excluded[fam]}"}
            continue
        if not name:
            skipped[fam] = {"model": None, "reason": notes.get(fam)
                            or f"the advisor names no {fam} model for {modality} {task}"}
            continue
        try:
            check_model_serves(name, modality, task)
        except TrainError as exc:
            skipped[fam] = {"model": name, "reason": f"not for this data: {exc}"}
            continue
        except (ValueError, ImportError) as exc:
            skipped[fam] = {"model": name, "reason": f"not trainable here: {str(exc).splitlines()[0]}"}
            continue
        picks[fam] = name
    return picks, skipped


# ----------------------------------------------------------------------------- pieces (pure, tested)

def subsample(y: Optional[np.ndarray], n: int, fraction: float, seed: int, task: str) -> np.ndarray:
    """Indices of a `fraction` of n items: stratified (≥ 2 per class) for classification, latest for forecasting."""
    import numpy as np

    if fraction >= 1:
        return np.arange(n)
    k = max(MIN_PER_CLASS, int(round(n * fraction)))
    if task == "forecasting":
        return np.arange(max(n - k, 0), n)
    rng = np.random.default_rng(seed)
    if task != "classification" or y is None:
        return np.sort(rng.choice(n, size=min(k, n), replace=False))
    parts = []
    for label in sorted(set(y.tolist()), key=str):
        idx = np.flatnonzero(y == label)
        take = min(len(idx), max(MIN_PER_CLASS, int(round(len(idx) * fraction))))
        parts.append(rng.choice(idx, size=take, replace=False))
    return np.sort(np.concatenate(parts))


def _line(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    import numpy as np

    slope, intercept = np.polyfit(np.asarray(x, float), np.asarray(y, float), 1)
    return float(slope), float(intercept)


def crossover(n: Sequence[float], base: Sequence[float], other: Sequence[float], *, higher_is_better: bool = True,
              tail: int = 3, max_factor: float = 1000.0, noise: Optional[Sequence[float]] = None) -> dict[str, Any]:
    """Smallest training size where `other` overtakes `base` (metric means per size `n`, ascending).

    ``noise``: per size, the spread across seeds; a gap within it is a tie, not a lead. Inside the measured
    range: linear interpolation on log(size). Never ahead: lines fitted on log(size) vs metric over the last
    `tail` points are solved for their meeting point ("extrapolated"), unless the gap is not closing or would
    need more than `max_factor` × the data ("none"); level within the noise at the largest size: "tie".
    """
    sign = 1.0 if higher_is_better else -1.0
    spread = list(noise) if noise is not None else [0.0] * len(n)
    pts = [(float(a), float(b), float(c), float(e or 0.0)) for a, b, c, e in zip(n, base, other, spread)
           if a > 0 and None not in (b, c)]
    if not pts:
        return {"status": "none", "n_train": None, "text": "no size measured for both"}
    xs = [math.log(a) for a, _, _, _ in pts]
    gap = [sign * (c - b) for _, b, c, _ in pts]
    ahead = [g > e for g, (_, _, _, e) in zip(gap, pts)]
    behind_at_end = gap[-1] < -pts[-1][3]
    last = (f", but is behind again at the largest size (n={pts[-1][0]:,.0f})" if behind_at_end
            else "" if ahead[-1] else f", and level within noise at the largest size (n={pts[-1][0]:,.0f})")
    if ahead[0]:
        return {"status": "below_range", "n_train": pts[0][0], "holds": ahead[-1],
                "text": f"ahead from the smallest size measured (n={pts[0][0]:,.0f}; the crossover lies below "
                        f"it){last}"}
    for i in range(1, len(pts)):
        if ahead[i] and gap[i - 1] <= pts[i - 1][3]:
            lo = min(gap[i - 1], 0.0)
            t = -lo / (gap[i] - lo) if gap[i] > lo else 1.0
            at = math.exp(xs[i - 1] + t * (xs[i] - xs[i - 1]))
            return {"status": "inside", "n_train": at, "holds": ahead[-1],
                    "text": f"overtakes at n≈{at:,.0f} (interpolated){last}"}
    if not behind_at_end and pts[-1][3] > 0:
        return {"status": "tie", "n_train": None, "holds": False,
                "text": f"tie within noise at the largest size (n={pts[-1][0]:,.0f}: Δ {abs(gap[-1]):.3f} ≤ the "
                        f"seeds' spread {pts[-1][3]:.3f})"}
    k = min(tail, len(pts))
    if k < 2:
        return {"status": "none", "n_train": None, "text": "no crossover at the one size measured"}
    sb, ib = _line(xs[-k:], [b for _, b, _, _ in pts[-k:]])
    so, io = _line(xs[-k:], [c for _, _, c, _ in pts[-k:]])
    if sign * (so - sb) <= 0:
        return {"status": "none", "n_train": None, "text": "no crossover in range, and the gap is not closing"}
    at = math.exp((ib - io) / (so - sb))
    if at <= pts[-1][0] or at > max_factor * pts[-1][0]:
        return {"status": "none", "n_train": None, "text": "no crossover in range" + (
            f" (the trend would need over {max_factor:g}× the data)" if at > pts[-1][0] else "")}
    return {"status": "extrapolated", "n_train": at,
            "text": f"no crossover in range; extrapolated: n≈{at:,.0f} "
                    f"({at / pts[-1][0]:.1f}× the largest size measured)"}


def cost_estimate(points: Sequence[tuple[int, float]], n: int, prior: Optional[float]) -> float:
    """Seconds for a run on n items from measured (n, seconds) runs of the same family (time ∝ size)."""
    if not points:
        return prior or 0.0
    if len({p for p, _ in points}) >= 2:
        slope, intercept = _line([p for p, _ in points], [s for _, s in points])
        if slope > 0 and intercept >= 0:
            return intercept + slope * n
    return max(s / max(p, 1) for p, s in points) * n


def _interpretability(family: str, name: str, modality: str, est: Any) -> str:
    """What explanation this fitted model offers (what `advisor train` puts in its report)."""
    def has(attr: str) -> bool:
        try:
            return hasattr(est, attr)
        except Exception:  # noqa: BLE001 - sklearn properties may raise on some heads
            return False

    if family == "hybrid":
        return "importance over the head's inputs (unnamed network features)" + (
            "; occlusion maps" if modality == "image" else "")
    if family == "deep":
        return {"image": "saliency maps (Grad-CAM)", "tabular": "permutation importance only (no readable model)",
                }.get(modality, "misclassified examples only (no built-in explanation)")
    parts = ["readable decision rules"] if "decision_tree" in name else []
    if modality == "text":
        parts.append("top terms per class")
    elif has("coef_"):
        parts.append("signed coefficients over named inputs")
    elif has("feature_importances_"):
        parts.append("importances over named " + ("hand-crafted features" if modality == "image" else "inputs"))
    if modality == "tabular":
        parts.append("permutation importance")
    return "; ".join(parts) or "readable model"


# ----------------------------------------------------------------------------- the bake-off

def _summary(values: list[float]) -> dict[str, Any]:
    import numpy as np

    arr = np.asarray([v for v in values if v is not None], float)
    if not len(arr):
        return {"mean": None, "std": None, "min": None, "max": None}
    return {"mean": float(arr.mean()), "std": float(arr.std()), "min": float(arr.min()), "max": float(arr.max())}


def _fit_budget(plan: list[tuple[str, float, int]], cost: Callable[[str, float], float], left: float,
                anything_measured: bool) -> list[dict[str, Any]]:
    """Keep the runs, in plan order, whose expected cost still fits `left` seconds; drop the others, and with a
    dropped run the same family's larger sizes (they cost more). Nothing measured yet: the first run always goes
    (something must be measured to plan from). Returns one record per family dropped from."""
    kept: list[tuple[str, float, int]] = []
    gone: dict[str, list[tuple[str, float, int]]] = {}
    spent = 0.0
    for run in plan:
        fam, size, _ = run
        too_big = any(size >= s for _, s, _ in gone.get(fam, []))
        need = cost(fam, size)
        if not too_big and (spent + need <= left or (not kept and not anything_measured)):
            kept.append(run)
            spent += need
        else:
            gone.setdefault(fam, []).append(run)
    plan[:] = kept
    dropped = []
    for fam, runs in gone.items():
        need = sum(cost(f, s) for f, s, _ in runs)
        dropped.append({"family": fam, "runs_skipped": len(runs), "sizes": sorted({s for _, s, _ in runs}),
                        "reason": f"time budget: {len(runs)} run(s) (~{need:.0f} s) did not fit the "
                                  f"{max(left - spent, 0):.0f} s left after the smaller sizes and first seeds"})
    return dropped


Run = tuple[str, float, int]                      # (family, size, seed)


@dataclass
class ComparePlan:
    """The runs still to make (cheapest family first) and what they are expected to cost.

    ``n_items``: size → items in that size's subsample; ``n_data``: items in the whole data set;
    ``estimates``: family → the advisor's estimated seconds on the whole data set (the prior until a run of
    the family is measured); ``timings``: family → measured (n_train, seconds) runs."""

    runs: list[Run]
    n_items: dict[float, int]
    n_data: int
    estimates: dict[str, float] = field(default_factory=dict)
    budget_s: Optional[float] = None
    timings: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    @classmethod
    def grid(cls, families: Sequence[str], sizes: Sequence[float], seeds: int, **kw: Any) -> ComparePlan:
        """Every seed × size × family, in that order: one seed of every family at the smallest size first, so
        whatever the budget allows is a table every family is in; later seeds only after the first is done."""
        return cls([(f, s, k) for k in range(seeds) for s in sizes for f in families], **kw)

    def prior(self, fam: str, size: float) -> Optional[float]:
        """The advisor's estimate for one run, scaled to the size's share of the data (None: no estimate)."""
        full = self.estimates.get(fam)
        return None if full is None else full * self.n_items[size] / max(self.n_data, 1)

    def cost(self, fam: str, size: float) -> float:
        """Expected seconds for one run of `fam` at `size`: from its measured runs, else the prior."""
        return cost_estimate(self.timings.get(fam, []), self.n_items[size], self.prior(fam, size))

    def measured(self, fam: str, n_train: int, seconds: float) -> None:
        """Record how long a finished run took."""
        self.timings.setdefault(fam, []).append((n_train, seconds))

    def fit_budget(self, left: float, anything_measured: bool) -> list[dict[str, Any]]:
        """Keep runs in plan order while they fit `left` seconds; drop the rest (see `_fit_budget`)."""
        return _fit_budget(self.runs, self.cost, left, anything_measured)

    def shares(self, workers: int) -> dict[Run, Optional[float]]:
        """Each run's slice of the whole budget, when all runs go out at once over `workers` (None: no budget)."""
        if not self.budget_s:
            return {r: None for r in self.runs}
        total = max(sum(self.cost(f, s) for f, s, _ in self.runs), 1e-9)
        return {r: max(1.0, self.budget_s * workers * self.cost(r[0], r[1]) / total) for r in self.runs}

    def next_run(self, left: float) -> tuple[Run, Optional[float]]:
        """Take the next run, with its share of the `left` seconds in proportion to its cost (None: no budget)."""
        fam, size, seed = self.runs.pop(0)
        if not self.budget_s:
            return (fam, size, seed), None
        total = self.cost(fam, size) + sum(self.cost(f, s) for f, s, _ in self.runs)
        return (fam, size, seed), max(1.0, left * (self.cost(fam, size) / total if total > 0 else 1.0))

    def drop_family(self, fam: str) -> list[Run]:
        """Remove (and return) the remaining runs of `fam`, e.g. after one of them failed."""
        rest = [r for r in self.runs if r[0] == fam]
        self.runs[:] = [r for r in self.runs if r not in rest]
        return rest


class Comparison:
    """One comparison in progress: the split, the subsamples, the plan, and the results and skips so far."""

    def __init__(self, desc: ProjectDescriptor, rec: Recommendation, data: Any, picks: dict[str, str],
                 skipped: list[dict[str, Any]], families: Sequence[str], sizes: Sequence[float], seeds: int,
                 budget_s: Optional[float], *, device: Optional[str] = None, quiet: bool = False,
                 echo: Callable[[str], None] = print) -> None:
        import zoo

        self.desc, self.rec, self.data, self.picks, self.skipped = desc, rec, data, picks, skipped
        self.families, self.sizes, self.seeds, self.echo = list(families), list(sizes), seeds, echo
        self.task, self.modality = desc.task.value, desc.data.modality.value
        # seed k: its own stratified split (repeated hold-out), shared by every family, so a seed's gap between
        # families is paired and the spread over seeds includes the split's luck; forecasting: one time split
        self.splits = [zoo.split_dataset(data, self.task, seed=k if self.task != "forecasting" else SPLIT_SEED,
                                         horizon=desc.data.horizon) for k in range(max(seeds, 1))]
        self.train, self.test = self.splits[0]
        self.scoring = scoring_for(desc, self.train)
        if self.scoring.warning():
            echo(f"warning: {self.scoring.warning()}")
        self.keys, self.higher = deciding_metrics(self.task, self.scoring.metric)
        varied = seeds > 1 and self.task != "forecasting"
        echo(f"data: {len(data):,} items; train {len(self.train):,}, held-out test {len(self.test):,}, the same "
             "for every family" + (f"; a new split per seed ({seeds})" if varied else ""))
        from advisor.running.checks import check_data

        check_data(self.train, self.task, self.modality, seed=SPLIT_SEED, echo=echo)     # tabular: column table
        self.index = {(s, k): subsample(self.splits[k][0].y, len(self.splits[k][0]), s, k, self.task)
                      for s in self.sizes for k in range(seeds)}
        self.plan = ComparePlan.grid([f for f in self.families if f in picks], self.sizes, seeds,
                                     n_items={s: len(self.index[(s, 0)]) for s in self.sizes}, n_data=len(data),
                                     estimates={e.approach: e.train_minutes * 60 for e in rec.estimates},
                                     budget_s=budget_s)
        self.runs: list[dict[str, Any]] = []
        self.start = time.perf_counter()
        self.common = {"task": self.task, "modality": self.modality, "keys": self.keys,
                       "scoring": self.scoring,
                       "device": device, "quiet": quiet, "weights_path": desc.resources.weights_path}

    def part_of(self, size: float, seed: int) -> Any:
        """The training subsample for (size, seed) of that seed's split; its whole training split at size 1."""
        train = self.splits[seed][0]
        return train if size >= 1 else train.subset(self.index[(size, seed)])

    def job(self, fam: str, size: float, seed: int, share: Optional[float]) -> dict[str, Any]:
        """The self-contained description of one run, for `run_one`: its seed's training part and test split."""
        return dict(self.common, family=fam, model=self.picks[fam], size=size, seed=seed,
                    part=self.part_of(size, seed), test=self.splits[seed][1], share=share)

    def apply_budget(self, left: float, anything_measured: bool) -> None:
        """Drop what does not fit `left` seconds, recording and saying each family skipped."""
        for drop in self.plan.fit_budget(left, anything_measured):
            self.skipped.append({**drop, "model": self.picks[drop["family"]]})
            self.echo(f"skipped {drop['family']}: {drop['reason']}")

    def record(self, fam: str, size: float, seed: int, got: dict[str, Any], rest: list[Run]) -> None:
        """Keep one run's result, or record the family as failed (with the `rest` of its runs dropped)."""
        if "failed" in got:
            self.skipped.append({"family": fam, "model": self.picks[fam], "runs_skipped": len(rest) + 1,
                                 "sizes": sorted({s for _, s, _ in rest} | {size}),
                                 "reason": f"failed: {got['failed']}"})
            self.echo(f"skipped {fam}: failed at size {size:g}: {got['failed']}")
            return
        self.plan.measured(fam, got["n_train"], got["wall_seconds"])
        self.runs.append(got)
        primary = self.keys[0]
        shown = f"{got['metric']:.3f}" if isinstance(got["metric"], float) else "—"
        self.echo(f"{fam:9s} {got['model']} n={got['n_train']:,} seed {seed}: {LABELS.get(primary, primary)} "
                  f"{shown} (fit {got['train_seconds']:.1f} s, run {got['wall_seconds']:.1f} s)")

    def run_fanned_out(self, workers: int, backend: str) -> None:
        """The whole grid at once over `workers`; the budget is checked up front against the estimates."""
        if self.plan.budget_s:
            self.apply_budget(self.plan.budget_s * workers, False)
        shares = self.plan.shares(workers)
        runs = list(self.plan.runs)
        self.echo(f"fan-out: {len(runs)} run(s) over {workers} {backend} worker(s)")
        outs = fan_out([self.job(f, s, k, shares[(f, s, k)]) for f, s, k in runs], workers=workers, backend=backend)
        for (fam, size, seed), got in zip(runs, outs):
            self.record(fam, size, seed, got, [])
        self.plan.runs.clear()

    def run_sequential(self) -> None:
        """One run at a time, re-planning the budget before each from the timings measured so far."""
        budget_s = self.plan.budget_s
        while self.plan.runs:
            left = budget_s - (time.perf_counter() - self.start) if budget_s else math.inf
            if budget_s:
                self.apply_budget(left, bool(self.runs))
            if not self.plan.runs:
                break
            (fam, size, seed), share = self.plan.next_run(left)
            got = run_one(self.job(fam, size, seed, share))
            self.record(fam, size, seed, got, self.plan.drop_family(fam) if "failed" in got else [])

    def result(self, workers: int, backend: str) -> dict[str, Any]:
        """The compare.json contents for what was run."""
        import zoo

        budget_s, train, test = self.plan.budget_s, self.train, self.test
        result = _assemble(self.desc, self.rec, self.runs, self.skipped, self.picks, self.families, self.sizes,
                           self.seeds, self.keys, self.higher,
                           {"items": len(self.data), "train": len(train), "test": len(test),
                            "source": self.data.source},
                           {"minutes": budget_s / 60 if budget_s else None,
                            "used_seconds": time.perf_counter() - self.start,
                            "workers": workers, "backend": backend if workers > 1 else "sequential"})
        result["versions"] = zoo.library_versions()
        return result


def compare_run(desc: ProjectDescriptor, rec: Recommendation, *, out: Path,
                families: Sequence[str] = FAMILY_ORDER, sizes: Sequence[float] = DEFAULT_SIZES,
                seeds: int = DEFAULT_SEEDS, time_budget_minutes: Optional[float] = None,
                device: Optional[str] = None, quiet: bool = False, workers: int = 1, backend: str = "loky",
                echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Train each family's model at every size × seed, evaluate on one held-out split, write compare.json."""
    import zoo

    task, modality = desc.task.value, desc.data.modality.value
    families = [f for f in FAMILY_ORDER if f in families]
    sizes = sorted(set(sizes))
    picks, skipped_at_start = choose_models(rec, families, task, modality)
    skipped = [{"family": f, **v} for f, v in skipped_at_start.items()]
    if not picks:
        raise CompareError("nothing to compare: " + "; ".join(f"{s['family']}: {s['reason']}" for s in skipped))
    if task == "generation":
        raise CompareError("generation: compare measures predictive families, and only deep models generate; "
                           "train each generator with `advisor train --model image_gan` / `--model image_vae` "
                           "and read their metrics.json side by side")
    if not desc.data.path:
        raise TrainError("data.path: missing; say where the data is (in the descriptor or with --data)")
    claim_out(out, "compare", echo)

    data = zoo.load_dataset(desc.data.path, modality, task=task, target=desc.data.target,
                            text_column=desc.data.text_column, fill=desc.data.fill.value)
    budget_s = (time_budget_minutes or desc.resources.time_budget_minutes or 0) * 60 or None
    comparison = Comparison(desc, rec, data, picks, skipped, families, sizes, seeds, budget_s, device=device,
                            quiet=quiet, echo=echo)
    if workers > 1:
        comparison.run_fanned_out(workers, backend)
    comparison.run_sequential()
    result = comparison.result(workers, backend)
    _write(Path(out), desc, rec, result)
    return result


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """Train one (family, size, seed) run and score it on the shared test split; `{"failed": why}` on error.

    Module-level and self-contained so that a process pool (joblib) can run it in another process.
    """
    import zoo

    task, keys = job["task"], job["keys"]
    part, name, family = job["part"], job["model"], job["family"]
    est = build_estimator(name, task, device=job["device"], time_budget_s=job["share"], seed=job["seed"],
                          weights_path=job["weights_path"], verbose=not job["quiet"])
    scoring = job.get("scoring") or Scoring(metric=None)
    weigh_classes(est, scoring)
    t0 = time.perf_counter()
    try:
        fit_for_task(est, part, task)
        fit_s = time.perf_counter() - t0
        metrics = zoo.evaluate(est, job["test"], task, positive=scoring.positive, metric=scoring.metric)
    except Exception as exc:  # noqa: BLE001 - one family failing must not end the comparison
        text = str(exc).strip()
        return {"failed": f"{type(exc).__name__}: {text.splitlines()[0][:200] if text else ''}"}
    wall = time.perf_counter() - t0
    try:
        size_bytes: Optional[int] = len(pickle.dumps(est, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - an unpicklable model has no size to report
        size_bytes = None
    return {"family": family, "model": name, "size": job["size"], "seed": job["seed"], "n_train": len(part),
            "metric": metrics.get(keys[0]), **{k: metrics.get(k) for k in keys},
            "train_seconds": fit_s, "wall_seconds": wall,
            "inference_ms_per_item": metrics.get("inference_ms_per_item"),
            "model_size_bytes": size_bytes, "device": str(getattr(est, "device_", "cpu")),
            "interpretability": _interpretability(family, name, job["modality"], est), "pid": os.getpid(),
            "one_class": _one_class(metrics)}


def _one_class(metrics: dict[str, Any]) -> bool:
    """Whether a classifier answered one class for every held-out item (a column of the confusion matrix)."""
    matrix = metrics.get("confusion_matrix")
    if not matrix or len(matrix) < 2:
        return False
    return sum(1 for j in range(len(matrix[0])) if any(row[j] for row in matrix)) <= 1


def fan_out(jobs: list[dict[str, Any]], *, workers: int, backend: str = "loky") -> list[dict[str, Any]]:
    """Run `run_one` over the jobs on joblib (`loky`: local processes; `dask`: the dask.distributed cluster of
    the current `Client`, e.g. one made from `--scheduler`), results in job order."""
    from joblib import Parallel, delayed, parallel_config

    local = {"initializer": worker_start, "initargs": (os.getpid(),)} if backend == "loky" else {}
    with parallel_config(backend=backend, n_jobs=workers, **local):
        if backend == "loky":           # start the workers with Ctrl-C ignored (inherited); then wait for them
            with _sigint_ignored():
                started = Parallel(return_as="generator")(delayed(os.getpid)() for _ in range(workers))
            list(started)
        return Parallel()(delayed(run_one)(job) for job in jobs)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored inside the block (only processes started in it: a child keeps an ignored signal ignored;
    the block lasts as long as the spawning, milliseconds)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


PARENT_POLL_S = 0.5


def worker_start(parent_pid: int) -> None:
    """Start of a local worker process: Ctrl-C is the parent's to handle (it stops the pool; a worker that took
    it too would print a traceback, or die mid-write and leak its semaphores), and the worker exits within
    PARENT_POLL_S of its parent's death (a SIGKILLed `advisor compare` must not leave workers running that hold
    its output pipes open). A watchdog thread, as no signal reaches a child when its parent is killed."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="advisor-parent-watch", daemon=True).start()


def _assemble(desc: ProjectDescriptor, rec: Recommendation, runs: list[dict[str, Any]], skipped: list[dict[str, Any]],
              picks: dict[str, str], families: Sequence[str], sizes: Sequence[float], seeds: int,
              keys: tuple[str, ...], higher: bool, data: dict[str, Any], budget: dict[str, Any]) -> dict[str, Any]:
    """Per-family table (largest size measured, mean over seeds), learning curves, agreement, crossover."""
    import numpy as np

    primary = keys[0]
    estimates = {e.approach: e.train_minutes for e in rec.estimates}
    result: dict[str, Any] = {
        "name": desc.name, "task": desc.task.value, "modality": desc.data.modality.value,
        "metric": {"key": primary, "label": LABELS.get(primary, primary), "higher_is_better": higher,
                   "shown": list(keys)},
        "data": {**data, "split_seed": SPLIT_SEED,
                 "split_seeds": [SPLIT_SEED] if desc.task.value == "forecasting" else list(range(max(seeds, 1)))},
        "sizes": list(sizes), "seeds": seeds,
        "predicted": {"family": rec.approach, "model": rec.model}, "families": list(families),
    }
    curves: dict[str, Any] = {}
    for fam in families:
        mine = [r for r in runs if r["family"] == fam]
        if not mine:
            why = next((s["reason"] for s in skipped if s["family"] == fam), "not run")
            result[fam] = {"status": "skipped", "model": picks.get(fam), "reason": why}
            continue
        points = []
        for size in sorted({r["size"] for r in mine}):
            at = [r for r in mine if r["size"] == size]
            points.append({"size": size, "n_train": at[0]["n_train"], "seeds": len(at),
                           "values": [r["metric"] for r in at], **_summary([r["metric"] for r in at]),
                           "one_class": any(r.get("one_class") for r in at)})
        curves[fam] = points
        top = [r for r in mine if r["size"] == points[-1]["size"]]
        row: dict[str, Any] = {"status": "measured", "model": top[0]["model"], "size": top[0]["size"],
                               "n_train": top[0]["n_train"], "seeds": len(top)}
        for k in (*keys, "train_seconds", "wall_seconds", "inference_ms_per_item", "model_size_bytes"):
            vals = [r[k] for r in top if isinstance(r.get(k), (int, float))]
            row[k] = float(np.mean(vals)) if vals else None
        row["metric"] = _summary([r["metric"] for r in top])
        row.update(device=top[0]["device"], interpretability=top[0]["interpretability"],
                   predicted=fam == rec.approach, estimated_train_minutes=estimates.get(fam),
                   partial=[s["reason"] for s in skipped if s["family"] == fam])
        result[fam] = row
    result["learning_curves"] = {"metric": primary, "x": "n_train", "families": curves}
    result["agreement"] = agreement(result, rec.approach, higher)
    result["crossover"] = _crossovers(curves, higher)
    result["skipped"] = skipped
    result["budget"] = {**budget, "runs": len(runs), "runs_skipped": sum(s.get("runs_skipped", 0) for s in skipped)}
    result["runs"] = runs
    result["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    return result


def agreement(result: dict[str, Any], predicted: str, higher: bool) -> dict[str, Any]:
    """Does the measurement (best mean metric at the largest size measured) agree with the advisor's pick?"""
    label = result["metric"]["label"]
    scores = {f: result[f]["metric"]["mean"] for f in FAMILY_ORDER
              if isinstance(result.get(f), dict) and result[f].get("status") == "measured"
              and result[f]["metric"]["mean"] is not None}
    out: dict[str, Any] = {"predicted": predicted, "metric": result["metric"]["key"], "best": None, "delta": None}
    if predicted not in scores:
        why = (result.get(predicted) or {}).get("reason", "not requested")
        return {**out, "verdict": "not measured", "text": f"not measured: the predicted family ({predicted}) was "
                                                           f"not run ({why})"}
    best = max(scores, key=lambda f: (scores[f] if higher else -scores[f], f == predicted))
    out["best"] = best

    def uneven(a: str, b: str) -> str:
        return " (at different training sizes)" if result[a]["n_train"] != result[b]["n_train"] else ""

    if len(scores) == 1:
        return {**out, "verdict": "unchallenged", "text": f"only {predicted} was measured; nothing to compare with"}
    rival = best if best != predicted else max((f for f in scores if f != predicted),
                                               key=lambda f: scores[f] if higher else -scores[f])
    delta = abs(scores[predicted] - scores[rival])
    spread = max((result[f]["metric"].get("std") or 0) for f in (predicted, rival))
    out["delta"] = delta
    if result["seeds"] > 1 and delta <= spread:
        return {**out, "verdict": "tie", "text": f"tie within noise: {predicted} and {rival} differ by Δ {delta:.3f} "
                                                 f"{label}, within the seeds' spread (± {spread:.3f})"
                                                 + uneven(predicted, rival)}
    one_seed = " (one seed: no spread measured)" if result["seeds"] <= 1 else ""
    if best == predicted:
        return {**out, "verdict": "agrees",
                "text": f"agrees: {predicted} measured best, by {delta:.3f} {label} over {rival}"
                        + one_seed + uneven(predicted, rival)}
    return {**out, "verdict": "disagrees",
            "text": f"disagrees: {best} measured better by Δ {delta:.3f} {label}" + (
                f", beyond the seeds' spread (± {spread:.3f})" if not one_seed else one_seed)
                    + uneven(best, predicted)}


def _crossovers(curves: dict[str, list[dict[str, Any]]], higher: bool) -> dict[str, Any]:
    """Where hybrid and deep overtake classical, beyond the seeds' spread, over sizes where both models predict
    more than one class (a model that answers one class everywhere has lost nothing, and been overtaken by
    nobody)."""
    base = {p["size"]: p for p in curves.get("classical", []) if not p.get("one_class")}
    out: dict[str, Any] = {}
    for fam in ("hybrid", "deep"):
        if fam not in curves or not base:
            continue
        common = [p for p in curves[fam] if p["size"] in base and not p.get("one_class")]
        c = crossover([base[p["size"]]["n_train"] for p in common], [base[p["size"]]["mean"] for p in common],
                      [p["mean"] for p in common], higher_is_better=higher,
                      noise=[max(base[p["size"]]["std"] or 0.0, p["std"] or 0.0) for p in common])
        out[fam] = {**c, "text": f"{fam} vs classical: {c['text']}"}
    found = [(v["n_train"], f) for f, v in out.items() if v["status"] in ("inside", "below_range") and v["holds"]]
    if not base:
        summary = ("classical answered one class at every size measured, so there is no crossover to find"
                   if curves.get("classical") else "classical was not measured, so there is no crossover to find")
    elif not out:
        summary = "no deep or hybrid curve measured"
    elif found:
        n = min(x for x, _ in found)
        fams = [f for x, f in found if x == n]
        summary = f"{' and '.join(fams)} overtake{'s' if len(fams) == 1 else ''} classical from n≈{n:,.0f} " \
                  "training items" + (" (or fewer)" if out[fams[0]]["status"] == "below_range" else "")
    else:
        summary = "; ".join(v["text"] for v in out.values())
    return {"by_family": out, "summary": summary}


def _write(out: Path, desc: ProjectDescriptor, rec: Recommendation, result: dict[str, Any]) -> None:
    """Build the comparison folder aside, then swap it in whole (zoo.io.publish_folder)."""
    record = CompareResult.model_validate(json.loads(json.dumps(result, default=str)))

    def build(staging: Path) -> None:
        write_text_atomic(staging / "descriptor.yaml",
                          yaml.safe_dump(desc.model_dump(mode="json", exclude_none=True), sort_keys=False))
        write_text_atomic(staging / "recommendation.json", rec.model_dump_json(indent=2))
        write_text_atomic(staging / MARKERS["compare"], dump_record(record, indent=1))

    publish_folder(out, build)
