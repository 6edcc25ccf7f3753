"""Evaluate the rulebook on a descriptor: scores, pick, trace, risks, counterfactuals, estimates.

Pure and deterministic; imports nothing heavier than pydantic and yaml.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any, Mapping, Optional

from pydantic import BaseModel

from advisor.deciding.estimates import estimate
from advisor.deciding.evidence import pick_confidence
from advisor.deciding.recommendation import (Alternative, Counterfactual, Recommendation, TraceEntry,
                                    TrainingPlan)
from advisor.deciding.rules import APPROACHES, Condition, PlanStep, Risk, Rule, Rulebook, compile_condition, load_rulebook
from advisor.deciding.schema import ProjectDescriptor, load_descriptor
from advisor.units import duration
from zoo import catalogue

Facts = dict[str, Any]
_TEMPERATURE = 2.0  # softmax temperature turning rule-point gaps into the rule margin
_MAX_COUNTERFACTUALS = 6
COST_FACTS = (*(f"cost.{a}_minutes" for a in APPROACHES), "budget_minutes")   # numbers the budget rules compare
WORK_HOURS_PER_DAY = 8


def descriptor_facts(descriptor: ProjectDescriptor) -> Facts:
    """Flatten a descriptor into dotted fact names with plain values (enums as strings)."""
    facts: Facts = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(f"{prefix}{name}" if not prefix else f"{prefix}.{name}", getattr(value, name))
        else:
            facts[prefix] = value.value if isinstance(value, Enum) else value

    walk("", descriptor)
    return facts


def fact_names(model: type = ProjectDescriptor, prefix: str = "") -> list[str]:
    """Every dotted fact name a descriptor provides (the schema's leaves)."""
    names = []
    for name, info in model.model_fields.items():
        sub = info.annotation
        dotted = f"{prefix}{name}"
        if isinstance(sub, type) and hasattr(sub, "model_fields"):
            names += fact_names(sub, f"{dotted}.")
        else:
            names.append(dotted)
    return names


@dataclass(frozen=True)
class _Compiled:
    book: Rulebook
    derived: tuple[tuple[str, Condition], ...]
    rules: tuple[tuple[Rule, Condition], ...]


@lru_cache(maxsize=1)
def _compiled() -> _Compiled:
    book = load_rulebook()
    known = set(fact_names()) | set(COST_FACTS)
    derived = []
    for name, text in book.derived.items():
        derived.append((name, compile_condition(text, frozenset(known))))
        known.add(name)
    rules = tuple((r, compile_condition(r.when, frozenset(known))) for r in book.rules)
    return _Compiled(book, tuple(derived), rules)


@dataclass
class _Outcome:
    """Everything one pass of the rulebook decides."""

    facts: Facts
    fired: list[Rule]
    scores: dict[str, float]
    excluded: dict[str, str]
    architecture: dict[str, str]
    strategy: dict[str, str]
    arch_reason: dict[str, str] = field(default_factory=dict)

    @property
    def ranked(self) -> list[str]:
        """Applicable approaches, best first; ties go to the simpler approach."""
        live = [a for a in APPROACHES if a not in self.excluded]
        return sorted(live, key=lambda a: (-self.scores[a], APPROACHES.index(a)))

    @property
    def approach(self) -> str:
        return self.ranked[0] if self.ranked else "classical"


def _with_derived(base: Mapping[str, Any]) -> Facts:
    facts = dict(base)
    for name, cond in _compiled().derived:
        facts[name] = cond(facts)
    return _with_costs(facts)


def _with_costs(facts: Facts) -> Facts:
    """Add each approach's estimated training minutes on the declared hardware and the minutes it must fit in:
    the time budget, else the development days at WORK_HOURS_PER_DAY (None when neither is declared)."""
    for approach in APPROACHES:
        facts[f"cost.{approach}_minutes"] = estimate(approach, None, facts).train_minutes
    budget, days = facts.get("resources.time_budget_minutes"), facts.get("needs.dev_time_days")
    facts["budget_minutes"] = budget if budget is not None else (
        days * WORK_HOURS_PER_DAY * 60 if days is not None else None)
    return facts


def _numbers(rule: Rule, facts: Mapping[str, Any]) -> str:
    """The estimated minutes a rule compared, for its trace line: ' (deep ~1,300 min vs budget 60 min)'."""
    named = [name for name in COST_FACTS if name in rule.when]
    if not named:
        return ""
    said = [f"{name.removeprefix('cost.').removesuffix('_minutes')} ~{duration(facts[name] * 60)}" for name in named
            if facts.get(name) is not None]
    return f" ({'; '.join(said)})"


def _evaluate(base: Mapping[str, Any]) -> _Outcome:
    compiled = _compiled()
    facts = _with_derived(base)
    scores = {a: 0.0 for a in APPROACHES}
    excluded: dict[str, str] = {}
    architecture = {a: compiled.book.defaults[a]["architecture"] for a in APPROACHES}
    strategy = {a: compiled.book.defaults[a]["strategy"] for a in APPROACHES}
    outcome = _Outcome(facts, [], scores, excluded, architecture, strategy)
    for rule, cond in compiled.rules:
        if not cond(facts):
            continue
        outcome.fired.append(rule)
        for a, v in rule.scores.items():
            scores[a] += v
        for a in rule.exclude:
            excluded.setdefault(a, rule.reason)
        architecture.update(rule.architecture)
        outcome.arch_reason.update({a: rule.reason for a in rule.architecture})
        strategy.update(rule.strategy)
    if len(excluded) == len(APPROACHES):  # a descriptor no rule can serve: fall back to the classical baseline
        excluded.pop("classical")
    return outcome


def resolve_model(approach: str, architecture: str, modality: str, task: str) -> tuple[Optional[str], str]:
    """The catalogue model that builds (approach, architecture) for (modality, task), else None and a plain line.

    The line names the closest model the zoo does train (same family first), so the user has a next step.
    """
    found = catalogue.resolve(approach, architecture, modality, task)
    if found is not None:
        return found.name, ""
    task_text = task.replace("_", " ")
    near = catalogue.serving(modality, task, approach) or catalogue.serving(modality, task)
    if not near:
        return None, f"no zoo model trains {task_text} on {modality} data yet (the rules pick {approach} {architecture})"
    return None, (f"no zoo model trains {approach} {architecture} for {modality} {task_text} yet; closest trainable: "
                  f"{near[0].name} ({near[0].family} {near[0].architecture})")


def _model_for(approach: str, architecture: str, facts: Mapping[str, Any]) -> tuple[Optional[str], str]:
    return resolve_model(approach, architecture, str(facts["data.modality"]), str(facts["task"]))


def _rule_margin(outcome: _Outcome) -> float:
    """The pick's softmax share of the rule points among the live approaches (1 when nothing competes)."""
    live = outcome.ranked
    exps = {a: math.exp(outcome.scores[a] / _TEMPERATURE) for a in live}
    return round(exps[outcome.approach] / sum(exps.values()), 2)


def _why(outcome: _Outcome) -> list[str]:
    """The 3-6 rules that most separate the pick from the runner-up, plus the architecture's reason."""
    pick = outcome.approach
    runner = outcome.ranked[1] if len(outcome.ranked) > 1 else None
    lines = [f"{r.reason} [{r.id}]" for r in outcome.fired if runner is None and r.exclude and pick not in r.exclude]
    contrib = []
    for i, rule in enumerate(outcome.fired):
        gap = rule.scores.get(pick, 0.0) - (rule.scores.get(runner, 0.0) if runner else 0.0)
        if gap > 0:
            contrib.append((-gap, i, rule))
    lines += [f"{r.reason} [{r.id}]" for _, _, r in sorted(contrib)]
    lines = list(dict.fromkeys(lines))[:5]
    arch = outcome.architecture[pick]
    if pick in outcome.arch_reason:
        lines.append(f"Architecture {arch}: {outcome.arch_reason[pick]}")
    return lines


def _describe(field_name: str, old: Any, new: Any) -> str:
    fmt = lambda v: f"{v:,}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)  # noqa: E731
    if isinstance(new, (int, float)) and not isinstance(new, bool) and isinstance(old, (int, float)):
        return f"{field_name} {'≥' if new > old else '≤'} {fmt(new)}"
    return f"{field_name} = {fmt(new)}"


def _closeness(old: Any, new: Any) -> float:
    if isinstance(new, (int, float)) and not isinstance(new, bool) and isinstance(old, (int, float)) \
            and old > 0 and new > 0:
        return abs(math.log10(new) - math.log10(old))     # not log10(new / old): that underflows for huge counts
    return 1.0


def counterfactuals(base: Mapping[str, Any], approach: Optional[str] = None) -> list[Counterfactual]:
    """The smallest descriptor changes (one field, else two) that flip the recommended approach."""
    approach = approach or _evaluate(base).approach
    axes = []
    for axis in _compiled().book.counterfactuals:
        old = base.get(axis.field)
        values = sorted((v for v in axis.values if v != old), key=lambda v: _closeness(old, v))
        axes.append((axis.field, old, values))

    found: list[tuple[int, float, dict[str, Any], str]] = []
    single_flips: set[str] = set()
    for name, old, values in axes:
        seen_directions: set[Any] = set()
        for value in values:
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            direction = (value > old) if numeric and old is not None else ("set" if numeric else value)
            if direction in seen_directions:
                continue
            flipped = _evaluate({**base, name: value}).approach
            if flipped != approach:
                seen_directions.add(direction)
                found.append((1, _closeness(old, value), {name: value}, flipped))
                single_flips.add(name)
    if len(found) < 3:
        for (n1, o1, v1s), (n2, o2, v2s) in itertools.combinations(axes, 2):
            if n1 in single_flips or n2 in single_flips:
                continue
            for v1, v2 in itertools.product(v1s[:4], v2s[:4]):
                flipped = _evaluate({**base, n1: v1, n2: v2}).approach
                if flipped != approach:
                    found.append((2, _closeness(o1, v1) + _closeness(o2, v2), {n1: v1, n2: v2}, flipped))
                    break
    if not found:
        found += _greedy_flip(base, approach, axes)
    order = {name: i for i, (name, _, _) in enumerate(axes)}
    found.sort(key=lambda f: (f[0], round(f[1], 6), sorted(order[k] for k in f[2])))
    result = []
    for _, _, changes, flipped in found[:_MAX_COUNTERFACTUALS]:
        said = " and ".join(_describe(k, base.get(k), v) for k, v in changes.items())
        result.append(Counterfactual(changes=changes, approach=flipped, text=f"with {said}: {flipped}"))
    return result


def _greedy_flip(base: Mapping[str, Any], approach: str, axes: list[tuple[str, Any, list[Any]]],
                 max_changes: int = 4) -> list[tuple[int, float, dict[str, Any], str]]:
    """No one or two changes flip the pick: add the change that most closes the gap, up to `max_changes`."""
    changes: dict[str, Any] = {}
    for _ in range(max_changes):
        best = None
        for name, old, values in axes:
            if name in changes:
                continue
            for value in values:
                outcome = _evaluate({**base, **changes, name: value})
                if outcome.approach != approach:
                    final = {**changes, name: value}
                    dist = sum(_closeness(base.get(k), v) for k, v in final.items())
                    return [(len(final), dist, final, outcome.approach)]
                rival = max(outcome.scores[a] for a in outcome.ranked if a != approach) if len(
                    outcome.ranked) > 1 else -math.inf
                gap = outcome.scores[approach] - rival
                if best is None or gap < best[0]:
                    best = (gap, name, value)
        if best is None:
            break
        changes[best[1]] = best[2]
    return []


def _risks(outcome: _Outcome, approach: str) -> list[Risk]:
    risks: dict[str, Risk] = {}
    for rule in outcome.fired:
        for risk in rule.risks.get(approach, []):
            risks.setdefault(risk.id, risk)
    return list(risks.values())


def _plan(outcome: _Outcome, approach: str) -> TrainingPlan:
    steps: dict[str, PlanStep] = {}
    for rule in outcome.fired:
        for step in rule.plan.get(approach, []):
            steps.setdefault(step.id, step)
    return TrainingPlan(strategy=outcome.strategy[approach], steps=list(steps.values()))


def _why_not(outcome: _Outcome, approach: str) -> str:
    pick = outcome.approach
    worst = min(outcome.fired, key=lambda r: (r.scores.get(approach, 0) - r.scores.get(pick, 0),
                                               outcome.fired.index(r)), default=None)
    return f"{worst.reason} [{worst.id}]" if worst else ""


def recommend(descriptor: "ProjectDescriptor | Mapping[str, Any] | str", measured: Optional[list[str]] = None
              ) -> Recommendation:
    """Recommend classical, deep or hybrid for a descriptor (object, mapping or YAML path)."""
    desc = load_descriptor(descriptor)  # type: ignore[arg-type]
    base = descriptor_facts(desc)
    outcome = _evaluate(base)
    facts = outcome.facts
    pick = outcome.approach
    arch = outcome.architecture[pick]
    models = {a: _model_for(a, outcome.architecture[a], facts) for a in outcome.ranked}
    alternatives = [
        Alternative(approach=a, architecture=outcome.architecture[a], model=models[a][0],
                    model_note=models[a][1], score=outcome.scores[a], why_not=_why_not(outcome, a))
        for a in outcome.ranked[1:]
    ]
    live = outcome.ranked
    evidence = pick_confidence(str(facts["data.modality"]), facts.get("data.n_samples"))
    return Recommendation(
        name=desc.name, task=str(facts["task"]), modality=str(facts["data.modality"]),
        approach=pick, architecture=arch, model=models[pick][0], model_note=models[pick][1],
        plan=_plan(outcome, pick),
        scores={a: outcome.scores[a] for a in APPROACHES},
        excluded=dict(outcome.excluded),
        confidence=evidence.value, confidence_basis=evidence.basis_text, rule_margin=_rule_margin(outcome),
        why=_why(outcome),
        trace=[TraceEntry(id=f"measured.{note.split()[0].split('.')[-1]}", factor="dataset_size",
                          section="Difference 2: Data Requirements", effect=note.split(" measured")[0],
                          reason="Not declared in the descriptor: counted from data.path before the rules ran.")
               for note in measured or []]
              + [TraceEntry(id=r.id, factor=r.factor, section=r.section, effect=r.effect_text() + _numbers(r, facts),
                            reason=r.reason) for r in outcome.fired],
        risks=_risks(outcome, pick), alternatives=alternatives,
        counterfactuals=counterfactuals(base, pick),
        estimates=[estimate(a, models[a][0], facts) for a in live],
        measured=list(measured or []),
        rulebook_version=_compiled().book.version,
    )
