"""ml-advisor: classical ML, deep learning, or both? An explained recommendation from a project descriptor."""

from typing import Any

from advisor.deciding.engine import recommend
from advisor.deciding.recommendation import Recommendation
from advisor.deciding.schema import DescriptorError, ProjectDescriptor, load_descriptor

__all__ = ["DescriptorError", "ProjectDescriptor", "Recommendation", "Run", "describe", "fit", "load",
           "load_descriptor", "recommend", "render_report"]

_LAZY = {"render_report": "advisor.showing.report", "describe": "advisor.running.describe",
         "fit": "advisor.api", "load": "advisor.api", "Run": "advisor.api"}


def __getattr__(name: str) -> Any:
    """`render_report` (jinja2, the templates), `describe`, `fit`, `load` and `Run` (the ML libraries, when
    called) load only when asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'advisor' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
