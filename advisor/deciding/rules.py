"""The rulebook's tiny condition language and the rulebook's own schema.

A condition is a Python-looking boolean expression over descriptor facts, e.g.
``data.modality in ('image', 'text') and data.n_samples < 10000``. It is parsed with ``ast`` and
compiled to closures from a whitelist of node types (names, constants, tuples, comparisons, and/or/not):
nothing is ever passed to ``eval``. Unknown fact names are errors when the rulebook loads.
"""

from __future__ import annotations

import ast
import operator
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Literal, Mapping, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from advisor.deciding.yamlsafe import load_yaml

Facts = Mapping[str, Any]
Condition = Callable[[Facts], bool]
Approach = Literal["classical", "deep", "hybrid"]
APPROACHES: tuple[str, ...] = ("classical", "hybrid", "deep")  # tie-break order: the simpler approach wins


class RuleSyntaxError(ValueError):
    """A condition outside the rule language, or naming an unknown fact."""


_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _dotted(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def _compile(node: ast.AST, known: frozenset[str], text: str) -> Callable[[Facts], Any]:
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v, known, text) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda f: all(p(f) for p in parts)
        return lambda f: any(p(f) for p in parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _compile(node.operand, known, text)
        return lambda f: not inner(f)
    if isinstance(node, ast.Compare):
        terms = [_compile(n, known, text) for n in [node.left, *node.comparators]]
        ops = []
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise RuleSyntaxError(f"{text!r}: operator {type(op).__name__} is not allowed")
            ops.append((_COMPARE[type(op)], isinstance(op, _ORDERING)))

        def compare(f: Facts) -> bool:
            values = [t(f) for t in terms]
            for (fn, ordering), a, b in zip(ops, values, values[1:]):
                if ordering and (a is None or b is None):
                    return False  # an unknown quantity satisfies no threshold
                if not fn(a, b):
                    return False
            return True

        return compare
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, int, float, str))):
        value = node.value
        return lambda f: value
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_compile(e, known, text) for e in node.elts]
        if not all(isinstance(e, ast.Constant) for e in node.elts):
            raise RuleSyntaxError(f"{text!r}: lists may hold constants only")
        values = tuple(i({}) for i in items)
        return lambda f: values
    name = _dotted(node)
    if name is not None:
        if name not in known:
            raise RuleSyntaxError(f"{text!r}: unknown fact {name!r}")
        return lambda f: f[name]
    raise RuleSyntaxError(f"{text!r}: {type(node).__name__} is not allowed in a condition")


def compile_condition(text: str, known: frozenset[str]) -> Condition:
    """Compile a condition string over the fact names in `known`."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise RuleSyntaxError(f"{text!r}: {exc.msg}") from None
    fn = _compile(tree.body, known, text)
    return lambda facts: bool(fn(facts))


# --- the rulebook's schema -------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Risk(_Strict):
    id: str
    detail: str
    mitigation: str


class PlanStep(_Strict):
    id: str
    detail: str


class Rule(_Strict):
    """One rule: when `when` holds, apply the effects; `reason` says why, in one line."""

    id: str
    factor: str = Field(description="The framework factor this rule encodes (data type, dataset size, ...).")
    section: str = Field(description="The framework section the rule comes from.")
    when: str
    reason: str
    scores: dict[Approach, float] = Field(default_factory=dict)
    exclude: list[Approach] = Field(default_factory=list)
    architecture: dict[Approach, str] = Field(default_factory=dict)
    strategy: dict[Approach, str] = Field(default_factory=dict)
    plan: dict[Approach, list[PlanStep]] = Field(default_factory=dict)
    risks: dict[Approach, list[Risk]] = Field(default_factory=dict)

    def effect_text(self) -> str:
        """A compact human-readable summary of the rule's effects."""
        parts = [f"{a} {v:+g}" for a, v in self.scores.items()]
        parts += [f"{a} not applicable" for a in self.exclude]
        parts += [f"{a} architecture = {v}" for a, v in self.architecture.items()]
        parts += [f"{a} strategy = {v}" for a, v in self.strategy.items()]
        parts += [f"{a} plan + {', '.join(s.id for s in steps)}" for a, steps in self.plan.items()]
        parts += [f"{a} risk: {', '.join(r.id for r in rs)}" for a, rs in self.risks.items()]
        return "; ".join(parts) or "none"


class CounterfactualAxis(_Strict):
    """A descriptor field the user could change, and the values worth trying."""

    field: str
    values: list[Any]


class Rulebook(_Strict):
    version: str
    sections: list[str]
    factors: list[str]
    defaults: dict[Approach, dict[str, str]] = Field(description="Architecture and strategy before any rule.")
    derived: dict[str, str] = Field(description="Derived facts: name -> condition over descriptor facts.")
    rules: list[Rule]
    counterfactuals: list[CounterfactualAxis]

    @model_validator(mode="after")
    def _consistent(self) -> "Rulebook":
        ids = [r.id for r in self.rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate rule ids: {dupes}")
        for rule in self.rules:
            if rule.section not in self.sections:
                raise ValueError(f"rule {rule.id}: section {rule.section!r} is not one of the framework's sections")
            if rule.factor not in self.factors:
                raise ValueError(f"rule {rule.id}: factor {rule.factor!r} is not a listed factor")
        return self


@lru_cache(maxsize=1)
def load_rulebook() -> Rulebook:
    """The rulebook shipped with the package (parsed and validated once per process)."""
    text = resources.files("advisor.deciding").joinpath("rulebook.yaml").read_text(encoding="utf-8")
    try:
        return Rulebook.model_validate(load_yaml(text))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise RuleSyntaxError(f"advisor/deciding/rulebook.yaml: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
