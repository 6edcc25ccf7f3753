"""The interactive questionnaire: prompts generated from the descriptor schema (choices, defaults, help text)."""

from __future__ import annotations

from enum import Enum
from typing import Any, Callable, Optional, get_args, get_origin

import click
from pydantic import BaseModel, TypeAdapter, ValidationError

from advisor.deciding.engine import fact_names
from advisor.deciding.rules import compile_condition
from advisor.deciding.schema import ProjectDescriptor

_SKIP = ""


def _leaf_type(annotation: Any) -> tuple[Any, bool]:
    """(inner type, optional?) for `X` or `Optional[X]`."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is not None and len(args) == 1:
        return args[0], True
    return annotation, False


def _questions(model: type[BaseModel] = ProjectDescriptor, prefix: str = ""):
    """Yield (dotted name, FieldInfo) for every leaf field, in schema order."""
    for name, info in model.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            yield from _questions(sub, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", info


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for p in parents:
        tree = tree.setdefault(p, {})
    tree[leaf] = value


def _facts(answers: dict[str, Any]) -> dict[str, Any]:
    return {name: answers.get(name) for name in fact_names()}


def ask_descriptor(prompt: Callable[..., Any] = click.prompt, echo: Callable[[str], None] = click.echo
                   ) -> ProjectDescriptor:
    """Ask every descriptor question in turn (skipping ones that do not apply) and validate the result."""
    known = frozenset(fact_names())
    answers: dict[str, Any] = {}
    tree: dict[str, Any] = {}
    for dotted, info in _questions():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        condition = extra.get("ask_if")
        if condition and not compile_condition(str(condition), known)(_facts(answers)):
            continue
        inner, optional = _leaf_type(info.annotation)
        required = info.is_required()
        default = None if required else info.get_default(call_default_factory=True)
        echo(click.style(f"\n{dotted}", bold=True) + f" — {info.description or ''}")
        adapter = TypeAdapter(inner)

        def convert(text: str, adapter: TypeAdapter = adapter, optional: bool = optional) -> Any:
            text = text.strip()
            if text == _SKIP and optional:
                return None
            try:
                value = adapter.validate_python(text) if inner is not bool else adapter.validate_strings(text)
                _check_constraints(info, value)
                return value
            except (ValidationError, ValueError) as exc:
                msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                raise click.BadParameter(msg) from None

        if isinstance(inner, type) and issubclass(inner, Enum):
            choices = [m.value for m in inner]
            shown = default.value if isinstance(default, Enum) else choices[0]
            value = inner(prompt(dotted, type=click.Choice(choices), default=shown if not required else None,
                                 show_choices=True))
        else:
            shown = _SKIP if default is None else (str(default).lower() if isinstance(default, bool) else default)
            hint = " (empty to skip)" if optional else ""
            value = prompt(f"{dotted}{hint}", default=shown if not required else None,
                           value_proc=convert, show_default=shown != _SKIP)
        answers[dotted] = value.value if isinstance(value, Enum) else value
        if value is not None and value != default:
            _set(tree, dotted, answers[dotted])
    return ProjectDescriptor.model_validate(tree)


def _check_constraints(info: Any, value: Any) -> None:
    """Apply the field's numeric bounds so a bad answer is re-asked, not rejected at the end."""
    for meta in info.metadata:
        for attr, op, ok in (("ge", ">=", lambda v, b: v >= b), ("gt", ">", lambda v, b: v > b),
                             ("le", "<=", lambda v, b: v <= b)):
            bound: Optional[float] = getattr(meta, attr, None)
            if bound is not None and value is not None and not ok(value, bound):
                raise ValueError(f"must be {op} {bound}")
