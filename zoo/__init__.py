"""ml-advisor model zoo: a timm-style registry of scikit-learn-style estimators.

``import zoo`` is light (no sklearn / torch); estimator classes load lazily on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

from zoo import catalogue
from zoo.registry import (
    ModelInfo,
    ModelUnavailableError,
    UnknownModelError,
    create_model,
    list_models,
    model_info,
    register_model,
)

_HELPERS: dict[str, str] = {
    "HandcraftedImageFeatures": "zoo.features",
    "temporal_train_test_split": "zoo.classical",
    "Dataset": "zoo.data",
    "DataError": "zoo.data",
    "load_dataset": "zoo.data",
    "table_dataset": "zoo.data",
    "split_dataset": "zoo.data",
    "image_problem": "zoo.data",
    "audio_problem": "zoo.audio",
    "video_problem": "zoo.video",
    "evaluate": "zoo.metrics",
    "save_model": "zoo.persist",
    "load_model": "zoo.persist",
    "model_meta": "zoo.persist",
    "library_versions": "zoo.persist",
    "pick_device": "zoo.devices",
    "DeviceChoice": "zoo.devices",
    "WeightsNotFoundError": "zoo.weights",
    "UntrustedModelError": "zoo.trust",
    "checkpointing": "zoo.training",
}
# Every catalogue model's estimator class by its class name (zoo.TabularLinear, ...), loaded on first access.
_LAZY: dict[str, str] = {**{e.class_name: e.module for e in catalogue.CATALOGUE}, **_HELPERS}

__all__ = [
    "ModelInfo",
    "ModelUnavailableError",
    "UnknownModelError",
    "create_model",
    "list_models",
    "model_info",
    "register_model",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
