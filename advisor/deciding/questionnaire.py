"""The interactive questionnaire: prompts generated from the descriptor schema (choices, defaults, help text).

One question per leaf field of ProjectDescriptor, in schema order, asked when its `ask_if` holds. A blank answer
takes the default: the answer already given (after `back`), else `defaults` (e.g. an old descriptor), else a guess
from the data, else the field's own default or its `ask_default`, else an enum's first member (the schema lists
the most common choice first). `back` returns to the previous question; `-` empties an optional field; enum and
yes/no answers may be unique prefixes; numbers may be written 1,000 or 1_000. Fields named `*path` are typed
relative to the working folder, warned about when they do not exist (and kept), and written relative to the
descriptor's folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, get_args, get_origin

import click
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from advisor.deciding.engine import fact_names
from advisor.deciding.rules import compile_condition
from advisor.deciding.schema import DescriptorError, ProjectDescriptor, parse_descriptor

BACK = "back"
CLEAR = "-"          # empties an optional field that has a default (an old descriptor's value, an earlier answer)
_YES_NO = ("yes", "no")
# What the data answers: (measured facts, asked for no more; guessed defaults), from the path's absolute form.
Survey = Callable[[str, Mapping[str, Any]], "tuple[dict[str, Any], dict[str, Any]]"]


def _leaf_type(annotation: Any) -> tuple[Any, bool]:
    """(inner type, optional?) for `X` or `Optional[X]`."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is not None and len(args) == 1:
        return args[0], True
    return annotation, False


@dataclass(frozen=True)
class Question:
    """One descriptor field as a question."""

    name: str
    info: FieldInfo

    @property
    def kind(self) -> Any:
        return _leaf_type(self.info.annotation)[0]

    @property
    def optional(self) -> bool:
        return _leaf_type(self.info.annotation)[1]

    @property
    def extra(self) -> dict[str, Any]:
        return self.info.json_schema_extra if isinstance(self.info.json_schema_extra, dict) else {}

    @property
    def choices(self) -> Optional[list[str]]:
        if isinstance(self.kind, type) and issubclass(self.kind, Enum):
            return [m.value for m in self.kind]
        return list(_YES_NO) if self.kind is bool else None

    @property
    def is_path(self) -> bool:
        return self.name.rsplit(".", 1)[-1].endswith("path") and self.kind is str


def questions(model: type[BaseModel] = ProjectDescriptor, prefix: str = "") -> list[Question]:
    """Every leaf field as a Question, in schema order."""
    out: list[Question] = []
    for name, info in model.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            out += questions(sub, f"{prefix}{name}.")
        else:
            out.append(Question(f"{prefix}{name}", info))
    return out


def _pick(text: str, choices: list[str]) -> str:
    """The choice `text` names exactly or by a unique prefix (case-insensitive)."""
    low = text.lower()
    if low in choices:
        return low
    matches = [c for c in choices if c.startswith(low)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValueError(f"'{text}' is ambiguous: {', '.join(matches)}")
    raise ValueError(f"'{text}' is not one of {', '.join(choices)}")


def _number_text(text: str) -> str:
    """'1,000' and '1_000' as '1000' (thousands separators); anything else unchanged."""
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", text) or re.fullmatch(r"[+-]?\d+(_\d+)+(\.\d+)?", text):
        return text.replace(",", "").replace("_", "")
    return text


def parse_answer(question: Question, text: str) -> Any:
    """The typed value of a non-blank answer, or ValueError saying what is allowed."""
    kind = question.kind
    if question.choices:
        word = _pick(text, question.choices)
        return (word == "yes") if kind is bool else kind(word)
    if kind in (int, float):
        text = _number_text(text)
    try:
        value = TypeAdapter(kind).validate_python(text)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None
    _check_constraints(question.info, value)
    return value


def _check_constraints(info: Any, value: Any) -> None:
    """Apply the field's numeric bounds so a bad answer is re-asked, not rejected at the end."""
    for meta in info.metadata:
        for attr, op, ok in (("ge", ">=", lambda v, b: v >= b), ("gt", ">", lambda v, b: v > b),
                             ("le", "<=", lambda v, b: v <= b)):
            bound: Optional[float] = getattr(meta, attr, None)
            if bound is not None and value is not None and not ok(value, bound):
                raise ValueError(f"must be {op} {bound}")


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value.value if isinstance(value, Enum) else value)


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for p in parents:
        tree = tree.setdefault(p, {})
    tree[leaf] = value


def defaults_from(desc: ProjectDescriptor, folder: "str | Path") -> dict[str, Any]:
    """An existing descriptor's values as questionnaire defaults; its paths (relative to `folder`, the old file's
    folder) as typed from the working folder."""
    out: dict[str, Any] = {}
    for q in questions():
        value: Any = desc
        for part in q.name.split("."):
            value = getattr(value, part)
        if value is None:
            continue
        if q.is_path and not Path(value).is_absolute():
            value = _relative(os.path.join(folder, value), os.getcwd())
        out[q.name] = value.value if isinstance(value, Enum) else value
    return out


def _relative(path: str, start: str) -> str:
    """`path` relative to `start` (both made absolute), or absolute when there is no relative form."""
    try:
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(start))).as_posix()
    except ValueError:                      # another drive (Windows)
        return os.path.abspath(path)


def _read(text: str) -> str:
    return click.prompt(text, default="", show_default=False, prompt_suffix=": ")


class _Interview:
    """The questionnaire's state: answers so far, the way back, what the data answered."""

    def __init__(self, defaults: Mapping[str, Any], given: Mapping[str, Any], survey: Optional[Survey],
                 folder: Optional[Path], read: Callable[[str], str], echo: Callable[[str], None]) -> None:
        self.order, self.known = questions(), frozenset(fact_names())
        self.defaults, self.given, self.survey, self.folder = dict(defaults), dict(given), survey, folder
        self.read, self.echo = read, echo
        self.answers: dict[str, Any] = {}
        self.measured: dict[str, Any] = {}
        self.guessed: dict[str, Any] = {}
        self.history: list[int] = []
        self.index = 0

    def applies(self, q: Question) -> bool:
        condition = q.extra.get("ask_if")
        return not condition or self._holds(str(condition))

    def _holds(self, condition: str) -> bool:
        facts = {name: self.answers.get(name) for name in self.known}
        return compile_condition(condition, self.known)(facts)

    def default(self, q: Question) -> Any:
        for source in (self.answers, self.defaults, self.guessed):
            if q.name in source:
                return source[q.name]
        if not q.info.is_required():
            value = q.info.get_default(call_default_factory=True)
            if value is None and "ask_default" in q.extra and self._holds(str(q.extra.get("ask_default_if", "True"))):
                value = q.extra["ask_default"]
            return value
        choices = q.choices
        return choices[0] if choices else None

    def prompt(self, q: Question, default: Any) -> str:
        choices = f" ({'/'.join(q.choices)})" if q.choices else ""
        if default is not None:
            return f"{q.name}{choices} [{_shown(default)}{f'; {CLEAR} clears' if q.optional else ''}]"
        return f"{q.name}{choices}" + (" [empty: skip]" if q.optional else "")

    def take_path(self, q: Question, text: str) -> None:
        """Warn at once about a path that does not exist (it is kept); measure the data at data.path."""
        absolute = os.path.abspath(os.path.expanduser(text))
        if not os.path.exists(absolute):
            self.echo(f"  warning: {text} does not exist (kept; type `{BACK}` to change it)")
        if q.name == "data.path" and self.survey is not None:
            self.measured, self.guessed = self.survey(absolute, self.answers)

    def skip(self, q: Question) -> bool:
        """True when `q` is not asked: it does not apply, was given on the command line, or the data answered it."""
        if not self.applies(q):
            self.answers.pop(q.name, None)
            return True
        if q.name in self.given:
            if q.name not in self.answers:
                self.answers[q.name] = self.given[q.name]
                self.echo(f"\n{q.name}: {_shown(self.given[q.name])} (given)")
                if q.is_path:
                    self.take_path(q, str(self.given[q.name]))
            return True
        if q.name in self.measured and q.name not in self.defaults and q.name not in self.answers:
            self.echo(f"\n{q.name}: {self.measured[q.name]:,} (measured from the data)")
            return True
        return False

    def ask(self, i: int) -> bool:
        """Ask question `i` once; True when answered (False: `back`, or a bad answer to ask again)."""
        q = self.order[i]
        default = self.default(q)
        self.echo(click.style(f"\n{q.name}", bold=True) + f" — {q.info.description or ''}")
        text = self.read(self.prompt(q, default)).strip()
        if text.lower() == BACK:
            if self.history:
                self.index = self.history.pop()
            else:
                self.echo("  (this is the first question)")
            return False
        if text == "" and default is None and q.info.is_required():
            self.echo(f"  {q.name}: an answer is needed")
            return False
        try:
            value = None if text == CLEAR and q.optional else default if text == "" else parse_answer(q, text)
        except ValueError as exc:
            self.echo(f"  {q.name}: {exc}")
            return False
        if q.is_path and value is not None:
            self.take_path(q, str(value))
        self.answers[q.name] = value.value if isinstance(value, Enum) else value
        return True

    def tree(self) -> dict[str, Any]:
        """The answers as a nested mapping; paths made relative to the descriptor's folder."""
        tree: dict[str, Any] = {}
        for q in self.order:
            value = self.answers.get(q.name)
            if value is None:
                continue
            if q.is_path:
                value = os.path.expanduser(value)
                if self.folder is not None and not os.path.isabs(value):
                    value = _relative(value, str(self.folder))
            _set(tree, q.name, value)
        return tree

    def walk(self) -> None:
        """Ask from the first question to the last, `back` included."""
        self.index = 0
        while self.index < len(self.order):
            i = self.index
            if self.skip(self.order[i]):
                self.index += 1
            elif self.ask(i):
                self.history.append(i)
                self.index = i + 1

    def run(self) -> ProjectDescriptor:
        """Walk the questions, then validate; a field the validation names is asked again until it passes."""
        if self.given.get("data.path") and self.survey is not None:     # data given up front may suggest the task
            self.measured, self.guessed = self.survey(os.path.abspath(str(self.given["data.path"])), {})
        self.walk()
        names = [q.name for q in self.order]
        while True:
            try:
                return parse_descriptor(self.tree(), source="answers")
            except DescriptorError as exc:
                message = str(exc).removeprefix("answers: ")
            field = message.split(":")[0]
            if field not in names or field in self.given or not self.applies(self.order[names.index(field)]):
                raise DescriptorError(message)
            self.echo(f"\n  {message}")
            try:
                while not self.ask(names.index(field)):
                    pass
            except click.Abort:
                raise DescriptorError(message) from None


def ask_descriptor(*, defaults: Optional[Mapping[str, Any]] = None, given: Optional[Mapping[str, Any]] = None,
                   survey: Optional[Survey] = None, folder: "str | Path | None" = None,
                   read: Callable[[str], str] = _read, echo: Callable[[str], None] = click.echo) -> ProjectDescriptor:
    """Ask every descriptor question that applies and validate the answers.

    `defaults`: dotted field -> value shown as the default (e.g. `defaults_from(old)`); `given`: answers fixed on
    the command line (not asked); `survey`: measures the data once data.path is known; `folder`: where the
    descriptor will be written (paths are written relative to it). A validation error at the end names the
    field and re-asks it; with no input left it raises DescriptorError (one line); running out of input
    otherwise raises click.Abort.
    """
    return _Interview(defaults or {}, given or {}, survey, Path(folder) if folder is not None else None,
                      read, echo).run()
