"""Model registry (timm style): ``create_model``, ``list_models``, ``model_info``, ``register_model``.

Everything is read from :mod:`zoo.catalogue`; listing imports nothing heavy, ``create_model`` imports the
entry point's module on demand and calls its class with the entry's defaults and the caller's parameters.
``register_model`` adds a model at run time (a user's own estimator), beside the catalogue.
"""

from __future__ import annotations

import copy
import difflib
import fnmatch
import importlib
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from zoo import catalogue
from zoo.catalogue import FAMILIES, MODALITIES, Entry

__all__ = ["FAMILIES", "MODALITIES", "ModelInfo", "ModelUnavailableError", "UnknownModelError", "create_model",
           "list_models", "model_info", "register_model"]

ModelInfo = Entry          # what model_info returns: the catalogue record itself


class UnknownModelError(ValueError):
    """Raised for a model name the zoo does not know; the message lists close matches."""

    def __init__(self, name: str, candidates: Iterable[str] = ()) -> None:
        self.name = name
        self.suggestions = _close_matches(name, list(candidates))
        hint = f"did you mean: {', '.join(self.suggestions)}?" if self.suggestions else "see zoo.list_models()"
        super().__init__(f"unknown model {name!r}; {hint}")


class ModelUnavailableError(ImportError):
    """Raised when a known model cannot be loaded (its module or an optional dependency is missing)."""


_RUNTIME: dict[str, tuple[Entry, Callable[..., Any]]] = {}     # models registered by register_model
_F = TypeVar("_F", bound=Callable[..., Any])


def register_model(*, family: str, modality: str, tasks: Iterable[str], architecture: str = "custom",
                   description: str | None = None, pretrained_cfg: Mapping[str, Any] | None = None,
                   name: str | None = None) -> Callable[[_F], _F]:
    """Decorator adding an entry function (``fn(**params) -> estimator``) to the zoo under its name.

    ``description`` defaults to the first line of the function's docstring. Catalogue names cannot be taken.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    if modality not in MODALITIES:
        raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
    task_tuple = (tasks,) if isinstance(tasks, str) else tuple(tasks)
    if not task_tuple or not all(isinstance(t, str) and t for t in task_tuple):
        raise ValueError("tasks must be a non-empty sequence of strings")

    def decorator(fn: _F) -> _F:
        model_name = name or fn.__name__
        if catalogue.entry(model_name) is not None:
            raise ValueError(f"model {model_name!r} is in the zoo's catalogue already")
        doc = (fn.__doc__ or "").strip().splitlines()
        record = Entry(
            name=model_name, family=family, architecture=architecture, modalities=(modality,), tasks=task_tuple,
            entry_point=f"{fn.__module__}:{fn.__qualname__}",
            description=description if description is not None else (doc[0] if doc else ""),
            own_cfg=MappingProxyType(copy.deepcopy(dict(pretrained_cfg))) if pretrained_cfg else None)
        _RUNTIME[model_name] = (record, fn)
        return fn

    return decorator


def list_models(pattern: str | Iterable[str] = "*", *, module: str | None = None,
                family: str | None = None) -> list[str]:
    """Sorted model names matching an fnmatch ``pattern`` (or any of several); imports nothing.

    ``module`` / ``family`` keep only the models of that module (e.g. ``"zoo.classical"``) or family.
    """
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    records = [*catalogue.CATALOGUE, *(r for r, _ in _RUNTIME.values())]
    return sorted(r.name for r in records
                  if (module is None or r.module == module) and (family is None or r.family == family)
                  and any(fnmatch.fnmatchcase(r.name, p) for p in patterns))


def model_info(name: str) -> Entry:
    """The catalogue record of ``name`` (imports nothing)."""
    if name in _RUNTIME:
        return _RUNTIME[name][0]
    record = catalogue.entry(name)
    if record is None:
        raise UnknownModelError(name, list_models())
    return record


def create_model(name: str, **params: Any) -> Any:
    """Build an unfitted estimator: ``create_model("tabular_linear", task="regression")``."""
    if name in _RUNTIME:
        return _RUNTIME[name][1](**params)
    record = model_info(name)
    return _entry_class(record)(**{**record.defaults, **params})


def _entry_class(record: Entry) -> Any:
    module = record.module
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name is not None and (module == err.name or module.startswith(err.name + ".")):
            raise ModelUnavailableError(
                f"model {record.name!r} belongs to {module}, which is not available yet") from err
        raise ModelUnavailableError(
            f"model {record.name!r} needs the optional dependency {err.name!r}; "
            "install it with: pip install 'ml-advisor[ml]'") from err
    cls = getattr(loaded, record.class_name, None)
    if cls is None:
        raise ModelUnavailableError(f"{module} has no {record.class_name} (catalogue entry {record.name!r})")
    return cls


def _close_matches(name: str, candidates: list[str], n: int = 5) -> list[str]:
    key = name.lower()
    found = [c for c in candidates if key and key in c.lower()]
    found += difflib.get_close_matches(key, candidates, n=n, cutoff=0.5)
    return list(dict.fromkeys(found))[:n]
