"""Measure before committing: a cheap probe across families, then cross-validated choice inside the family.

The rules propose (``rec.model``); this module settles on the user's training split only:

1. **Probe** — the rules' top approaches that the hard constraints allow (the pick and up to two live
   alternatives) are scored on a subsample (≤ 1,000 items, 3 folds) within ~15 % of the time budget. The
   family changes only when another one wins by more than twice the standard error of the paired fold gaps.
2. **Candidates** — every catalogue model of the chosen family that serves the data (readable ones only when
   interpretability is required) is cross-validated on the same folds; the best mean wins.
3. **Light search** — the winner's catalogue search space is sampled (up to 8 settings) and run by successive
   halving: every setting on a third of the folds, the best two on all of them. scikit-learn's own
   ``HalvingRandomSearchCV`` does the same but cannot stop at a wall-clock deadline or share our folds and
   records, and Optuna would be a new dependency for a grid this small.

Every measurement becomes a leaderboard row and a ``measured.*`` trace entry with its numbers.
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from advisor.deciding.recommendation import Recommendation, TraceEntry
from advisor.deciding.schema import ProjectDescriptor
from advisor.running.fitting import Scoring, build_estimator, fit_for_task, params_for, weigh_classes

__all__ = ["Choice", "choose_model", "DEFAULT_BUDGET_S", "PROBE_SHARE", "SELECTION_SHARE"]

DEFAULT_BUDGET_S = 600.0      # when the descriptor and the command set no time budget
PROBE_SHARE = 0.15            # of the budget, for the probe across families
SELECTION_SHARE = 0.35        # of the budget, for candidates and the search inside the family
PROBE_ROWS = 1_000
MAX_SETTINGS = 8
CV_TREES = 100                # forests are ranked with this many trees; the final fit keeps the catalogue's
SELECTABLE_TASKS = ("classification", "regression", "forecasting")
_SECTION = "Measured on your data"


@dataclass
class Choice:
    """What the measurement settled on, and the evidence."""

    model: str
    family: str
    params: dict[str, Any] = field(default_factory=dict)
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    probe: list[dict[str, Any]] = field(default_factory=list)
    trace: list[TraceEntry] = field(default_factory=list)
    folds: str = ""
    metric: str = ""
    seconds: float = 0.0
    probe_seconds: float = 0.0
    readability_price: Optional[float] = None
    rules_model: Optional[str] = None
    baseline: Optional[dict[str, Any]] = None

    def record(self) -> dict[str, Any]:
        """The JSON block metrics.json keeps under ``selection``."""
        return {"model": self.model, "family": self.family, "params": self.params, "metric": self.metric,
                "folds": self.folds, "seconds": self.seconds, "probe_seconds": self.probe_seconds,
                "rules_model": self.rules_model, "readability_price": self.readability_price,
                "baseline": self.baseline,
                "leaderboard": self.leaderboard, "probe": self.probe}


@dataclass
class _Context:
    desc: ProjectDescriptor
    task: str
    modality: str
    seed: int
    device: Optional[str]
    echo: Callable[[str], None]
    scoring: Scoring = field(default_factory=lambda: Scoring(metric=None))

    def make(self, name: str, params: Optional[dict[str, Any]] = None,
             time_budget_s: Optional[float] = None) -> Callable[[], Any]:
        def build() -> Any:
            est = build_estimator(name, self.task, device=self.device, seed=self.seed, verbose=False,
                                  time_budget_s=time_budget_s, weights_path=self.desc.resources.weights_path)
            if self.modality in ("tabular", "time_series"):
                est.set_params(**params_for(est, {"n_jobs": 1}))     # many small fits: one core each
            if "n_estimators" in est.get_params(deep=False) and est.get_params()["n_estimators"] > CV_TREES:
                est.set_params(n_estimators=CV_TREES)                 # ranking forests needs fewer trees
            weigh_classes(est, self.scoring)
            return est.set_params(**(params or {}))
        return build

    def fit(self, est: Any, data: Any) -> Any:
        return fit_for_task(est, data, self.task)

    def cv(self, make: Callable[[], Any], data: Any, plan: Any, **kw: Any) -> Any:
        """zoo.validation.cross_validate on the scoring's metric and positive class."""
        from zoo.validation import cross_validate

        return cross_validate(make, data, plan, self.task, fit=self.fit, metric=self.scoring.metric,
                              positive=self.scoring.positive, **kw)


def _fmt(mean: Optional[float], std: Optional[float]) -> str:
    return "failed" if mean is None else f"{mean:.3f} ± {std or 0:.3f}"


def _row(name: str, family: str, stage: str, cv: Any, params: Optional[dict[str, Any]] = None,
         readable: bool = False) -> dict[str, Any]:
    return {"model": name, "family": family, "stage": stage, "params": dict(params or {}), "mean": cv.mean,
            "std": cv.std, "scores": [round(s, 6) for s in cv.scores], "folds": len(cv.scores),
            "seconds": round(cv.seconds, 3), "readable": readable, "error": cv.error, "stopped": cv.stopped}


def choose_model(desc: ProjectDescriptor, rec: Recommendation, train: Any, *, budget_s: Optional[float] = None,
                 seed: int = 0, device: Optional[str] = None, horizon: Optional[int] = None,
                 echo: Callable[[str], None] = print, scoring: Optional[Scoring] = None) -> Optional[Choice]:
    """Probe, select and tune on ``train`` (the training split); None when the task is not measured here.
    ``scoring`` (advisor.running.fitting.scoring_for): the metric maximised and the class weights."""
    task, modality = desc.task.value, desc.data.modality.value
    if task not in SELECTABLE_TASKS or rec.model is None:
        return None
    from zoo import catalogue
    from zoo.devices import cpu_threads
    from zoo.memo import feature_memo
    from zoo.validation import plan_folds, selection_metric

    ctx = _Context(desc, task, modality, seed, device, echo, scoring or Scoring(metric=None))
    budget = float(budget_s or DEFAULT_BUDGET_S)
    start = time.perf_counter()
    readable_only = desc.needs.interpretability.value == "required"
    choice = Choice(model=rec.model, family=rec.approach.value, metric=selection_metric(task, ctx.scoring.metric),
                    rules_model=rec.model)
    tables = modality in ("tabular", "time_series")
    with feature_memo(), cpu_threads(1 if tables else None):      # many small fits: one thread each
        family = _probe(ctx, rec, train, choice, start + PROBE_SHARE * budget, horizon, readable_only)
        choice.probe_seconds = time.perf_counter() - start
        plan = plan_folds(train, task, seed=seed, horizon=horizon, **_fold_shape(modality, family))
        choice.folds = plan.text
        deadline = time.perf_counter() + SELECTION_SHARE * budget
        entries = _candidates(catalogue.serving(modality, task, family), len(train), family)
        _select(ctx, entries, train, plan, choice, deadline, readable_only)
        _search(ctx, catalogue.entry(choice.model), train, plan, choice, deadline)
    choice.seconds = time.perf_counter() - start
    return choice


def _fold_shape(modality: str, family: str) -> dict[str, Any]:
    """Tables get 5 folds (repeated when small); images, text and any deep family 3 folds, once."""
    if modality in ("tabular", "time_series") and family != "deep":
        return {}
    return {"n_splits": 3, "repeats": 1}


def _candidates(entries: list[Any], n_rows: int, family: str) -> list[Any]:
    """The family's catalogue models worth cross-validating here. Deep: none on top of the probe (one fine-tune
    per fold is the whole budget on a CPU); the rules' deep model is trained as it is."""
    if family == "deep":
        return []
    return [e for e in entries if e.max_rows is None or n_rows <= e.max_rows]


def _probe(ctx: _Context, rec: Recommendation, train: Any, choice: Choice, deadline: float,
           horizon: Optional[int], readable_only: bool) -> str:
    """Score the rules' top approaches on a subsample, each at its best catalogue model; return the family to
    select in (another family than the rules' only when it wins beyond the noise)."""
    from zoo.validation import CvResult, plan_folds

    picks = {rec.approach.value: rec.model, **{a.approach.value: a.model for a in rec.alternatives[:2] if a.model}}
    models = {fam: _family_models(ctx, fam, picks[fam], len(train), readable_only) for fam in picks}
    models = {fam: names for fam, names in models.items() if names}
    if len(models) < 2 or rec.approach.value not in models:
        return rec.approach.value
    sub = plan_folds(train, ctx.task, seed=ctx.seed, max_rows=PROBE_ROWS, horizon=horizon, n_splits=3, repeats=1)
    cost = {fam: _probe_cost(rec, fam, sub.rows, len(train), len(sub.folds)) for fam in models}
    best: dict[str, tuple[str, Any]] = {}
    for fam in sorted(models, key=lambda f: cost[f]):                     # cheapest family first
        left = deadline - time.perf_counter()
        if fam != rec.approach.value and cost[fam] > left:
            choice.probe.append(_row(models[fam][0], fam, "probe", CvResult(
                stopped=f"not probed: estimated {cost[fam]:.0f} s, {max(left, 0):.0f} s of the probe's share left")))
            continue
        _probe_family(ctx, fam, models[fam], train, sub, choice, deadline, best)
    best_fam, verdict = _probe_verdict(rec.approach.value, best)
    effect = "; ".join(f"{fam} {name} {_fmt(cv.mean, cv.std)}" for fam, (name, cv) in best.items())
    choice.trace.append(TraceEntry(
        id="measured.probe", factor="measured", section=_SECTION,
        effect=f"{effect} (each family's best on {sub.text}, {choice.metric})",
        reason=f"The rules proposed {rec.approach.value}; a quick measurement on the training split {verdict}."))
    choice.family = best_fam
    choice.model = best[best_fam][0] if best_fam in best else rec.model
    return best_fam


def _family_models(ctx: _Context, family: str, pick: str, n_train: int, readable_only: bool) -> list[str]:
    """The models a family is probed with: the rules' model for it first, then (not deep) its other candidates."""
    from zoo import catalogue

    entries = [e for e in catalogue.serving(ctx.modality, ctx.task, family) if e.max_rows is None or
               n_train <= e.max_rows]
    if readable_only:
        entries = [e for e in entries if e.readable]
    names = [e.name for e in entries]
    if family == "deep":
        return [pick] if pick in names else names[:1]
    return sorted(names, key=lambda n: n != pick)


def _probe_family(ctx: _Context, family: str, names: list[str], train: Any, sub: Any, choice: Choice,
                  deadline: float, best: dict[str, tuple[str, Any]]) -> None:
    """Cross-validate a family's probe models on the subsample folds; keep its best in `best`."""
    from zoo import catalogue
    from zoo.validation import CvResult

    for name in names:
        left = deadline - time.perf_counter()
        if left <= 0 and family in best:
            choice.probe.append(_row(name, family, "probe", CvResult(stopped="probe time share used up")))
            continue
        cv = ctx.cv(ctx.make(name, time_budget_s=max(left, 1.0) / max(len(sub.folds), 1)), train, sub,
                    deadline=deadline, min_folds=2)
        entry = catalogue.entry(name)
        choice.probe.append(_row(name, family, "probe", cv, readable=bool(entry and entry.readable)))
        if cv.mean is not None and (family not in best or cv.mean > best[family][1].mean):
            best[family] = (name, cv)


def _probe_verdict(rules_family: str, best: dict[str, tuple[str, Any]]) -> tuple[str, str]:
    """The family to keep, and why: another one only when its paired fold gap beats max(2 SE, 0.005)."""
    from zoo.validation import paired_gap

    if rules_family not in best:
        return rules_family, "kept the rules' pick (it could not be measured)"
    base = best[rules_family][1]
    winners = []
    for fam, (_, cv) in best.items():
        gap, se = paired_gap(cv.scores, base.scores)
        if fam != rules_family and min(len(cv.scores), len(base.scores)) >= 2 and gap > max(2 * se, 0.005):
            winners.append((cv.mean, fam, gap, se))
    if not winners:
        return rules_family, "kept the rules' pick (no other family won beyond the noise)"
    _, fam, gap, se = max(winners)
    return fam, f"switched to {fam}: it scored {gap:+.3f} higher, beyond the noise (2 SE = {2 * se:.3f})"


def _probe_cost(rec: Recommendation, family: str, rows: int, n_train: int, folds: int) -> float:
    """Seconds the probe of `family` should take, from the rules' cost estimate scaled to the subsample
    (a hybrid pays its frozen features once per item; the others fit once per fold on 2/3 of the rows)."""
    est = next((e for e in rec.estimates if e.approach.value == family), None)
    if est is None:
        return 0.0
    share = rows / max(n_train, 1)
    return est.train_minutes * 60 * share * (1.0 if family == "hybrid" else folds * 2 / 3)


def _select(ctx: _Context, entries: list[Any], train: Any, plan: Any, choice: Choice, deadline: float,
            readable_only: bool) -> None:
    """Cross-validate each candidate on the same folds; the best mean (readable only, if required) wins."""
    from zoo.validation import CvResult, baseline_cv

    if not entries:
        return
    ctx.echo(f"selection: {len(entries)} {choice.family} candidate(s), {plan.text}")
    if ctx.task in ("classification", "regression"):
        label, cv = baseline_cv(train, plan, ctx.task, ctx.scoring.metric, ctx.scoring.positive)
        choice.baseline = {"name": label, "mean": cv.mean, "std": cv.std, "folds": len(cv.scores)}
    for e in entries:
        if time.perf_counter() >= deadline and choice.leaderboard:
            choice.leaderboard.append(_row(e.name, e.family, "candidate", CvResult(stopped="time budget")))
            continue
        cv = ctx.cv(ctx.make(e.name), train, plan, deadline=deadline)
        choice.leaderboard.append(_row(e.name, e.family, "candidate", cv, readable=e.readable))
    scored = [r for r in choice.leaderboard if r["mean"] is not None and r["folds"] == len(plan.folds)]
    scored = scored or [r for r in choice.leaderboard if r["mean"] is not None]
    if not scored:
        return
    pool = [r for r in scored if r["readable"]] if readable_only else scored
    if not pool:
        return
    best = max(pool, key=lambda r: r["mean"])
    choice.model = best["model"]
    if readable_only:
        top = max(scored, key=lambda r: r["mean"])
        choice.readability_price = round(top["mean"] - best["mean"], 6)
    board = ", ".join(f"{r['model']} {_fmt(r['mean'], r['std'])}" for r in sorted(
        scored, key=lambda r: -r["mean"])[:4])
    price = (f"; the price of readability: {choice.readability_price:.3f} below the best model overall"
             if readable_only else "")
    choice.trace.append(TraceEntry(
        id="measured.selection", factor="measured", section=_SECTION,
        effect=f"{board} ({plan.text}, {choice.metric})",
        reason=f"Cross-validated inside the training split: {best['model']} had the best mean{price}."))


def _settings(space: dict[str, tuple[Any, ...]], seed: int) -> list[dict[str, Any]]:
    """Up to MAX_SETTINGS (+1, the default may be drawn) settings drawn at random from the grid."""
    grid = [dict(zip(space, values)) for values in itertools.product(*space.values())]
    random.Random(seed).shuffle(grid)
    return grid[:MAX_SETTINGS + 1]


def _search(ctx: _Context, entry: Any, train: Any, plan: Any, choice: Choice, deadline: float) -> None:
    """Successive halving over the winner's search space; adopt a setting only if its mean beats the default's."""
    from zoo.validation import FoldPlan

    base = next((r for r in choice.leaderboard if r["model"] == choice.model and r["stage"] == "candidate"), None)
    if entry is None or base is None or base["mean"] is None or choice.family == "deep":
        return
    space = entry.search_space(ctx.task)
    if not space or time.perf_counter() >= deadline:
        return
    first = FoldPlan(plan.folds[:max(2, len(plan.folds) // 3)], plan.text, plan.rows)
    current = ctx.make(choice.model)().get_params(deep=False)
    settings = [p for p in _settings(space, ctx.seed) if any(current.get(k) != v for k, v in p.items())]
    rung: list[tuple[dict[str, Any], Any]] = []
    for params in settings:
        if time.perf_counter() >= deadline:
            break
        cv = ctx.cv(ctx.make(choice.model, params), train, first, deadline=deadline)
        if cv.mean is not None and len(cv.scores) == len(first.folds):
            rung.append((params, cv))
    rung.sort(key=lambda pc: -pc[1].mean)
    best_params, best_mean = None, base["mean"]
    for params, cv in rung[:2]:
        rest = FoldPlan(plan.folds[len(first.folds):], plan.text, plan.rows)
        more = ctx.cv(ctx.make(choice.model, params), train, rest, deadline=deadline)
        cv.scores += more.scores
        cv.seconds += more.seconds
        cv.stopped = more.stopped
        row = _row(choice.model, choice.family, "tuned", cv, params, readable=entry.readable)
        choice.leaderboard.append(row)
        if len(cv.scores) == len(plan.folds) and cv.mean > best_mean:
            best_params, best_mean = params, cv.mean
    tried = len(rung)
    if best_params is None:
        verdict = f"{tried} setting(s) tried; none beat the defaults ({base['mean']:.3f})"
    else:
        choice.params = dict(best_params)
        shown = ", ".join(f"{k}={v}" for k, v in best_params.items())
        verdict = f"{tried} setting(s) tried by successive halving; {shown} scored {best_mean:.3f} vs the " \
                  f"defaults' {base['mean']:.3f}"
    choice.trace.append(TraceEntry(id="measured.search", factor="measured", section=_SECTION,
                                   effect=f"{choice.model}: {verdict}",
                                   reason="A light search of the winner's settings on the same folds."))
