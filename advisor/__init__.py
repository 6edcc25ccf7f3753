"""ml-advisor: classical ML, deep learning, or both? An explained recommendation from a project descriptor."""

from typing import Any

from advisor.deciding.engine import recommend
from advisor.deciding.recommendation import Recommendation
from advisor.deciding.schema import DescriptorError, ProjectDescriptor, load_descriptor

__all__ = ["DescriptorError", "ProjectDescriptor", "Recommendation", "load_descriptor", "recommend",
           "render_report"]


def __getattr__(name: str) -> Any:
    """`render_report` loads jinja2 and the templates only when asked for."""
    if name == "render_report":
        from advisor.showing.report import render_report
        return render_report
    raise AttributeError(f"module 'advisor' has no attribute {name!r}")
