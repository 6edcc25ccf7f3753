"""Model registry (timm style): ``register_model``, ``create_model``, ``list_models``, ``model_info``.

Entry functions live in the family modules (``zoo.classical``, ``zoo.deep``, ``zoo.hybrid``).
``_ENTRY_MODULES`` maps every model name to its module so that listing the zoo imports nothing
heavy; ``create_model`` / ``model_info`` import the defining module on demand.
"""

from __future__ import annotations

import copy
import difflib
import fnmatch
import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

__all__ = [
    "FAMILIES",
    "MODALITIES",
    "ModelInfo",
    "ModelUnavailableError",
    "UnknownModelError",
    "create_model",
    "list_models",
    "model_info",
    "register_model",
]

FAMILIES = ("classical", "deep", "hybrid")
MODALITIES = ("tabular", "image", "text", "time_series")

# name -> module that registers it. Add a line here when adding a model to a family module.
_ENTRY_MODULES: dict[str, str] = {
    # classical
    "tabular_gradient_boosting": "zoo.classical",
    "tabular_random_forest": "zoo.classical",
    "tabular_linear": "zoo.classical",
    "tabular_decision_tree": "zoo.classical",
    "tabular_isolation_forest": "zoo.classical",
    "text_tfidf_linear": "zoo.classical",
    "image_handcrafted_forest": "zoo.classical",
    "image_handcrafted_iforest": "zoo.classical",
    "ts_lag_gradient_boosting": "zoo.classical",
    # deep
    "tabular_mlp": "zoo.deep",
    "tabular_autoencoder": "zoo.deep",
    "image_effnet_lite0_finetune": "zoo.deep",
    "image_conv_autoencoder": "zoo.deep",
    "text_minilm_finetune": "zoo.deep",
    "ts_gru": "zoo.deep",
    # hybrid
    "image_effnet_lite0_features_linear": "zoo.hybrid",
    "image_effnet_lite0_features_iforest": "zoo.hybrid",
    "text_minilm_features_linear": "zoo.hybrid",
}


@dataclass(frozen=True)
class ModelInfo:
    """Metadata of one registered model (``pretrained_cfg`` is read-only data, never weights)."""

    name: str
    family: str
    modality: str
    tasks: tuple[str, ...]
    description: str
    module: str
    pretrained_cfg: Mapping[str, Any] | None = None
    entry: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly dict (without the entry function)."""
        cfg = None if self.pretrained_cfg is None else copy.deepcopy(dict(self.pretrained_cfg))
        return {"name": self.name, "family": self.family, "modality": self.modality,
                "tasks": list(self.tasks), "description": self.description,
                "module": self.module, "pretrained_cfg": cfg}


class UnknownModelError(ValueError):
    """Raised for a model name the zoo does not know; the message lists close matches."""

    def __init__(self, name: str, candidates: Iterable[str] = ()) -> None:
        self.name = name
        self.suggestions = _close_matches(name, list(candidates))
        hint = f"did you mean: {', '.join(self.suggestions)}?" if self.suggestions else "see zoo.list_models()"
        super().__init__(f"unknown model {name!r}; {hint}")


class ModelUnavailableError(ImportError):
    """Raised when a known model cannot be loaded (its module or an optional dependency is missing)."""


_REGISTRY: dict[str, ModelInfo] = {}
_F = TypeVar("_F", bound=Callable[..., Any])


def register_model(*, family: str, modality: str, tasks: Iterable[str], description: str | None = None,
                   pretrained_cfg: Mapping[str, Any] | None = None,
                   name: str | None = None) -> Callable[[_F], _F]:
    """Decorator registering an entry function (``fn(**params) -> estimator``) under its name.

    ``description`` defaults to the first line of the function's docstring.
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
        old = _REGISTRY.get(model_name)
        if old is not None and old.entry is not None and (
                (old.entry.__module__, old.entry.__qualname__) != (fn.__module__, fn.__qualname__)):
            raise ValueError(f"model {model_name!r} is already registered by {old.module}")
        doc = (fn.__doc__ or "").strip().splitlines()
        cfg = None if pretrained_cfg is None else MappingProxyType(copy.deepcopy(dict(pretrained_cfg)))
        _REGISTRY[model_name] = ModelInfo(
            name=model_name, family=family, modality=modality, tasks=task_tuple,
            description=description if description is not None else (doc[0] if doc else ""),
            module=fn.__module__, pretrained_cfg=cfg, entry=fn)
        return fn

    return decorator


def list_models(pattern: str | Iterable[str] = "*", *, module: str | None = None) -> list[str]:
    """Sorted model names matching an fnmatch ``pattern`` (or any of several); imports nothing.

    ``module`` keeps only names defined in that module (e.g. ``"zoo.classical"``).
    """
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    where = dict(_ENTRY_MODULES)
    where.update({n: info.module for n, info in _REGISTRY.items() if n not in where})
    return sorted(n for n, m in where.items()
                  if (module is None or m == module) and any(fnmatch.fnmatchcase(n, p) for p in patterns))


def model_info(name: str) -> ModelInfo:
    """Metadata of ``name`` (imports its family module if it is not loaded yet)."""
    return _load(name)


def create_model(name: str, **params: Any) -> Any:
    """Build an unfitted estimator: ``create_model("tabular_linear", task="regression")``."""
    info = _load(name)
    assert info.entry is not None
    return info.entry(**params)


# The wider zoo: any timm image model or Hugging Face text model by name, fine-tuned like the defaults.
_PREFIXED = {
    "timm/": ("zoo.deep", "ImageEffnetLite0Finetune", "backbone", "image",
              "timm model {id} fine-tuned with a new head (weights: local path, HF cache, or the hub when online)"),
    "hf/": ("zoo.deep", "TextMiniLMFinetune", "model_id", "text",
            "Hugging Face model {id} fine-tuned for sequence classification (local path, HF cache, or the hub)"),
}


def _prefixed(name: str) -> ModelInfo | None:
    for prefix, (module, cls, param, modality, text) in _PREFIXED.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            ident = name[len(prefix):]

            def entry(_cls: str = cls, _param: str = param, _id: str = ident, _module: str = module, **params: Any):
                return getattr(importlib.import_module(_module), _cls)(**{_param: _id, **params})

            return ModelInfo(name=name, family="deep", modality=modality, tasks=("classification",),
                             description=text.format(id=ident), module=module, entry=entry)
    return None


def _load(name: str) -> ModelInfo:
    if name in _REGISTRY:
        return _REGISTRY[name]
    prefixed = _prefixed(name)
    if prefixed is not None:
        return prefixed
    module = _ENTRY_MODULES.get(name)
    if module is None:
        raise UnknownModelError(name, list_models())
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name is not None and (module == err.name or module.startswith(err.name + ".")):
            raise ModelUnavailableError(
                f"model {name!r} belongs to {module}, which is not available yet") from err
        raise ModelUnavailableError(
            f"model {name!r} needs the optional dependency {err.name!r}; "
            "install it with: pip install 'ml-advisor[ml]'") from err
    if name not in _REGISTRY:
        raise ModelUnavailableError(f"{module} was imported but does not register model {name!r}")
    return _REGISTRY[name]


def _close_matches(name: str, candidates: list[str], n: int = 5) -> list[str]:
    key = name.lower()
    found = [c for c in candidates if key and key in c.lower()]
    found += difflib.get_close_matches(key, candidates, n=n, cutoff=0.5)
    return list(dict.fromkeys(found))[:n]
